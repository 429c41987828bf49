import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { CompactEvent } from '../domain/event.js';
import type { LocalFirstAttempt, Target, TargetOutcome } from '../domain/plan.js';
import { afterFirstAttempt, type RetryPolicyMs } from '../domain/retry.js';

const BOOKKEEPING = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
} as const;

type ActivityProxy = ReturnType<typeof proxyActivities<Activities>>;

/** Bookkeeping activities (short, retried until the database answers), with a summary for the UI. */
export type Bookkeeping = (summary: string) => ActivityProxy;

export const bookkeeping: Bookkeeping = (summary) => proxyActivities<Activities>({ ...BOOKKEEPING, summary });

/**
 * The same, as local activities: they run in the worker that runs the workflow task, without a
 * round trip through the server's task queue, and leave one marker in the history instead of
 * three events and a workflow task each. Every one of them is idempotent, so a worker that dies
 * before the marker is recorded and the next one running it again is harmless.
 */
const localBookkeeping: Bookkeeping = (summary) =>
  proxyLocalActivities<Activities>({ ...BOOKKEEPING, summary });

/** Runs started before local bookkeeping existed replay with the activities they recorded. */
export const LOCAL_BOOKKEEPING_PATCH = 'local-bookkeeping';

/** createTicket starts the ticket's workflow (no startTicketSync local activity after it). */
export const SYNC_STARTED_BY_CREATE_PATCH = 'sync-started-by-create';
/** createTicket says whether it started the ticket's workflow; the violation's starts it if not. */
export const SYNC_START_CONFIRMED_PATCH = 'sync-start-confirmed';

/**
 * Whether a change guarded by a patch applies to this run: `patched` itself for workflow types
 * that have runs from before the change, a function that knows the change is built in for a type
 * created after it (no marker, no search-attribute upsert in its history).
 */
export type Patched = (patchId: string) => boolean;

export const bookkeepingActivities = (has: Patched = patched): Bookkeeping =>
  has(LOCAL_BOOKKEEPING_PATCH) ? localBookkeeping : bookkeeping;

const KIND_LABEL: Record<string, string> = { jira: 'Jira issue', servicenow: 'ServiceNow incident' };

/** Covers the bookkeeping around the HTTP calls (and, in a ticket attempt, the wait for its lock). */
const ATTEMPT_MARGIN_MS = 15_000;

/**
 * How long one attempt may run: a SIEM delivery is one HTTP call; a ticket attempt may wait for
 * Jira's search to settle, look the ticket up, then create it.
 */
export const attemptTimeoutMs = (target: Target): number =>
  target.purpose === 'ticket'
    ? (target.lookupSettleMs ?? 0) + 2 * target.timeoutMs + ATTEMPT_MARGIN_MS
    : target.timeoutMs + ATTEMPT_MARGIN_MS;

const temporalRetry = (p: RetryPolicyMs) => ({
  maximumAttempts: p.maximumAttempts,
  initialInterval: p.initialIntervalMs,
  backoffCoefficient: p.backoffCoefficient,
  maximumInterval: p.maximumIntervalMs,
});

function targetActivities(target: Target, summary: string, policy: RetryPolicyMs = target.retry) {
  return proxyActivities<Activities>({
    // The HTTP timeouts fire first; past this, the attempt is cancelled (its HTTP calls stop).
    startToCloseTimeout: attemptTimeoutMs(target),
    summary,
    retry: temporalRetry(policy),
  });
}

/** Runs started before first attempts ran in the worker replay with activities from the start. */
export const FIRST_ATTEMPT_LOCAL_PATCH = 'first-attempt-local';

/** Calls one of a target's activities (`local` for a first attempt run in the worker). */
type TargetCall<T> = (acts: ActivityProxy, local?: LocalFirstAttempt) => Promise<T>;

/** The activity's own failure (a local activity's reaches the workflow unwrapped). */
const applicationFailure = (err: unknown): ApplicationFailure | undefined => {
  const inner = err instanceof ActivityFailure ? err.cause : err;
  return inner instanceof ApplicationFailure ? inner : undefined;
};

/** The delay the activity asked for before the next attempt (Retry-After, Jira's settle time). */
function requestedRetryDelayMs(err: unknown): number | undefined {
  const details = applicationFailure(err)?.details?.[0] as { next_retry_delay_ms?: unknown } | undefined;
  const delay = details?.next_retry_delay_ms;
  return typeof delay === 'number' && delay >= 0 ? delay : undefined;
}

/** Whether an attempt's failure leaves room for another (not a refusal, not a cancellation). */
const retryable = (err: unknown): boolean =>
  !isCancellation(err) && applicationFailure(err)?.nonRetryable !== true;

/**
 * Runs a target's attempts under its retry policy. The first attempt runs in the worker that runs
 * the workflow (a local activity: no task-queue round trip, one marker in the history): most
 * deliveries succeed on it. If it fails and the policy allows more, the workflow waits the delay
 * the policy (or the remote's Retry-After) gives, then runs the rest of the policy as a regular
 * activity, whose retries show as pending in the Web UI. Every attempt is recorded on the
 * delivery either way, and each is looked up or idempotent before it acts, so a worker that dies
 * before the first attempt's marker is recorded and the next one running it again is harmless
 * (that cut attempt is recorded as interrupted, one more than the policy counts).
 */
