/**
 * A worker in a child process, so that tests can kill it for real (SIGKILL: no shutdown, no
 * graceful activity completion, sockets torn down by the OS).
 *
 * Run as a script (`node --import tsx test/helpers/worker-process.ts`) it reads:
 *   TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE (default `default`), TEMPORAL_TASK_QUEUE, DATABASE_URL,
 *   ESCALATE_SECRET_KEY, ESCALATE_TEST_WORKFLOW_BUNDLE (path of a pre-built workflow bundle),
 *   ESCALATE_TEST_MAX_ACTIVITIES (optional)
 * and runs `createWorker`, printing `WORKER_READY` on stdout once the worker polls.
 *
 * Imported, `spawnWorkerProcess()` starts such a child and resolves once it is ready.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const READY = 'WORKER_READY';
const SELF = fileURLToPath(import.meta.url);

export interface WorkerProcessOptions {
  temporalAddress: string;
  namespace?: string;
  taskQueue: string;
  databaseUrl: string;
  secretKey: string;
  workflowBundlePath: string;
  maxConcurrentActivityTaskExecutions?: number;
  /** Extra environment (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
  /** Time allowed for the child to connect and create its worker. */
  startTimeoutMs?: number;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** The child's last output (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGKILL: the process dies at once, whatever it was doing. Resolves once it exited. */
  kill(): Promise<void>;
  /** SIGTERM (graceful worker shutdown), SIGKILL after `graceMs`. Resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: boolean;
}

export async function spawnWorkerProcess(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: opts.temporalAddress,
    TEMPORAL_NAMESPACE: opts.namespace ?? 'default',
    TEMPORAL_TASK_QUEUE: opts.taskQueue,
    DATABASE_URL: opts.databaseUrl,
    ESCALATE_SECRET_KEY: opts.secretKey,
    ESCALATE_TEST_WORKFLOW_BUNDLE: opts.workflowBundlePath,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    ...(opts.maxConcurrentActivityTaskExecutions
      ? { ESCALATE_TEST_MAX_ACTIVITIES: String(opts.maxConcurrentActivityTaskExecutions) }
      : {}),
    ...opts.env,
  };
  // Vitest's own loader hooks must not leak into the child.
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  delete env.VITEST_POOL_ID;
  delete env.VITEST_WORKER_ID;
  const child = spawn(process.execPath, ['--import', 'tsx', SELF], {
    env,
    // stdin stays open as a lifeline: when this process dies, the child sees EOF and exits.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stderr?.on('data', append);
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const isExited = () => child.exitCode !== null || child.signalCode !== null;

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker process not ready within ${opts.startTimeoutMs ?? 60_000} ms:\n${output}`));
    }, opts.startTimeoutMs ?? 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      append(chunk);
      if (output.includes(READY)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });

  const signalAndWait = async (signal: NodeJS.Signals, graceMs?: number) => {
    if (isExited()) return;
    child.kill(signal);
    const timer = graceMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), graceMs) : undefined;
    await exit;
    if (timer) clearTimeout(timer);
  };

  return {
    child,
    pid: child.pid!,
    output: () => output,
    kill: () => signalAndWait('SIGKILL'),
    stop: (graceMs = 15_000) => signalAndWait('SIGTERM', graceMs),
    get exited() {
      return isExited();
    },
  };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** The child: one worker on the given task queue, until SIGTERM (graceful) or SIGKILL. */
async function main() {
  const [{ DefaultLogger, Runtime }, { createLogger }, { SecretBox }, { startServices }] = await Promise.all([
    import('@temporalio/worker'),
    import('../../infra/logger.js'),
    import('../../infra/secret-box.js'),
    import('../../services.js'),
  ]);
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    shutdownSignals: ['SIGTERM', 'SIGINT'],
  });
  const maxActivities = process.env.ESCALATE_TEST_MAX_ACTIVITIES;
  const services = await startServices({
    logger: createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
    databaseUrl: required('DATABASE_URL'),
    temporal: {
      address: required('TEMPORAL_ADDRESS'),
      namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: required('TEMPORAL_TASK_QUEUE'),
    },
    box: new SecretBox(required('ESCALATE_SECRET_KEY')),
    worker: {
      workflowBundle: { codePath: required('ESCALATE_TEST_WORKFLOW_BUNDLE') },
      maxConcurrentActivityTaskExecutions: maxActivities ? Number(maxActivities) : undefined,
    },
  });
  // The parent (test process) is gone: do not linger as an orphan polling the task queue.
  process.stdin.on('end', () => process.exit(2));
  process.stdin.resume();
  process.stdout.write(`${READY} ${process.pid}\n`);
  // SIGTERM: the Runtime shuts the worker down gracefully; then the rest closes.
  await services.worker!.running;
  await services.close();
  process.exit(0);
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  main().catch((err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
