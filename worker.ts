import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PayloadCodec } from '@temporalio/common';
import {
  bundleWorkflowCode,
  makeTelemetryFilterString,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Logger } from 'pino';
import { type ActivityDeps, createActivities } from './activities/index.js';
import {
  connectTemporalClient,
  type TemporalConnection,
  temporalConnectionFromEnv,
  temporalConnectOptions,
} from './config.js';
import { openDatabase } from './db/open.js';
import { activityLogContext } from './infra/activity-log-context.js';
import { loadConfigFile } from './infra/config-file.js';
import { createLogger } from './infra/logger.js';
import {
  type HealthCheck,
  type MetricsServer,
  metricsPortFromEnv,
  scrapeText,
  serveMetrics,
} from './infra/metrics.js';
import { payloadDataConverter } from './infra/payload-codec.js';
import { freePort } from './infra/ports.js';
import { SecretBox } from './infra/secret-box.js';
import { resolveSecretKey } from './infra/secret-key.js';
import { temporalLogger } from './infra/temporal-logger.js';
import { type Tracing, tracingFromEnv, WORKFLOW_TRACING_MODULE } from './infra/tracing.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

/**
 * Bundle once per process; every worker created after reuses it. With `tracing`, the workflow
 * side of the OpenTelemetry interceptors is bundled in (workers then need `tracing` too).
 */
export function bundleWorkflows(opts: { tracing?: boolean } = {}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quietBundlerLogger,
    workflowInterceptorModules: opts.tracing ? [WORKFLOW_TRACING_MODULE] : [],
  });
}

/** File names `npm run build` gives the bundles it writes into ESCALATE_WORKFLOW_BUNDLE_DIR. */
export const BUNDLE_FILES = { plain: 'workflows.js', tracing: 'workflows.tracing.js' } as const;

/**
 * The workflow bundle for this worker: the one `npm run build` made ahead of time when
 * ESCALATE_WORKFLOW_BUNDLE_DIR is set (the image does: no bundling at start), else bundled now.
 */
export async function workerWorkflowBundle(
  opts: { tracing?: boolean; dir?: string } = {},
): Promise<WorkerOptions['workflowBundle']> {
  const dir = opts.dir ?? process.env.ESCALATE_WORKFLOW_BUNDLE_DIR;
  if (!dir) return bundleWorkflows(opts);
  const codePath = join(dir, opts.tracing ? BUNDLE_FILES.tracing : BUNDLE_FILES.plain);
  if (!existsSync(codePath))
    throw new Error(`ESCALATE_WORKFLOW_BUNDLE_DIR=${dir} has no ${codePath}: run npm run build`);
  return { codePath };
}

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  workflowBundle: NonNullable<Parameters<typeof Worker.create>[0]['workflowBundle']>;
  /** Lower in tests; production defaults suit a 2-core box. */
  maxConcurrentActivityTaskExecutions?: number;
  /** OpenTelemetry (infra/tracing.ts); the bundle must have been made with `tracing: true`. */
  tracing?: Tracing;
  /** Payload encryption (infra/payload-codec.ts), the same the clients use. */
  payloadCodec?: PayloadCodec;
}

export function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: opts.workflowBundle,
    dataConverter: payloadDataConverter(opts.payloadCodec),
    activities: createActivities(opts.deps),
    interceptors: { activity: [activityLogContext, ...(opts.tracing?.activityInterceptors ?? [])] },
    sinks: opts.tracing?.sinks,
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions ?? 200,
    maxConcurrentWorkflowTaskExecutions: 40,
    maxCachedWorkflows: 2000,
    // Connector calls are I/O bound: many activities in flight cost little.
    shutdownGraceTime: '10s',
  });
}

/**
 * Installs the process's Temporal Runtime: the SDK's logs (worker, workflows, activities, and the
 * Rust core's warnings) go through `logger` as JSON lines, and with `metricsBindAddress`
 * (`host:port`) its Prometheus exporter serves the `temporal_*` worker metrics (task slots, poll
 * and schedule-to-start latencies, sticky cache...) on `/metrics`. It must run before the first
 * NativeConnection or Worker, and only once per process (later calls change nothing). A metrics
 * port that cannot be bound is logged and the Runtime installed without it. Answers whether the
 * metrics exporter runs.
 */