async function attempt<T>(
  target: Target,
  summary: string,
  { firstLocal, has }: { firstLocal: boolean; has: Patched },
  call: TargetCall<T>,
): Promise<T> {
  // A policy of one attempt keeps it an activity: a local attempt cut by a dying worker runs
  // again from the start (its marker was never recorded), which would make it two.
  if (!firstLocal || target.retry.maximumAttempts === 1 || !has(FIRST_ATTEMPT_LOCAL_PATCH))
    return call(targetActivities(target, summary));
  const local = proxyLocalActivities<Activities>({
    startToCloseTimeout: attemptTimeoutMs(target),
    summary,
    retry: { ...temporalRetry(target.retry), maximumAttempts: 1 },
  });
  try {
    return await call(local, { retriedIfFailed: true, firstAttemptAfter: target.attemptsBefore });
  } catch (err) {
    if (!retryable(err)) throw err;
    await sleep(requestedRetryDelayMs(err) ?? target.retry.initialIntervalMs);
    return call(targetActivities(target, `${summary}: retry`, afterFirstAttempt(target.retry)));
  }
}

/** The message of the failure a remote gave, without Temporal's wrapping. */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return failureMessage(err.cause);
  if (err instanceof ApplicationFailure) return err.message;
  return err instanceof Error ? err.message : String(err);
}

export const targetSummary = (target: Target): string => {
  if (target.purpose === 'ticket')
    return `create ${KIND_LABEL[target.kind] ?? 'ticket'}${target.container ? ` in ${target.container}` : ''} (${target.connectorName})`;
  if (target.purpose === 'notify')
    return `tell ${target.kind} ${target.connectorName}: ${target.notice ?? 'notice'}`;
  return `deliver to ${target.kind} ${target.connectorName}`;
};

export interface TargetRunOptions {
  /**
   * Whether the first attempt runs in the worker (default). A long-lived run with update
   * handlers (the ticket's) says no: a local activity holds its workflow task, and an update
   * arriving meanwhile would wait for it.
   */
  firstAttemptLocal?: boolean;
  /** How this run's workflow type tells which changes apply (default: `patched`). */
  patched?: Patched;
}

/** What carrying out a target needs of its violation (a notification knows no more). */
export type TargetEvent = Pick<CompactEvent, 'event_id' | 'severity'>;

/**
 * Carries out one target under its connector's retry policy. A final failure is recorded on the
 * delivery (with the remote's message) and returned as an outcome, never thrown: one target's
 * failure must not stop the others.
 */
export async function runTarget(
  event: TargetEvent,
  target: Target,
  bk: Bookkeeping = bookkeeping,
  { firstAttemptLocal: firstLocal = true, patched: has = patched }: TargetRunOptions = {},
): Promise<TargetOutcome> {
  const how = { firstLocal, has };
  const base = { deliveryId: target.deliveryId, connectorId: target.connectorId, purpose: target.purpose };
  const summary = targetSummary(target);
  let claimedTicketId: string | undefined;
  try {
    if (target.purpose === 'notify') {
      await attempt(target, summary, how, (acts, local) =>
        acts.sendNotification({
          deliveryId: target.deliveryId,
          maxRetryDelayMs: target.retry.maximumIntervalMs,
          ...local,
        }),
      );
      return { ...base, ok: true };
    }
    if (target.purpose === 'ticket') {
      const priority = target.priority ?? event.severity;
      if (target.ticket) {
        // Correlation: join an active ticket with the same key, or claim the right to open one.
        // Planning claims it (runs planned before that claim here).
        const claim =
          target.claim ??
          (await bk(`claim the ${target.connectorName} ticket for this correlation key`).claimTicket({
            deliveryId: target.deliveryId,
            connectorId: target.connectorId,
            eventId: event.event_id,
            severity: event.severity,
            priority,
            spec: target.ticket,
            kind: target.kind,
          }));
        if (claim.role === 'recurrence') {
          await bk('signal the recurrence to the ticket').signalRecurrence({
            ticketId: claim.ticketId,
            eventId: event.event_id,
            reopen: claim.reopen,
          });
          return {
            ...base,
            ok: true,
            recurrence: true,
            ticketId: claim.ticketId,
            externalId: claim.externalId ?? undefined,
          };
        }
        claimedTicketId = claim.ticketId;
      }
      const ticket = await attempt(target, summary, how, (acts, local) =>
        acts.createTicket({
          deliveryId: target.deliveryId,
          connectorId: target.connectorId,
          eventId: event.event_id,
          priority,
          timeoutMs: target.timeoutMs,
          maxRetryDelayMs: target.retry.maximumIntervalMs,
          spec: target.ticket,
          ...local,
        }),
      );
      // createTicket starts the ticket's workflow itself; runs started before it did, here, and so
      // does a run whose createTicket did not (an older worker ran it, or the start failed).
      if (
        !has(SYNC_STARTED_BY_CREATE_PATCH) ||
        (has(SYNC_START_CONFIRMED_PATCH) && ticket.syncStarted !== true)
      )
        await bk(`follow ${ticket.externalId}`).startTicketSync({ ticketId: ticket.ticketId });
      return { ...base, ok: true, ticketId: ticket.ticketId, externalId: ticket.externalId };
    }
    await attempt(target, summary, how, (acts, local) =>
      acts.deliverToSiem({
        deliveryId: target.deliveryId,
        connectorId: target.connectorId,
        eventId: event.event_id,
        maxRetryDelayMs: target.retry.maximumIntervalMs,
        ...local,
      }),
    );
    return { ...base, ok: true };
  } catch (err) {
    const error = failureMessage(err);
    log.warn('target failed', { connectorId: target.connectorId, error });
    await bk(`record the failed delivery to ${target.connectorName}`).markDeliveryFailed({
      deliveryId: target.deliveryId,
      eventId: event.event_id,
      connectorId: target.connectorId,
      error,
    });
    if (claimedTicketId)
      await bk('release the ticket claim').releaseTicketClaim({ ticketId: claimedTicketId, error });
    return { ...base, ok: false, error };
  }
}
