import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { audit } from '../db/repos/audit.js';
import { replayItems, replays } from '../db/schema.js';
import type { ActivityDeps } from './deps.js';

export type ReplayOutcome = 'delivered' | 'failed' | 'skipped';

export function replayActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    /** The next page of a bulk replay's deliveries still to run (keeps workflow payloads small). */
    async nextReplayBatch(input: { replayId: string; after?: string; limit: number }): Promise<string[]> {
      const rows = await db
        .select({ deliveryId: replayItems.deliveryId })
        .from(replayItems)
        .where(
          and(
            eq(replayItems.replayId, input.replayId),
            eq(replayItems.outcome, 'pending'),
            input.after ? gt(replayItems.deliveryId, input.after) : undefined,
          ),
        )
        .orderBy(asc(replayItems.deliveryId))
        .limit(input.limit);
      return rows.map((r) => r.deliveryId);
    },

    async recordReplayItem(input: {
      replayId: string;
      deliveryId: string;
      outcome: ReplayOutcome;
      error?: string;
    }): Promise<void> {
      await db
        .update(replayItems)
        .set({ outcome: input.outcome, error: input.error?.slice(0, 2000), updatedAt: new Date() })
        .where(and(eq(replayItems.replayId, input.replayId), eq(replayItems.deliveryId, input.deliveryId)));
    },

    async completeReplay(input: { replayId: string; requestedBy: string }): Promise<void> {
      // Status and audit entry together: a client that sees `completed` finds the audit entry.
      await db.transaction(async (tx) => {
        const counts = await tx
          .select({ outcome: replayItems.outcome, n: sql<number>`count(*)::int` })
          .from(replayItems)
          .where(eq(replayItems.replayId, input.replayId))
          .groupBy(replayItems.outcome);
        await audit(tx, {
          actor: input.requestedBy,
          action: 'replay.completed',
          subjectType: 'replay',
          subjectId: input.replayId,
          details: Object.fromEntries(counts.map((c) => [c.outcome, c.n])),
        });
        await tx
          .update(replays)
          .set({ status: 'completed', completedAt: new Date() })
          .where(eq(replays.id, input.replayId));
      });
    },
  };
}
