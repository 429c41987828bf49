import {
  markViolationStarted,
  markViolationStartRefused,
  pendingStarts,
  storedCompactEvent,
} from '../db/repos/violations.js';
import { violationsUnstarted } from '../infra/metrics.js';
import { startViolation, temporalRejection } from '../infra/workflow-client.js';
import { isUnavailable } from './app.js';
import type { ApiDeps } from './deps.js';

/**
 * A violation is stored before its workflow starts; if Temporal failed in between, the client
 * got a 503 and normally retries (same body → started then). Should it not, this sweep starts
 * what was left behind, oldest first, one row at a time: an outage ends the round (the next one
 * retries), a start that fails for another reason (the server refuses it) flags its row
 * (`start_error`, status `failed`: a client retry of the same body may still start it) and the
 * sweep goes on. Starting is idempotent by workflow ID, so several API instances may sweep at once.
 */
export function startPendingSweeper(deps: ApiDeps, opts: { intervalMs?: number; graceMs?: number } = {}) {
  const intervalMs = opts.intervalMs ?? 60_000;
  const graceMs = opts.graceMs ?? 30_000;
  let running: Promise<void> | undefined;
  const round = async () => {
    const rows = await pendingStarts(deps.database.db, new Date(Date.now() - graceMs), 500);
    // What is left behind (500 means "at least"); each row this round settles is taken off below.
    violationsUnstarted.set(rows.length);
    for (const row of rows) {
      try {
        await startViolation(deps.workflows, storedCompactEvent(row), 'recovery');
      } catch (err) {
        // An outage ends the round (the next one retries); any other failure is this row's.
        if (isUnavailable(err)) throw err;
        const reason = temporalRejection(err) ?? (err as Error).message;
        await markViolationStartRefused(deps.database.db, row.eventId, reason);
        violationsUnstarted.dec();
        deps.logger.error(
          { event_id: row.eventId, workflow_id: row.workflowId, reason },
          'Temporal refused to start a stored violation; flagged',
        );
        continue;
      }
      await markViolationStarted(deps.database.db, row.eventId);
      violationsUnstarted.dec();
      deps.logger.warn(
        { event_id: row.eventId, workflow_id: row.workflowId },
        'started a violation whose start had failed',
      );
    }
  };
  /** One round; a call while a round runs waits for that round. */
  const sweep = () => {
    running ??= round()
      .catch((err) => {
        const why = isUnavailable(err) ? 'a dependency is unavailable' : 'unexpected error';
        deps.logger.warn({ err }, `pending-start sweep stopped (${why}); will retry`);
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  void sweep();
  return { sweep, stop: () => clearInterval(timer) };
}
