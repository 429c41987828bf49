import { ConnectorError } from '../connectors/http.js';
import { type AttemptRow, finishAttempt, startAttempt } from '../db/repos/deliveries.js';
import type { ActivityDeps } from './deps.js';
import { toTemporalFailure } from './failures.js';

export interface AttemptSuccess<T> {
  value: T;
  httpStatus?: number;
  message?: string;
  remoteCode?: string;
}

/**
 * Runs one attempt of a delivery and records it (start, outcome, HTTP status, remote error,
 * duration) whatever happens, then rethrows failures in the shape that drives Temporal retries.
 */
export async function recordedAttempt<T>(
  deps: ActivityDeps,
  deliveryId: string,
  maxRetryDelayMs: number,
  run: (attempt: AttemptRow) => Promise<AttemptSuccess<T>>,
): Promise<T> {
  const attempt = await startAttempt(deps.db, deliveryId);
  let success: AttemptSuccess<T>;
  try {
    success = await run(attempt);
  } catch (err) {
    const ce = err instanceof ConnectorError ? err : undefined;
    await finishAttempt(deps.db, attempt, {
      outcome: 'failed',
      httpStatus: ce?.status,
      remoteCode: ce?.remoteCode,
      message: (err as Error).message,
      durationMs: ce?.durationMs,
      retryable: ce ? ce.retryable : undefined,
    });
    throw toTemporalFailure(err, maxRetryDelayMs);
  }
  await finishAttempt(deps.db, attempt, {
    outcome: 'succeeded',
    httpStatus: success.httpStatus,
    remoteCode: success.remoteCode,
    message: success.message,
  });
  return success.value;
}
