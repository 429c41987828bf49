import { ApplicationFailure } from '@temporalio/activity';
import { ConnectorError } from '../connectors/http.js';

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
} as const;

/** Permanent refusals that have a type of their own (by ConnectorError remote code). */
const TYPE_FOR_REMOTE_CODE = new Map<string, string>([
  ['invalid_field_value', FailureType.InvalidFieldValue],
]);

/**
 * Translates a connector error into the Temporal failure that drives retries: non-retryable
 * for permanent refusals, and `nextRetryDelay` from Retry-After, capped by the policy.
 */
export function toTemporalFailure(err: unknown, maxRetryDelayMs: number): unknown {
  if (!(err instanceof ConnectorError)) return err;
  const details = [{ status: err.status ?? null, remote_code: err.remoteCode ?? null }];
  if (!err.retryable) {
    return ApplicationFailure.create({
      type: TYPE_FOR_REMOTE_CODE.get(err.remoteCode ?? '') ?? FailureType.RemoteRejected,
      message: err.message,
      nonRetryable: true,
      details,
    });
  }
  return ApplicationFailure.create({
    type: FailureType.RemoteUnavailable,
    message: err.message,
    details,
    nextRetryDelay: err.retryAfterMs !== undefined ? Math.min(err.retryAfterMs, maxRetryDelayMs) : undefined,
  });
}

export const connectorUnavailable = (message: string) =>
  ApplicationFailure.create({ type: FailureType.ConnectorUnavailable, message, nonRetryable: true });
