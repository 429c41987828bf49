import { and, isNull, lt } from 'drizzle-orm';
import { markViolationStarted, storedCompactEvent } from '../db/repos/violations.js';
import { violations } from '../db/schema.js';
import { violationsUnstarted } from '../infra/metrics.js';
import { startViolation } from '../infra/workflow-client.js';
import type { ApiDeps } from './deps.js';

/**
 * A violation is stored before its workflow starts; if Temporal failed in between, the client
 * got a 503 and normally retries (same body → started then). Should it not, this sweep starts
 * what was left behind. Starting is idempotent by workflow ID, so several API instances may
 * sweep at once.
 */
export function startPendingSweeper(deps: ApiDeps, opts: { intervalMs?: number; graceMs?: number } = {}) {
  const intervalMs = opts.intervalMs ?? 60_000;
  const graceMs = opts.graceMs ?? 30_000;
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      const rows = await deps.database.db
        .select()
        .from(violations)
        .where(and(isNull(violations.startedAt), lt(violations.receivedAt, new Date(Date.now() - graceMs))))
        .limit(500);
      // What is left behind (500 means "at least"); what this sweep starts is taken off below.
      violationsUnstarted.set(rows.length);
      for (const row of rows) {
        await startViolation(deps.workflows, storedCompactEvent(row), 'recovery');
        await markViolationStarted(deps.database.db, row.eventId);
        violationsUnstarted.dec();
        deps.logger.warn(
          { event_id: row.eventId, workflow_id: row.workflowId },
          'started a violation whose start had failed',
        );
      }
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'pending-start sweep failed; will retry');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  void sweep();
  return { sweep, stop: () => clearInterval(timer) };
}
