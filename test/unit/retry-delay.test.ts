/** Retry timing of ticket attempts: the settle floor after an unknown outcome, and the attempt timeout. */
import type { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { policyDelayMs, toTemporalFailure } from '../../activities/failures.js';
import { ConnectorError } from '../../connectors/http.js';
import { parseDuration } from '../../domain/duration.js';
import type { Target } from '../../domain/plan.js';
import {
  afterFirstAttempt,
  DEFAULT_ITSM_RETRY,
  DEFAULT_NOTIFY_RETRY,
  DEFAULT_SIEM_RETRY,
  type RetryPolicyMs,
} from '../../domain/retry.js';
import { defaultSettings } from '../../domain/settings.js';
import { attemptTimeoutMs } from '../../workflows/targets.js';

const unknown = (retryAfterMs?: number) =>
  new ConnectorError('POST /rest/api/3/issue: timeout', {
    retryable: true,
    remoteCode: 'timeout',
    outcomeUnknown: true,
    retryAfterMs,
  });
const delayOf = (failure: unknown) => (failure as ApplicationFailure).nextRetryDelay;

describe('after an attempt whose outcome is unknown', () => {
  const settleMs = parseDuration(defaultSettings().jira.lookup_settle_delay);

  it('the next lookup waits 30 s by default, whatever the policy or Retry-After says', () => {
    expect(settleMs).toBe(30_000);
    expect(
      delayOf(toTemporalFailure(unknown(), 3_600_000, { afterUnknownMs: settleMs, policyDelayMs: 50 })),
    ).toBe(30_000);
    expect(
      delayOf(toTemporalFailure(unknown(1_000), 3_600_000, { afterUnknownMs: settleMs, policyDelayMs: 50 })),
    ).toBe(30_000);
    // Longer waits stand: a Retry-After (capped by the policy), or the policy's own backoff.
    expect(
      delayOf(
        toTemporalFailure(unknown(120_000), 3_600_000, { afterUnknownMs: settleMs, policyDelayMs: 50 }),
      ),
    ).toBe(120_000);
    expect(
      delayOf(toTemporalFailure(unknown(), 3_600_000, { afterUnknownMs: settleMs, policyDelayMs: 240_000 })),
    ).toBe(240_000);
  });

  it('the delay travels in the failure details too, where a workflow can read it', () => {
    const failure = toTemporalFailure(unknown(), 3_600_000, { afterUnknownMs: settleMs, policyDelayMs: 50 });
    expect((failure as ApplicationFailure).details).toEqual([
      { status: null, remote_code: 'timeout', next_retry_delay_ms: 30_000 },
    ]);
    const refused = new ConnectorError('HTTP 503', { retryable: true, status: 503 });
    expect((toTemporalFailure(refused, 3_600_000) as ApplicationFailure).details).toEqual([
      { status: 503, remote_code: null },
    ]);
  });

  it('a known failure keeps the policy (no floor)', () => {
    const refused = new ConnectorError('HTTP 503', { retryable: true, status: 503 });
    expect(
      delayOf(toTemporalFailure(refused, 3_600_000, { afterUnknownMs: settleMs, policyDelayMs: 50 })),
    ).toBeUndefined();
  });

  it('the policy delay is exponential and capped', () => {
    const policy = { ...DEFAULT_ITSM_RETRY };
    expect(policyDelayMs(policy, 1)).toBe(policy.initialIntervalMs);
    expect(policyDelayMs(policy, 2)).toBe(policy.initialIntervalMs * policy.backoffCoefficient);
    expect(policyDelayMs(policy, 50)).toBe(policy.maximumIntervalMs);
  });
});

describe('an attempt timeout', () => {
  const target = (over: Partial<Target>): Target =>
    ({ purpose: 'ticket', timeoutMs: 30_000, ...over }) as Target;

  it('covers the settle wait, the lookup and the create, with a margin', () => {
    expect(attemptTimeoutMs(target({ lookupSettleMs: 30_000 }))).toBe(30_000 + 2 * 30_000 + 15_000);
    expect(attemptTimeoutMs(target({}))).toBe(2 * 30_000 + 15_000);
    expect(attemptTimeoutMs(target({ purpose: 'event' }))).toBe(30_000 + 15_000);
  });
});

describe('a first attempt run in the worker, then the rest of the policy as an activity', () => {
  /** Delays before attempts 2..n: the first from the workflow's wait, then Temporal's backoff. */
  const delays = (policy: RetryPolicyMs, n: number) =>
    Array.from({ length: n - 1 }, (_, i) => policyDelayMs(policy, i + 1));

  it('keeps the configured attempts and delays (production defaults)', () => {
    for (const policy of [DEFAULT_ITSM_RETRY, DEFAULT_SIEM_RETRY, DEFAULT_NOTIFY_RETRY]) {
      const rest = afterFirstAttempt(policy);
      expect(rest.maximumAttempts).toBe(policy.maximumAttempts - 1);
      // The workflow waits the policy's first delay, then the activity's own backoff takes over.
      const split = [policy.initialIntervalMs, ...delays(rest, rest.maximumAttempts)];
      expect(split).toEqual(delays(policy, policy.maximumAttempts));
    }
    expect(afterFirstAttempt(DEFAULT_ITSM_RETRY)).toEqual({
      maximumAttempts: 4,
      initialIntervalMs: 120_000,
      backoffCoefficient: 2,
      maximumIntervalMs: 3_600_000,
    });
  });

  it('caps the next delay at the maximum interval, and unlimited stays unlimited', () => {
    const policy = {
      maximumAttempts: 0,
      initialIntervalMs: 50_000,
      backoffCoefficient: 3,
      maximumIntervalMs: 60_000,
    };
    expect(afterFirstAttempt(policy)).toEqual({ ...policy, initialIntervalMs: 60_000 });
  });
});
