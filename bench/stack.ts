/**
 * The stack `npm run bench` measures, all started here in a temp dir and all stopped by `stop()`:
 * its own Temporal dev server (headless, file-backed SQLite so its size can be reported), its own
 * embedded PostgreSQL, the fakes (child process), the API over real HTTP and two workers in this
 * process (escalate's, built by `createWorker`, and the baseline's with the very same options).
 *
 * Layout on purpose: API + escalate worker + baseline worker + load generator share this Node
 * process (one event loop), as `npm start` runs API and worker together; the fakes run in a
 * child process so their in-memory stores stay out of the reported RSS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import postgres from 'postgres';
import { parseApiKeys } from '../api/api-keys.js';
import type { Database } from '../db/client.js';
import { defaultSettings } from '../domain/settings.js';
import { type EmbeddedPg, startEmbeddedPostgres } from '../infra/embedded-postgres.js';
import { createLogger } from '../infra/logger.js';
import { freePort } from '../infra/ports.js';
import { SecretBox } from '../infra/secret-box.js';
import { resolveTemporalCli, temporalCliVersion } from '../infra/temporal-cli.js';
import { type DevServer, startDevServer, stopProcess } from '../infra/temporal-dev-server.js';
import { startServices } from '../services.js';
import { jiraConnector } from '../test/helpers/events.js';
import { bundleWorkflows } from '../worker.js';
import { SPLUNK_TOKEN } from './config.js';
import { Processes, postgresPids } from './probes.js';

const root = resolve(import.meta.dirname, '..');
export const TASK_QUEUE = 'escalate-bench';
export const BASELINE_QUEUE = 'escalate-bench-baseline';
export const DATABASE = 'escalate';
const NAMESPACE = 'default';

/** Warnings of the Temporal SDK (worker, core) by kind, since the start: phases report deltas. */
export const sdkWarnings: Record<string, number> = {};

function sdkWarningKind(message: string): string {
  if (/TMPRL1104|Workflow task duration exceeded/.test(message)) return 'workflow task took > 5 s';
  if (/Task not found when completing/.test(message)) return 'workflow task timed out before completion';
  return message.replace(/[0-9a-f-]{36}/g, '…').slice(0, 80);
}

