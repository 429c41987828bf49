import {
  completeReplay,
  nextReplayBatch,
  type ReplayOutcome,
  recordReplayItem,
} from '../db/repos/replays.js';
import type { ActivityDeps } from './deps.js';

export type { ReplayOutcome } from '../db/repos/replays.js';

export function replayActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    /** The next page of a bulk replay's deliveries still to run (keeps workflow payloads small). */
    nextReplayBatch(input: { replayId: string; after?: string; limit: number }): Promise<string[]> {
      return nextReplayBatch(db, input);
    },

    recordReplayItem(input: {
      replayId: string;
      deliveryId: string;
      outcome: ReplayOutcome;
      error?: string;
    }): Promise<void> {
      return recordReplayItem(db, input);
    },

    completeReplay(input: { replayId: string; requestedBy: string }): Promise<void> {
      return completeReplay(db, input);
    },
  };
}
