import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { replayItems, replays } from '../schema.js';
import { audit } from './audit.js';

export type ReplayOutcome = 'delivered' | 'failed' | 'skipped';

/** A bulk replay of these deliveries, with its items and the audit entry, before its workflow starts. */
export function createReplay(
  db: Db,
  input: { requestedBy: string; filter: Record<string, unknown>; deliveryIds: string[] },
): Promise<string> {
  return db.transaction(async (tx) => {
    const [replay] = await tx
      .insert(replays)
      .values({ requestedBy: input.requestedBy, filter: input.filter, total: input.deliveryIds.length })
      .returning();
    const id = replay!.id;
    for (let i = 0; i < input.deliveryIds.length; i += 1000) {
      await tx
        .insert(replayItems)
        .values(input.deliveryIds.slice(i, i + 1000).map((deliveryId) => ({ replayId: id, deliveryId })));
    }
    await audit(tx, {
      actor: input.requestedBy,
      action: 'replay.requested',
      subjectType: 'replay',
      subjectId: id,
      details: { filter: input.filter, total: input.deliveryIds.length },
    });
    return id;
  });
}

/** The next page of a bulk replay's deliveries still to run (keeps workflow payloads small). */
export async function nextReplayBatch(
  db: Db,
  input: { replayId: string; after?: string; limit: number },
): Promise<string[]> {
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
}

export async function recordReplayItem(
  db: Db,
  input: { replayId: string; deliveryId: string; outcome: ReplayOutcome; error?: string },
): Promise<void> {
  await db
    .update(replayItems)
    .set({ outcome: input.outcome, error: input.error?.slice(0, 2000), updatedAt: new Date() })
    .where(and(eq(replayItems.replayId, input.replayId), eq(replayItems.deliveryId, input.deliveryId)));
}

/** Status and audit entry together: a client that sees `completed` finds the audit entry. */
export async function completeReplay(
  db: Db,
  input: { replayId: string; requestedBy: string },
): Promise<void> {
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
}
