import { type DurationInput, parseDuration } from './duration.js';

/** Declarative retry policy as written in the API / YAML (names fixed by the spec). */
export interface RetrySpec {
  maximum_attempts?: number;
  initial_interval?: DurationInput;
  backoff_coefficient?: number;
  maximum_interval?: DurationInput;
}

export interface RetryPolicyMs {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

export const DEFAULT_ITSM_RETRY: RetryPolicyMs = {
  maximumAttempts: 5,
  initialIntervalMs: 60_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 3_600_000,
};

/** SIEM: immediately, +1 s, +2 s. */
export const DEFAULT_SIEM_RETRY: RetryPolicyMs = {
  maximumAttempts: 3,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
};

/** Slack and Teams: a few quick tries; their 429s say when to come back (Retry-After, capped at 1 min). */
export const DEFAULT_NOTIFY_RETRY: RetryPolicyMs = {
  maximumAttempts: 5,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
};

/** Later layers win: kind default, then per-kind override, then per-connector override. */
export function resolveRetry(
  base: RetryPolicyMs,
  ...overrides: (RetrySpec | undefined | null)[]
): RetryPolicyMs {
  let out = { ...base };
  for (const o of overrides) {
    if (!o) continue;
    out = {
      maximumAttempts: o.maximum_attempts ?? out.maximumAttempts,
      initialIntervalMs:
        o.initial_interval !== undefined ? parseDuration(o.initial_interval) : out.initialIntervalMs,
      backoffCoefficient: o.backoff_coefficient ?? out.backoffCoefficient,
      maximumIntervalMs:
        o.maximum_interval !== undefined ? parseDuration(o.maximum_interval) : out.maximumIntervalMs,
    };
  }
  if (out.maximumIntervalMs < out.initialIntervalMs) out.maximumIntervalMs = out.initialIntervalMs;
  return out;
}

/** The delay a server asked for (Retry-After), never beyond the policy's cap. */
export const capRetryAfter = (retryAfterMs: number, policy: RetryPolicyMs): number =>
  Math.max(0, Math.min(retryAfterMs, policy.maximumIntervalMs));

/**
 * What is left of `policy` once its first attempt ran elsewhere (in the worker, before any
 * activity was scheduled): one attempt fewer (0 stays unlimited), and the delays it would have
 * given from the second attempt on, so the whole schedule is the configured one.
 */
export function afterFirstAttempt(policy: RetryPolicyMs): RetryPolicyMs {
  return {
    maximumAttempts: policy.maximumAttempts > 0 ? policy.maximumAttempts - 1 : 0,
    initialIntervalMs: Math.round(
      Math.min(policy.initialIntervalMs * policy.backoffCoefficient, policy.maximumIntervalMs),
    ),
    backoffCoefficient: policy.backoffCoefficient,
    maximumIntervalMs: policy.maximumIntervalMs,
  };
}