export const say = (m: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

interface FakesProcess {
  child: ChildProcess;
  jira: string;
  splunk: string;
  stats(): Promise<{ jiraIssues: number; jiraDuplicateCreates: number; splunkEvents: number }>;
}

async function startFakes(): Promise<FakesProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./fakes-server.ts', import.meta.url))],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const waiters: ((line: Record<string, unknown>) => void)[] = [];
  lines.on('line', (line) => {
    try {
      waiters.shift()?.(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not ours
    }
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fakes process did not answer')), 30_000);
      waiters.push((v) => {
        clearTimeout(timer);
        resolve(v);
      });
      child.once('exit', (code) => reject(new Error(`fakes process exited (${code})`)));
    });
  const ready = await next();
  return {
    child,
    jira: String(ready.jira),
    splunk: String(ready.splunk),
    async stats() {
      const answer = next();
      child.stdin!.write('stats\n');
      return (await answer).stats as Awaited<ReturnType<FakesProcess['stats']>>;
    },
  };
}

export interface BenchStack {
  root: string;
  apiUrl: string;
  apiKey: string;
  webhookSecret: string;
  /** Empty when the dev server runs in memory. */
  temporalDbFile: string;
  pgDataDir: string;
  temporalCli: string;
  temporalVersion: string;
  /** A client of its own for the bench's direct starts (baseline, scale run). */
  client: Client;
  /** The API's and activities' client (what production uses). */
  appClient: Client;
  database: Database;
  /** Bench-only queries (completion polling, sizes, counters): its own small pool. */
  benchSql: postgres.Sql;
  fakes: FakesProcess;
  processes: Processes;
  connectors: { jira: string; splunk: string };
  /** The options createWorker passed to Worker.create, as used for the baseline worker too. */
  workerOptions: Record<string, unknown>;
  escalateWorker: Worker;
  baselineWorker: Worker;
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

/** Registry of what started, stopped in reverse order (also on failure half-way). */
class Stops {
  private readonly stops: { what: string; fn: () => Promise<unknown> }[] = [];
  add(what: string, fn: () => Promise<unknown>) {
    this.stops.push({ what, fn });
  }
  async run() {
    for (const { what, fn } of this.stops.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        say(`stopping ${what} failed: ${(err as Error).message}`);
      }
    }
  }
}

export interface StackOptions {
  temporalDb: 'file' | 'memory';
  /** Experiments only (BENCH_WORKER_OPTIONS): merged over createWorker's options, for both workers. */
  workerOverrides: Partial<WorkerOptions>;
}

export async function startBenchStack(opts: StackOptions): Promise<BenchStack> {
  const stops = new Stops();
  try {
    return await start(stops, opts);
  } catch (err) {
    await stops.run();
    throw err;
  }
}

async function start(stops: Stops, opts: StackOptions): Promise<BenchStack> {
  const dir = mkdtempSync(join(tmpdir(), 'escalate-bench-'));
  // embedded-postgres runs initdb as an unprivileged user when we are root: it must reach its dir.
  chmodSync(dir, 0o755);
  stops.add('temp dir', async () => rmSync(dir, { recursive: true, force: true }));
  Runtime.install({
    // Native (Rust core) logs are forwarded here so overload warnings can be counted per phase.
    logger: new DefaultLogger('WARN', (entry) => {
      const key = sdkWarningKind(entry.message);
      sdkWarnings[key] = (sdkWarnings[key] ?? 0) + 1;
      if (sdkWarnings[key] <= 3 || process.env.BENCH_SDK_LOGS)
        process.stderr.write(
          `[temporal ${entry.level}] ${entry.message}${sdkWarnings[key] === 3 ? ' (further ones counted, not printed)' : ''}\n`,
        );
    }),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
  });

  const cli = resolveTemporalCli({ root, log: say });
  if (!cli) throw new Error('no Temporal CLI: set TEMPORAL_CLI_PATH (see infra/temporal-cli.ts)');
  const [temporalPort, pgPort] = [await freePort(), await freePort()];
  const temporalDbFile = opts.temporalDb === 'file' ? join(dir, 'temporal.db') : '';
  const pgDataDir = join(dir, 'pg');
  say(
    `starting Temporal dev server (:${temporalPort}, ${temporalDbFile || 'in memory'}), PostgreSQL (:${pgPort}), fakes`,
  );

  const started = await Promise.allSettled([
    startDevServer({
      cli,
      port: temporalPort,
      headless: true,
      dbFile: temporalDbFile || undefined,
      logLevel: 'error',
    }),
    startEmbeddedPostgres({ dataDir: pgDataDir, port: pgPort, persistent: false }),
    startFakes(),
    bundleWorkflows(),
    bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./baseline-workflows.ts', import.meta.url)),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
    }),
  ] as const);
  const [temporalR, pgR, fakesR, bundleR, baselineBundleR] = started;
  if (temporalR.status === 'fulfilled') stops.add('Temporal dev server', () => temporalR.value.stop());
  if (pgR.status === 'fulfilled') stops.add('PostgreSQL', () => pgR.value.stop());
  if (fakesR.status === 'fulfilled') stops.add('fakes', () => stopProcess(fakesR.value.child, 5000));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const temporal = (temporalR as PromiseFulfilledResult<DevServer>).value;
  const pg = (pgR as PromiseFulfilledResult<EmbeddedPg>).value;
  const fakes = (fakesR as PromiseFulfilledResult<FakesProcess>).value;
  const bundle = (bundleR as PromiseFulfilledResult<Awaited<ReturnType<typeof bundleWorkflows>>>).value;
  const baselineBundle = (
    baselineBundleR as PromiseFulfilledResult<Awaited<ReturnType<typeof bundleWorkflows>>>
  ).value;

  await pg.createDatabase(DATABASE);
  const databaseUrl = pg.url(DATABASE);
  const box = new SecretBox(SecretBox.generateKey());
  const logger = createLogger({ name: 'escalate-bench', level: process.env.LOG_LEVEL ?? 'warn' });
  const apiKey = `esk_${randomBytes(24).toString('base64url')}`;
  const webhookSecret = randomBytes(24).toString('hex');

  // API + escalate worker exactly as `npm start` puts them together (same pool size too).
  const services = await startServices({
    logger,
    databaseUrl,
    temporal: { address: temporal.address, namespace: NAMESPACE, taskQueue: TASK_QUEUE },
    box,
    settings: defaultSettings(),
    worker: { workflowBundle: bundle, overrides: opts.workerOverrides },
    api: {
      apiKeys: parseApiKeys(`${apiKey}:admin`),
      webhookSecret,
      port: 0,
      hostname: '127.0.0.1',
    },
  });
  stops.add('escalate API and worker', () => services.close());
  const { database, client: appClient } = services;
  const escalateWorker = services.worker!.current;
  const options = services.worker!.options;
  const apiUrl = services.api!.url;
  const benchSql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  stops.add('bench pool', () => benchSql.end({ timeout: 5 }));

  const loadConnection = await Connection.connect({ address: temporal.address });
  stops.add('bench client connection', () => loadConnection.close());
  const client = new Client({ connection: loadConnection, namespace: NAMESPACE });

  const baselineConnection = await NativeConnection.connect({ address: temporal.address });
  stops.add('baseline worker connection', () => baselineConnection.close());
  const baselineWorker = await Worker.create({
    ...options,
    connection: baselineConnection,
    taskQueue: BASELINE_QUEUE,
    workflowBundle: baselineBundle,
    activities: { noop: async () => {} },
  });
  const baselineRun = baselineWorker.run();
  stops.add('baseline worker', async () => {
    if (baselineWorker.getState() === 'RUNNING') baselineWorker.shutdown();
    await baselineRun;
  });

  const api = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    headers.set('authorization', `Bearer ${apiKey}`);
    if (json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${apiUrl}${path}`, {
      ...rest,
      headers,
      body: json !== undefined ? JSON.stringify(json) : rest.body,
    });
  };

  const createConnector = async (body: Record<string, unknown>) => {
    const res = await api('/v1/connectors', { method: 'POST', json: body });
    if (res.status !== 201)
      throw new Error(`creating connector ${body.name}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  // Production retry defaults (no FAST_RETRY): with zero-latency fakes nothing should retry anyway.
  const connectors = {
    jira: await createConnector({ ...jiraConnector(fakes.jira), name: 'bench-jira', retry: undefined }),
    splunk: await createConnector({
      name: 'bench-splunk',
      kind: 'splunk',
      config: { hec_url: fakes.splunk, hec_token: SPLUNK_TOKEN, index: 'security' },
    }),
  };

  const processes = new Processes({
    bench: () => [process.pid],
    temporal: () => (temporal.process.pid ? [temporal.process.pid] : []),
    postgres: () => postgresPids(pgDataDir),
    fakes: () => (fakes.child.pid ? [fakes.child.pid] : []),
  });

  const workerOptions = Object.fromEntries(
    Object.entries(options).filter(
      ([k, v]) => !['connection', 'activities', 'workflowBundle'].includes(k) && typeof v !== 'object',
    ),
  );

  return {
    root: dir,
    apiUrl,
    apiKey,
    webhookSecret,
    temporalDbFile,
    pgDataDir,
    temporalCli: cli,
    temporalVersion: temporalCliVersion(cli),
    client,
    appClient,
    database,
    benchSql,
    fakes,
    processes,
    connectors,
    workerOptions,
    escalateWorker,
    baselineWorker,
    api,
    stop: () => stops.run(),
  };
}
