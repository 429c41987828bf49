/**
 * The production entry points, as docker-compose runs them: `npm run start:api`
 * (scripts/start-api.ts) and `npm run start:worker` (scripts/start-worker.ts) as separate processes
 * against PostgreSQL and Temporal, the connectors from an ESCALATE_CONFIG file. A violation posted to one is ticketed by the other, and
 * both stop cleanly on SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { freePort } from '../../infra/ports.js';
import { SecretBox } from '../../infra/secret-box.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type CapturedProcess, spawnCaptured } from '../helpers/child-process.js';
import { eventually, makeEvent } from '../helpers/events.js';
import { createTestDatabase } from '../helpers/stack.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KEY = 'prod-entry-admin-key-0123456789';

type Proc = CapturedProcess;

/** What `npm run <script>` runs, without npm in between (so signals reach it). */
const run = (script: string, env: NodeJS.ProcessEnv): Proc =>
  spawnCaptured(
    process.execPath,
    ['--import', 'tsx', script],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
    },
    20_000,
  );

let jira: FakeJira;
let dir: string;
let api: Proc | undefined;
let worker: Proc | undefined;
let url: string;

beforeAll(async () => {
  jira = await startFakeJira();
  dir = mkdtempSync(join(tmpdir(), 'escalate-prod-'));
  const config = join(dir, 'escalate.yaml');
  writeFileSync(
    config,
    [
      'connectors:',
      '  - id: jira-prod',
      '    name: Jira (prod entry test)',
      '    kind: jira',
      `    config: { base_url: "${jira.url}", api: cloud, email: bot@example.com, api_token: "\${JIRA_TOKEN}", project_key: SEC, issue_type: Task }`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL: await createTestDatabase(),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `prod-${randomUUID()}`,
    ESCALATE_SECRET_KEY: SecretBox.generateKey(),
    ESCALATE_API_KEYS: `${KEY}:admin`,
    ESCALATE_CONFIG: config,
    JIRA_TOKEN: 'cloud-token', // what the fake Jira accepts
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };
  api = run('scripts/start-api.ts', env);
  worker = run('scripts/start-worker.ts', env);
  await eventually(
    async () => (await fetch(`${url}/readyz`)).status === 200,
    90_000,
    `the API to be ready:\n${api.output()}`,
  );
  await eventually(async () => worker!.output().includes('"worker running"'), 120_000, 'the worker to run');
}, 240_000);

afterAll(async () => {
  for (const p of [api, worker]) if (p && p.child.exitCode === null) p.child.kill('SIGKILL');
  await jira?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('a violation posted to the API process is ticketed by the worker process', async () => {
  const event = makeEvent({ severity: 'critical' });
  const res = await fetch(`${url}/v1/violations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  expect(res.status).toBe(202);
  const externalId = await eventually(
    async () => {
      const v = (await (
        await fetch(`${url}/v1/violations/${event.event_id}`, { headers: { authorization: `Bearer ${KEY}` } })
      ).json()) as { status: string; tickets: { external_id: string | null }[] };
      if (v.status === 'processing') return undefined;
      expect(v.status).toBe('completed');
      return v.tickets[0]?.external_id;
    },
    90_000,
    'the violation to complete with its ticket',
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\nworker:\n${worker!.output()}\napi:\n${api!.output()}`);
  });
  const issue = jira.issues.get(externalId)!;
  expect(issue.fields.labels.some((l) => l.startsWith('escalate-'))).toBe(true);
  // Both log JSON lines naming the event.
  const lines = (p: Proc) =>
    p
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines(api!).some((l) => l.msg === 'request' && l.event_id === event.event_id)).toBe(true);
  expect(api!.output()).not.toContain(KEY);
  expect(worker!.output()).not.toContain('cloud-token');
});

it('both stop cleanly on SIGTERM', async () => {
  api!.child.kill('SIGTERM');
  worker!.child.kill('SIGTERM');
  expect((await api!.exited).code).toBe(0);
  expect((await worker!.exited).code).toBe(0);
});
