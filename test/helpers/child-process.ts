/**
 * A child process whose output (stdout and stderr, the last `keep` characters) is kept for
 * assertions and failure messages, started without Vitest's loader hooks in its environment.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

export interface CapturedProcess {
  child: ChildProcess;
  output(): string;
  /** JSON log lines printed so far. */
  logLines(): Record<string, unknown>[];
  /** Exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The environment without Vitest's own variables (its loader hooks must not leak into children). */
export function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const k of ['NODE_OPTIONS', 'VITEST', 'VITEST_POOL_ID', 'VITEST_WORKER_ID']) delete out[k];
  return out;
}

export function spawnCaptured(
  command: string,
  args: string[],
  options: SpawnOptions & { env: NodeJS.ProcessEnv },
  keep = 40_000,
): CapturedProcess {
  const child = spawn(command, args, { ...options, env: childEnv(options.env) });
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-keep);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    logLines: () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    exited,
  };
}
