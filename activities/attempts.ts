import { ApplicationFailure, Context } from '@temporalio/activity';
import { ConnectorError } from '../connectors/http.js';
import {
  type BegunAttempt,
  beginAttempt,
  type FinishedAttempt,
  finishAttempt,
} from '../db/repos/attempts.js';
import type { AttemptRow } from '../db/repos/deliveries.js';
import type { LocalFirstAttempt } from '../domain/plan.js';
import { countDelivery, deliveryAttemptDuration } from '../infra/metrics.js';
import type { ActivityDeps } from './deps.js';
import { firstAttemptCut, toTemporalFailure } from './failures.js';

export interface AttemptSuccess<T> {
  value: T;
  httpStatus?: number;
  message?: string;
  remoteCode?: string;
}

/**
 * Whether Temporal will not run this activity again after `failure`: the failure is
 * non-retryable, or this was the last attempt its retry policy allows. Outside an activity
 * (direct calls in tests) nothing is known: not final. A first attempt run locally says whether
 * the workflow retries it (`retriedIfFailed`): its own policy allows one attempt only.
 */
function isFinalAttempt(failure: unknown, retriedIfFailed = false): boolean {
  if (failure instanceof ApplicationFailure && failure.nonRetryable) return true;
  if (retriedIfFailed) return false;
  try {
    const { attempt, retryPolicy } = Context.current().info;
    const max = retryPolicy?.maximumAttempts ?? 0;
    return max > 0 && attempt >= max;
  } catch {
    return false;
  }
}

/** How an attempt is opened and how its success is recorded, when the caller decides. */
export interface AttemptOptions<T> extends LocalFirstAttempt {
  /** Opened already (a ticket attempt opens it under the delivery's lease); default: opened here. */
  begun?: BegunAttempt;
  /** Released with the record of a failed attempt. */
  leaseToken?: string;
  /** Timing of the retry after a failure (toTemporalFailure's settle options). */
  settle?: Parameters<typeof toTemporalFailure>[2];
  /**
   * Records what the success decided together with the attempt's own row (one statement);
   * default: the attempt's row alone.
   */
  recordSuccess?: (value: T, finished: FinishedAttempt) => Promise<void>;
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
  opts: AttemptOptions<T> = {},
): Promise<T> {
  const begun =
    opts.begun ?? (await beginAttempt(deps.db, deliveryId, { firstAttemptAfter: opts.firstAttemptAfter }));
  // Callers that can meet a delivered delivery open the attempt themselves (deliverToSiem).
  if (begun === 'delivered') throw new Error(`delivery ${deliveryId} is delivered already`);
  if (begun === 'cut') throw firstAttemptCut(deliveryId);
  const { attempt, connectorId, kind } = begun;
  const started = performance.now();
  const observe = () => deliveryAttemptDuration.observe({ kind }, (performance.now() - started) / 1000);
  let success: AttemptSuccess<T>;
  try {
    success = await run(attempt);
  } catch (err) {
    observe();
    const ce = err instanceof ConnectorError ? err : undefined;
    await finishAttempt(
      deps.db,
      {
        attempt,
        finishedAt: new Date(),
        outcome: ce?.remoteCode === 'cancelled' ? 'interrupted' : 'failed',
        httpStatus: ce?.status,
        remoteCode: ce?.remoteCode,
        message: (err as Error).message,
        durationMs: ce?.durationMs,
        retryable: ce ? ce.retryable : undefined,
        outcomeUnknown: ce?.outcomeUnknown,
      },
      { leaseToken: opts.leaseToken },
    );
    const failure = toTemporalFailure(err, maxRetryDelayMs, opts.settle);
    countDelivery(connectorId, kind, 'attempt_failed');
    if (isFinalAttempt(failure, opts.retriedIfFailed)) countDelivery(connectorId, kind, 'failed');
    throw failure;
  }
  observe();
  const finished: FinishedAttempt = {
    attempt,
    finishedAt: new Date(),
    outcome: 'succeeded',
    httpStatus: success.httpStatus,
    remoteCode: success.remoteCode,
    message: success.message,
  };
  if (opts.recordSuccess) {
    try {
      await opts.recordSuccess(success.value, finished);
    } catch (err) {
      // The remote effect happened: the attempt says so even if its record could not be written
      // (the retry then finds the ticket or event by its idempotency key).
      await finishAttempt(deps.db, finished, { leaseToken: opts.leaseToken }).catch(() => undefined);
      throw err;
    }
  } else await finishAttempt(deps.db, finished, { leaseToken: opts.leaseToken });
  // Every caller marks the delivery delivered right after a successful attempt.
  countDelivery(connectorId, kind, 'attempt_succeeded');
  countDelivery(connectorId, kind, 'delivered');
  return success.value;
}
