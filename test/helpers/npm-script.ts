/**
 * `npm run <script>` as an operator starts it, in its own process group so that a test can kill
 * all of it at once (npm, tsx and the node process running escalate): SIGKILL to the group is a
 * machine dying, SIGTERM a graceful stop.
 */
import { fileURLToPath } from 'node:url';
import { type CapturedProcess, spawnCaptured } from './child-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ScriptProcess extends CapturedProcess {
  /** Sends `signal` to the whole process group. */
  kill(signal: NodeJS.Signals): void;
}

export function runNpmScript(script: string, env: NodeJS.ProcessEnv, cwd = ROOT): ScriptProcess {
  const proc = spawnCaptured('npm', ['run', '--silent', script], {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
  });
  const { child } = proc;
  return {
    ...proc,
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
