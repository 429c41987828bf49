/**
 * Why a bulk replay skipped a delivery. The replay records a skip with no error when the delivery
 * had been delivered since, with the reason when another workflow is attempting it, and with the
 * failure when its run could not start (the delivery, its violation or its connector gone, a run
 * already going), `not attempted: …` when its connector cannot be used: see workflows/replay.ts
 * and activities/redeliver.ts.
 */
import type { Replay } from './api-types.js';

export const SKIP_REASONS = [
  'already delivered',
  'in flight',
  'connector unusable',
  'vanished',
  'not started',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

const VANISHED = /^(delivery|violation) \S+ (does not exist|is not stored)$|^connector \S+ no longer exists$/;

export function skipReason(error: string | null): SkipReason {
  if (!error) return 'already delivered';
  if (error.startsWith('in flight:')) return 'in flight';
  if (error.startsWith('not attempted:')) return 'connector unusable';
  if (VANISHED.test(error)) return 'vanished';
  return 'not started';
}

/** What each reason means, for the replay page. */
export const SKIP_MEANING: Record<SkipReason, string> = {
  'already delivered': 'delivered since it was selected: nothing to do',
  'in flight': 'another workflow is attempting it: let that one finish',
  'connector unusable':
    'its connector is gone or its secrets cannot be decrypted: the delivery is failed with the reason',
  vanished: 'its delivery, violation or connector is no longer stored',
  'not started': 'its run could not start: see the error',
};

/** The skipped items counted per reason, in SKIP_REASONS order, reasons with none left out. */
export function skipCounts(items: Replay['items']): [SkipReason, number][] {
  const counts = new Map<SkipReason, number>();
  for (const i of items)
    if (i.outcome === 'skipped') counts.set(skipReason(i.error), (counts.get(skipReason(i.error)) ?? 0) + 1);
  return SKIP_REASONS.filter((r) => counts.has(r)).map((r) => [r, counts.get(r)!]);
}