export function installTemporalRuntime(logger: Logger, metricsBindAddress?: string): boolean {
  if (Runtime._instance) return false;
  const logging = {
    filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }),
    forward: {},
  };
  const runtimeLogger = temporalLogger(logger);
  if (metricsBindAddress) {
    try {
      Runtime.install({
        logger: runtimeLogger,
        telemetryOptions: { logging, metrics: { prometheus: { bindAddress: metricsBindAddress } } },
      });
      return true;
    } catch (err) {
      logger.warn(
        { err: (err as Error).message, bind_address: metricsBindAddress },
        'Temporal metrics exporter not started',
      );
    }
  }
  Runtime.install({ logger: runtimeLogger, telemetryOptions: { logging } });
  return false;
}

/**
 * A standalone worker's metrics on `ESCALATE_WORKER_METRICS_PORT` (unset: none): one `/metrics`
 * with escalate's own (`escalate_*`, process) and the Temporal SDK's (`temporal_*`, from its
 * exporter bound on a private loopback port), and `/healthz` answering from `health`.
 */
export async function startWorkerMetrics(
  logger: Logger,
  health?: HealthCheck,
): Promise<MetricsServer | undefined> {
  const port = metricsPortFromEnv(process.env.ESCALATE_WORKER_METRICS_PORT);
  if (!port) return undefined;
  const temporalPort = await freePort();
  const temporalUrl = `http://127.0.0.1:${temporalPort}/metrics`;
  const withTemporal = installTemporalRuntime(logger, `127.0.0.1:${temporalPort}`);
  const server = await serveMetrics({
    port,
    host: process.env.HOST ?? '0.0.0.0',
    extra: withTemporal ? () => scrapeText(temporalUrl) : undefined,
    health,
  });
  logger.info({ port: server.port, temporal: withTemporal }, 'worker metrics on /metrics');
  return server;
}

export function connectWorkerTemporal(conn: TemporalConnection): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectOptions(conn));
}

/** `npm run start:worker`: a stateless worker process against PostgreSQL and a Temporal cluster. */
async function main() {
  const logger = createLogger({ name: 'escalate-worker' });
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl)
    throw new Error('DATABASE_URL is required (npm start runs an embedded PostgreSQL for you)');
  const conn = temporalConnectionFromEnv();
  const box = new SecretBox(resolveSecretKey());
  const configFile = loadConfigFile(process.env.ESCALATE_CONFIG);
  let worker: Worker | undefined;
  // Healthy while polling; 503 while starting, draining or after a fatal error.
  const health: HealthCheck = () => {
    const state = worker?.getState() ?? 'STARTING';
    return { ok: state === 'RUNNING', status: state.toLowerCase() };
  };
  // Before any Temporal connection: the Runtime (with its metrics exporter) is installed once.
  const metricsServer = await startWorkerMetrics(logger, health);
  if (!metricsServer) installTemporalRuntime(logger);
  const database = await openDatabase(databaseUrl, box, configFile);
  const connection = await connectWorkerTemporal(conn);
  const tracing = tracingFromEnv('escalate-worker');
  const temporal = await connectTemporalClient(conn, { interceptors: tracing?.clientInterceptors });
  const workflowBundle = await workerWorkflowBundle({ tracing: tracing !== undefined });
  worker = await createWorker({
    connection,
    namespace: conn.namespace,
    taskQueue: conn.taskQueue,
    deps: {
      db: database.db,
      temporal,
      taskQueue: conn.taskQueue,
      box,
      settings: configFile.settings,
      logger,
    },
    workflowBundle,
    tracing,
    payloadCodec: conn.payloadCodec,
  });
  logger.info(
    {
      taskQueue: conn.taskQueue,
      namespace: conn.namespace,
      address: conn.address,
      workflow_bundle: 'codePath' in workflowBundle ? workflowBundle.codePath : 'bundled at start',
      payload_encryption: conn.payloadCodec !== undefined,
    },
    'worker running',
  );
  await worker.run();
  await connection.close();
  await temporal.connection.close();
  await database.close();
  await tracing?.shutdown();
  await metricsServer?.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
