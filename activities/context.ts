/**
 * What an activity knows of its own execution (attempt, timeout, cancellation), with defaults
 * when its functions are called outside one (tests, scripts).
 */
import { Context } from '@temporalio/activity';
import { callScope } from '../connectors/http.js';
import { parseDuration } from '../domain/duration.js';
import type { RetryPolicyMs } from '../domain/retry.js';

const msOf = (d: number | string): number => parseDuration(typeof d === 'number' ? Math.round(d) : d);

function current(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** This attempt's number (1 outside an activity). */
export const currentAttempt = (): number => current()?.info.attempt ?? 1;

/**
 * The retry policy this attempt runs under, as Temporal gives it (for the follow-up attempts of a
 * delivery whose first ran locally: the rest of the connector's policy), if known.
 */
export function currentRetryPolicy(): RetryPolicyMs | undefined {
  const p = current()?.info.retryPolicy;
  if (!p?.initialInterval || !p.maximumInterval) return undefined;
  return {
    maximumAttempts: p.maximumAttempts ?? 0,
    initialIntervalMs: msOf(p.initialInterval),
    backoffCoefficient: p.backoffCoefficient ?? 2,
    maximumIntervalMs: msOf(p.maximumInterval),
  };
}

/** How long this attempt may run (`fallbackMs` outside an activity). */
export const attemptTimeoutMs = (fallbackMs: number): number =>
  current()?.info.startToCloseTimeoutMs || fallbackMs;

/** Waits `ms`, ending early (with the activity's cancellation failure) if the attempt is cancelled. */
export async function pause(ms: number): Promise<void> {
  const ctx = current();
  if (ctx) await ctx.sleep(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs every activity inside `callScope` with its cancellation signal: each HTTP call it makes
 * (connectors/http.ts `send`) stops when the attempt is cancelled or times out.
 */
export function withCancellation<A extends Record<string, (...args: never[]) => unknown>>(activities: A): A {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      (...args: never[]) => callScope.run({ signal: current()?.cancellationSignal }, () => fn(...args)),
    ]),
  ) as A;
}
