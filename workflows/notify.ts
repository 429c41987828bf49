import { log, patched } from '@temporalio/workflow';
import { failureIsTold, type Notice, type NoticeType } from '../domain/notification.js';
import type { Target, TargetOutcome } from '../domain/plan.js';
import { type Bookkeeping, failureMessage, runTarget, type TargetRunOptions } from './targets.js';

/** Runs started before notifications existed replay without them. */
export const NOTIFY_PATCH = 'notifications';
/** Runs started before targets planning could not attempt were told replay without telling them. */
export const NOT_ATTEMPTED_PATCH = 'notify-not-attempted';

/** What a target's outcome gives people to hear of: a ticket opened, a delivery failed for good. */
export function noticesAfter(target: Target, outcome: TargetOutcome): Notice[] {
  if (!outcome.ok)
    return failureIsTold(target.notice) ? [{ type: 'delivery_failed', deliveryId: target.deliveryId }] : [];
  if (target.purpose === 'ticket' && outcome.ticketId && !outcome.recurrence)
    return [{ type: 'ticket_created', ticketId: outcome.ticketId }];
  return [];
}

/**
 * Tells every connector that hears of `notice`, each notification a delivery of its own under its
 * connector's retry policy. One that fails for good is told as `delivery_failed` to the others;
 * a `delivery_failed` that fails is told to nobody, so telling always ends.
 */
export async function notify(bk: Bookkeeping, notice: Notice, opts: TargetRunOptions = {}): Promise<void> {
  const opened = await bk(`open the ${notice.type} notifications`).openNotifications({ notice });
  if (!opened) return;
  await Promise.all(
    opened.targets.map(async (target) => {
      const outcome = await runTarget(opened.event, target, bk, opts);
      await tellOutcome(bk, target, outcome, { run: opts });
    }),
  );
}

/**
 * Tells what came of a target. `listening` (from the plan) spares asking when no connector hears
 * of that kind of notice; without it, the notice's listeners are looked up.
 */
export function tellOutcome(
  bk: Bookkeeping,
  target: Target,
  outcome: TargetOutcome,
  { listening, run }: { listening?: readonly NoticeType[]; run?: TargetRunOptions } = {},
): Promise<void> {
  const notices = noticesAfter(target, outcome).filter((n) => !listening || listening.includes(n.type));
  if (notices.length === 0 || !(run?.patched ?? patched)(NOTIFY_PATCH)) return Promise.resolve();
  return Promise.all(notices.map((n) => notify(bk, n, run))).then(() => undefined);
}

/** A target planning could not attempt (its connector is unavailable) failed for good: tell it. */
export function tellNotAttempted(
  bk: Bookkeeping,
  outcome: TargetOutcome,
  listening: readonly NoticeType[],
  run: TargetRunOptions = {},
): Promise<void> {
  const has = run.patched ?? patched;
  if (!listening.includes('delivery_failed') || !has(NOTIFY_PATCH) || !has(NOT_ATTEMPTED_PATCH))
    return Promise.resolve();
  return notify(bk, { type: 'delivery_failed', deliveryId: outcome.deliveryId }, run);
}

/**
 * Notices told in the background of a long-lived workflow (the ticket's), so its timers and
 * updates never wait on Slack; `settled()` before it continues as new or ends.
 */
export function backgroundTeller(bk: Bookkeeping) {
  const inFlight = new Set<Promise<void>>();
  return {
    tell(notice: Notice): void {
      if (!patched(NOTIFY_PATCH)) return;
      // A local first attempt would hold the ticket's workflow task while status updates wait.
      const telling: Promise<void> = notify(bk, notice, { firstAttemptLocal: false })
        .catch((err) =>
          log.warn('notification not told', { notice: notice.type, error: failureMessage(err) }),
        )
        .finally(() => inFlight.delete(telling));
      inFlight.add(telling);
    },
    async settled(): Promise<void> {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
    idle: (): boolean => inFlight.size === 0,
  };
}
