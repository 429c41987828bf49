import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PayloadCodec } from '@temporalio/common';
import {
  bundleWorkflowCode,
  makeTelemetryFilterString,
  type NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Logger } from 'pino';
import { type ActivityDeps, createActivities } from './activities/index.js';
import { activityLogContext } from './infra/activity-log-context.js';
import {
  type HealthCheck,
  type MetricsServer,
  metricsPortFromEnv,
  scrapeText,
  serveMetrics,
} from './infra/metrics.js';
import { payloadDataConverter } from './infra/payload-codec.js';
import { freePort } from './infra/ports.js';
import { temporalLogger } from './infra/temporal-logger.js';
import { type Tracing, WORKFLOW_TRACING_MODULE } from './infra/tracing.js';

/** The workflows' entry: `.ts` in a checkout, `.js` in the compiled output (`npm run build`). */
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`./workflows/index${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

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

/** A bundle made by `bundleWorkflows`, or the path of one written to disk. */
export type WorkflowBundleOption = NonNullable<WorkerOptions['workflowBundle']>;

/** File names `npm run build` gives the bundles it writes into ESCALATE_WORKFLOW_BUNDLE_DIR. */
export const BUNDLE_FILES = { plain: 'workflows.js', tracing: 'workflows.tracing.js' } as const;

/**
 * The workflow bundle for this worker: the one `npm run build` made ahead of time when
 * ESCALATE_WORKFLOW_BUNDLE_DIR is set (the image does: no bundling at start), else bundled now.
 */
export async function workerWorkflowBundle(
  opts: { tracing?: boolean; dir?: string } = {},
): Promise<WorkflowBundleOption> {
  const dir = opts.dir ?? process.env.ESCALATE_WORKFLOW_BUNDLE_DIR;
  if (!dir) return bundleWorkflows(opts);
  const codePath = join(dir, opts.tracing ? BUNDLE_FILES.tracing : BUNDLE_FILES.plain);
  if (!existsSync(codePath))
    throw new Error(`ESCALATE_WORKFLOW_BUNDLE_DIR=${dir} has no ${codePath}: run npm run build`);
  return { codePath };
}

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  workflowBundle: WorkflowBundleOption;
  /** Lower in tests; production defaults suit a 2-core box. */
  maxConcurrentActivityTaskExecutions?: number;
  /** OpenTelemetry (infra/tracing.ts); the bundle must have been made with `tracing: true`. */
  tracing?: Tracing;
  /** Payload encryption (infra/payload-codec.ts), the same the clients use. */
  payloadCodec?: PayloadCodec;
  /** Benchmark experiments: laid over the options chosen here. */
  overrides?: Partial<WorkerOptions>;
}

/**
 * Production defaults, for a 2-core box running API and worker in one process within 1 GiB.
 * Connector calls are I/O bound: many activities in flight cost little. The sticky cache holds
 * the runs that are awake; a ticket's run sleeps uncached until its first deadline (it starts
 * with a start delay), so 10,000 open tickets do not need 10,000 cached runs. Measured
 * (bench/RESULTS.md, scale run): ≈ 140–170 KiB of RSS per cached ticket run, the bench process
 * (API, both workers, load generator) 664 MiB with 300 cached and 835 MiB with 1,200: a full
 * cache of 2,000 ≈ 0.95 GiB.
 */
export const WORKER_DEFAULTS = {
  maxConcurrentActivityTaskExecutions: 200,
  // First attempts of deliveries run as local activities beside the bookkeeping ones: as many
  // slots as for activities, so ITSMs hanging on their first attempts cannot starve planning.
  maxConcurrentLocalActivityExecutions: 200,
  maxConcurrentWorkflowTaskExecutions: 40,
  maxCachedWorkflows: 2000,
  shutdownGraceTime: '10s',
} as const;

/** The options `createWorker` gives Worker.create: the defaults, then the caller's choices. */
export function workerOptions(opts: CreateWorkerOptions): WorkerOptions {
  return {
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: opts.workflowBundle,
    dataConverter: payloadDataConverter(opts.payloadCodec),
    activities: createActivities(opts.deps),
    interceptors: { activity: [activityLogContext, ...(opts.tracing?.activityInterceptors ?? [])] },
    sinks: opts.tracing?.sinks,
    ...WORKER_DEFAULTS,
    maxConcurrentActivityTaskExecutions:
      opts.maxConcurrentActivityTaskExecutions ?? WORKER_DEFAULTS.maxConcurrentActivityTaskExecutions,
    ...opts.overrides,
  };
}

/** The worker and the very options it was created with. */
export async function createWorker(
  opts: CreateWorkerOptions,
): Promise<{ worker: Worker; options: WorkerOptions }> {
  const options = workerOptions(opts);
  return { worker: await Worker.create(options), options };
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
