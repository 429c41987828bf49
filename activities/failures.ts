import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { ConnectorError } from '../connectors/http.js';
import type { RetryPolicyMs } from '../domain/retry.js';

/** Failure types the workflow and the Web UI see. */
export const FailureType = {
  /** The remote refused the request (400/401/403/404/422...): retrying cannot help. */
  RemoteRejected: 'RemoteRejected',
  /** Timeouts, network errors, 408/429/5xx: retried under the connector's policy. */
  RemoteUnavailable: 'RemoteUnavailable',
  /** Connector deleted, disabled, or its secrets unreadable. */
  ConnectorUnavailable: 'ConnectorUnavailable',
  /** A configured field value the ITSM's field cannot take (e.g. "abc" for a number field). */
  InvalidFieldValue: 'InvalidFieldValue',
  /** The service's TLS certificate is not trusted as configured (`tls.ca`). */
  CertificateRejected: 'CertificateRejected',
  /** A first attempt run in the worker ran before and was cut: the rest runs as an activity. */
  FirstAttemptCut: 'FirstAttemptCut',
} as const;

/** The delay the retry policy gives before the next attempt (exponential, capped), if known. */
export function policyDelayMs(policy: RetryPolicyMs, attempt: number): number {
  return Math.min(
    policy.initialIntervalMs * policy.backoffCoefficient ** (attempt - 1),
    policy.maximumIntervalMs,
  );
}

/** Permanent refusals that have a type of their own (by ConnectorError remote code). */
const TYPE_FOR_REMOTE_CODE = new Map<string, string>([
  ['invalid_field_value', FailureType.InvalidFieldValue],
]);

/**
 * Translates a connector error into the Temporal failure that drives retries: non-retryable
 * for permanent refusals, and `nextRetryDelay` from Retry-After, capped by the policy. After a
 * request whose outcome is unknown, `settle` sets a floor on the delay (whatever Retry-After or
 * the policy says): the next attempt looks the result up, and the lookup must be able to see it.
 * A cancelled attempt is reported as cancelled.
 */
export function toTemporalFailure(
  err: unknown,
  maxRetryDelayMs: number,
  settle?: { afterUnknownMs: number; policyDelayMs: number },
): unknown {
  if (!(err instanceof ConnectorError)) return err;
  if (err.remoteCode === 'cancelled' && activityCancelled()) return new CancelledFailure(err.message);
  const details = [{ status: err.status ?? null, remote_code: err.remoteCode ?? null }];
  if (!err.retryable) {
    return ApplicationFailure.create({
      type: TYPE_FOR_REMOTE_CODE.get(err.remoteCode ?? '') ?? FailureType.RemoteRejected,
      message: err.message,
      nonRetryable: true,
      details,
    });
  }
  const delay = nextRetryDelay(err, maxRetryDelayMs, settle);
  return ApplicationFailure.create({
    type: FailureType.RemoteUnavailable,
    message: err.message,
    // The delay travels in the details too: a workflow does not see `nextRetryDelay` (its first
    // attempt runs locally, and the workflow waits that long before retrying as an activity).
    details: delay === undefined ? details : [{ ...details[0], next_retry_delay_ms: delay }],
    nextRetryDelay: delay,
  });
}

function nextRetryDelay(
  err: ConnectorError,
  maxRetryDelayMs: number,
  settle?: { afterUnknownMs: number; policyDelayMs: number },
): number | undefined {
  const retryAfter = err.retryAfterMs !== undefined ? Math.min(err.retryAfterMs, maxRetryDelayMs) : undefined;
  if (!settle || !err.outcomeUnknown) return retryAfter;
  return Math.max(settle.afterUnknownMs, retryAfter ?? settle.policyDelayMs);
}

/** Whether this runs in an activity whose cancellation was requested (false outside one). */
function activityCancelled(): boolean {
  try {
    return Context.current().cancellationSignal.aborted;
  } catch {
    return false;
  }
}

export const connectorUnavailable = (message: string) =>
  ApplicationFailure.create({ type: FailureType.ConnectorUnavailable, message, nonRetryable: true });

/**
 * A first attempt run in the worker finds the delivery attempted since its run took it up: it was
 * cut before its result was recorded and is running again. It calls no one (a loop of cut runs
 * would repeat the call without limit); the workflow runs the rest of the policy as an activity.
 */
export const firstAttemptCut = (deliveryId: string) =>
  ApplicationFailure.create({
    type: FailureType.FirstAttemptCut,
    message: `delivery ${deliveryId}: the first attempt was cut (worker stopped or workflow task failed); retried as an activity`,
  });
