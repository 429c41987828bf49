/**
 * The one way escalate's pieces are put together: the database (migrations, pool, ESCALATE_CONFIG),
 * the Temporal client, and the worker and/or the API on top of them. `npm start`, `start:api`,
 * `start:worker`, the benchmark, the history recorder and the tests all start through here.
 */
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { ApiKey } from './api/api-keys.js';
import { createApp } from './api/app.js';
import type { ApiDeps } from './api/deps.js';
import { startPendingSweeper } from './api/pending-starts.js';
import { connectTemporalClient, type TemporalConnection, temporalConnectOptions } from './config.js';
import { setConnectPolicy } from './connectors/dispatcher.js';
import { EgressPolicy, egressConnectPolicy } from './connectors/egress.js';
import { connectDatabase, type Database } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { ensureInstallDefaults } from './db/repos/install.js';
import { defaultSettings, type Settings } from './domain/settings.js';
import { applyConfigFile, type ConfigFile } from './infra/config-file.js';
import type { SecretBox } from './infra/secret-box.js';
import type { Tracing } from './infra/tracing.js';
import type { Workflows } from './infra/workflow-client.js';
import { createWorker, type WorkflowBundleOption } from './worker.js';

export interface ServicesOptions {
  logger: Logger;
  databaseUrl: string;
  /** Connections in the pool (default 20). */
  poolSize?: number;
  temporal: TemporalConnection;
  box: SecretBox;
  /** ESCALATE_CONFIG: applied once the migrations ran; its settings are the process's. */
  configFile?: ConfigFile;
  /** Tests: settings laid over the config file's. */
  settings?: Partial<Settings>;
  tracing?: Tracing;
  api?: {
    apiKeys: ApiKey[];
    webhookSecret?: string;
    /** ESCALATE_TEMPORAL_UI_URL: the console links each violation's run there. */
    temporalUiUrl?: string;
    port: number;
    hostname: string;
    /** Start the violations whose workflow start failed (default true). */
    sweepPendingStarts?: boolean;
    /** Web UI origins allowed to call the codec endpoint (ESCALATE_TEMPORAL_UI_ORIGINS). */
    temporalUiOrigins?: string[];
  };
  worker?: {
    workflowBundle: WorkflowBundleOption;
    /** Lower in tests; production defaults suit a 2-core box. */
    maxConcurrentActivityTaskExecutions?: number;
    /** Benchmark experiments: laid over the options createWorker chose. */
    overrides?: Partial<WorkerOptions>;
  };
}

export interface RunningWorker {
  readonly current: Worker;
  /** Resolves when the worker stops; rejects if it dies. */
  readonly running: Promise<void>;
  /** The options Worker.create received (the benchmark reuses them for its baseline worker). */
  readonly options: WorkerOptions;
  stop(): Promise<void>;
  /** A new worker on the same connection (after stop()). */
  start(): Promise<void>;
}

export interface Services {
  database: Database;
  client: Client;
  workflows: Workflows;
  settings: Settings;
  worker?: RunningWorker;
  api?: { url: string; port: number; deps: ApiDeps };
  /** Stops the API, then the worker, then closes the connections and the pool. */
  close(): Promise<void>;
}

/**
 * Migrations run under an advisory lock, so API and worker processes may start together; the
 * install defaults are recorded (once per database); the config file is applied in one transaction
 * (idempotent).
 */
async function openDatabase(opts: ServicesOptions): Promise<Database> {
  await runMigrations(opts.databaseUrl);
  const database = connectDatabase(opts.databaseUrl, { max: opts.poolSize ?? 20 });
  try {
    // Before the config file: a database it fills is still a new install.
    await ensureInstallDefaults(database.db);
    if (opts.configFile) await applyConfigFile(database.db, opts.box, opts.configFile);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}

async function startWorker(
  opts: ServicesOptions,
  workerOpts: NonNullable<ServicesOptions['worker']>,
  deps: Parameters<typeof createWorker>[0]['deps'],
  connection: NativeConnection,
): Promise<RunningWorker> {
  let worker!: Worker;
  let running!: Promise<void>;
  let options!: WorkerOptions;
  const start = async () => {
    ({ worker, options } = await createWorker({
      connection,
      namespace: opts.temporal.namespace,
      taskQueue: opts.temporal.taskQueue,
      deps,
      workflowBundle: workerOpts.workflowBundle,
      maxConcurrentActivityTaskExecutions: workerOpts.maxConcurrentActivityTaskExecutions,
      tracing: opts.tracing,
      payloadCodec: opts.temporal.payloadCodec,
      overrides: workerOpts.overrides,
    }));
    running = worker.run();
    // Observed through `running` by whoever cares; never an unhandled rejection.
    running.catch(() => {});
  };
  const stop = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => {});
  };
  await start();
  return {
    get current() {
      return worker;
    },
    get running() {
      return running;
    },
    get options() {
      return options;
    },
    stop,
    start,
  };
}

function serveApi(deps: ApiDeps, api: NonNullable<ServicesOptions['api']>) {
  const sweeper = api.sweepPendingStarts === false ? undefined : startPendingSweeper(deps);
  return new Promise<{ server: ServerType; port: number; close: () => Promise<void> }>((resolve, reject) => {
    const server = serve({ fetch: createApp(deps).fetch, port: api.port, hostname: api.hostname });
    server.once('error', reject);
    server.once('listening', () =>
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        close: () => {
          sweeper?.stop();
          return new Promise((done) => server.close(() => done()));
        },
      }),
    );
  });
}

export async function startServices(opts: ServicesOptions): Promise<Services> {
  const stops: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    const database = await openDatabase(opts);
    stops.push(() => database.close());
    const settings = { ...(opts.configFile?.settings ?? defaultSettings()), ...opts.settings };
    // With a worker here, the client shares its NativeConnection: a violation's start is then
    // requested eagerly, its first workflow task handed straight to this worker.
    const native = opts.worker
      ? await NativeConnection.connect(temporalConnectOptions(opts.temporal))
      : undefined;
    if (native) stops.push(() => native.close());
    const client = await connectTemporalClient(opts.temporal, {
      interceptors: opts.tracing?.clientInterceptors,
      connection: native,
    });
    if (!native) stops.push(() => client.connection.close());
    const workflows: Workflows = {
      client,
      taskQueue: opts.temporal.taskQueue,
      eagerStart: native !== undefined,
    };

    let worker: RunningWorker | undefined;
    if (opts.worker) {
      // Connector egress (ESCALATE_EGRESS_DENY / _ALLOW): a bad CIDR stops the start, not a delivery.
      setConnectPolicy(egressConnectPolicy(EgressPolicy.fromEnv()));
      const deps = { db: database.db, workflows, box: opts.box, settings, logger: opts.logger };
      worker = await startWorker(opts, opts.worker, deps, native!);
      const w = worker;
      stops.push(() => w.stop());
    }

    let api: Services['api'];
    if (opts.api) {
      const deps: ApiDeps = {
        database,
        workflows,
        box: opts.box,
        settings,
        apiKeys: opts.api.apiKeys,
        webhookSecret: opts.api.webhookSecret,
        logger: opts.logger,
        payloadCodec: opts.temporal.payloadCodec,
        temporalUiOrigins: opts.api.temporalUiOrigins,
        temporalUiUrl: opts.api.temporalUiUrl,
      };
      const served = await serveApi(deps, opts.api);
      stops.push(served.close);
      const host = opts.api.hostname === '0.0.0.0' ? '127.0.0.1' : opts.api.hostname;
      api = { url: `http://${host}:${served.port}`, port: served.port, deps };
    }
    return { database, client, workflows, settings, worker, api, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
