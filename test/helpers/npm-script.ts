/**
 * `npm run <script>` as an operator starts it, in its own process group so that a test can kill
 * all of it at once (npm, tsx and the node process running escalate): SIGKILL to the group is a
 * machine dying, SIGTERM a graceful stop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ScriptProcess {
  child: ChildProcess;
  /** The last 40 kB of stdout and stderr. */
  output(): string;
  /** JSON log lines printed so far. */
  logLines(): Record<string, unknown>[];
  /** Exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` to the whole process group. */
  kill(signal: NodeJS.Signals): void;
}

export function runNpmScript(script: string, env: NodeJS.ProcessEnv, cwd = ROOT): ScriptProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // Vitest's loader hooks must not leak into the child.
  for (const k of ['NODE_OPTIONS', 'VITEST', 'VITEST_POOL_ID', 'VITEST_WORKER_ID']) delete childEnv[k];
  const child = spawn('npm', ['run', '--silent', script], { cwd, env: childEnv, detached: true });
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-40_000);
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
    kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    },
  };
}
