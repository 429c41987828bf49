/** Retry timing of ticket attempts: the settle floor after an unknown outcome, and the attempt timeout. */
import type { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { policyDelayMs, toTemporalFailure } from '../../activities/failures.js';
import { ConnectorError } from '../../connectors/http.js';
import { parseDuration } from '../../domain/duration.js';
import type { Target } from '../../domain/plan.js';
import { DEFAULT_ITSM_RETRY } from '../../domain/retry.js';
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
