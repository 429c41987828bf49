import { ApplicationFailure, Context } from '@temporalio/activity';
import { ConnectorError } from '../connectors/http.js';
import { type AttemptRow, finishAttempt, getDelivery, startAttempt } from '../db/repos/deliveries.js';
import { countDelivery, deliveryAttemptDuration } from '../infra/metrics.js';
import type { ActivityDeps } from './deps.js';
import { toTemporalFailure } from './failures.js';

export interface AttemptSuccess<T> {
  value: T;
  httpStatus?: number;
  message?: string;
  remoteCode?: string;
}

/**
 * Whether Temporal will not run this activity again after `failure`: the failure is
 * non-retryable, or this was the last attempt its retry policy allows. Outside an activity
 * (direct calls in tests) nothing is known: not final.
 */
function isFinalAttempt(failure: unknown): boolean {
  if (failure instanceof ApplicationFailure && failure.nonRetryable) return true;
  try {
    const { attempt, retryPolicy } = Context.current().info;
    const max = retryPolicy?.maximumAttempts ?? 0;
    return max > 0 && attempt >= max;
  } catch {
    return false;
  }
}

/**
 * Runs one attempt of a delivery and records it (start, outcome, HTTP status, remote error,
 * duration) whatever happens, then rethrows failures in the shape that drives Temporal retries.
 * Metrics: `escalate_deliveries_total` (attempt_succeeded|attempt_failed, and the final
 * delivered|failed) and `escalate_delivery_attempt_duration_seconds`.
 */
export async function recordedAttempt<T>(
  deps: ActivityDeps,
  deliveryId: string,
  maxRetryDelayMs: number,
  run: (attempt: AttemptRow) => Promise<AttemptSuccess<T>>,
  settle?: Parameters<typeof toTemporalFailure>[2],
): Promise<T> {
  const [attempt, delivery] = await Promise.all([
    startAttempt(deps.db, deliveryId),
    getDelivery(deps.db, deliveryId),
  ]);
  const connectorId = delivery?.connectorId ?? 'unknown';
  const kind = delivery?.kind ?? 'unknown';
  const started = performance.now();
  const observe = () => deliveryAttemptDuration.observe({ kind }, (performance.now() - started) / 1000);
  let success: AttemptSuccess<T>;
  try {
    success = await run(attempt);
  } catch (err) {
    observe();
    const ce = err instanceof ConnectorError ? err : undefined;
    await finishAttempt(deps.db, attempt, {
      outcome: ce?.remoteCode === 'cancelled' ? 'interrupted' : 'failed',
      httpStatus: ce?.status,
      remoteCode: ce?.remoteCode,
      message: (err as Error).message,
      durationMs: ce?.durationMs,
      retryable: ce ? ce.retryable : undefined,
      outcomeUnknown: ce?.outcomeUnknown,
    });
    const failure = toTemporalFailure(err, maxRetryDelayMs, settle);
    countDelivery(connectorId, kind, 'attempt_failed');
    if (isFinalAttempt(failure)) countDelivery(connectorId, kind, 'failed');
    throw failure;
  }
  observe();
  await finishAttempt(deps.db, attempt, {
    outcome: 'succeeded',
    httpStatus: success.httpStatus,
    remoteCode: success.remoteCode,
    message: success.message,
  });
  // Every caller marks the delivery delivered right after a successful attempt.
  countDelivery(connectorId, kind, 'attempt_succeeded');
  countDelivery(connectorId, kind, 'delivered');
  return success.value;
}
