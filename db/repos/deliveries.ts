import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { deliveries, deliveryAttempts } from '../schema.js';
import { audit } from './audit.js';

export type DeliveryRow = typeof deliveries.$inferSelect;
export type AttemptRow = typeof deliveryAttempts.$inferSelect;

export async function ensureDelivery(
  db: Db,
  d: { eventId: string; connectorId: string; kind: string; purpose: 'ticket' | 'event' },
): Promise<DeliveryRow> {
  const [created] = await db.insert(deliveries).values(d).onConflictDoNothing().returning();
  if (created) return created;
  const [existing] = await db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.eventId, d.eventId), eq(deliveries.connectorId, d.connectorId)));
  if (!existing) throw new Error(`delivery for ${d.eventId}/${d.connectorId} vanished`);
  return existing;
}

export async function getDelivery(db: Db, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.select().from(deliveries).where(eq(deliveries.id, id));
  return row;
}

/**
 * Opens attempt N+1 on a delivery. The row lock serialises an attempt that Temporal started
 * while a timed-out predecessor is still finishing; attempts a dead worker left `running`
 * are closed as `interrupted`.
 */
export async function startAttempt(db: Db, deliveryId: string): Promise<AttemptRow> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from ${deliveries} where ${deliveries.id} = ${deliveryId} for update`);
    await tx
      .update(deliveryAttempts)
      .set({
        outcome: 'interrupted',
        finishedAt: new Date(),
        message: 'attempt ended without a result (worker stopped or timed out)',
      })
      .where(and(eq(deliveryAttempts.deliveryId, deliveryId), eq(deliveryAttempts.outcome, 'running')));
    const [last] = await tx
      .select({ attempt: deliveryAttempts.attempt })
      .from(deliveryAttempts)
      .where(eq(deliveryAttempts.deliveryId, deliveryId))
      .orderBy(desc(deliveryAttempts.attempt))
      .limit(1);
    const attempt = (last?.attempt ?? 0) + 1;
    const [row] = await tx.insert(deliveryAttempts).values({ deliveryId, attempt }).returning();
    await tx
      .update(deliveries)
      .set({ attempts: attempt, lastAttemptAt: row!.startedAt, updatedAt: new Date() })
      .where(eq(deliveries.id, deliveryId));
    return row!;
  });
}

export interface AttemptResult {
  outcome: 'succeeded' | 'failed';
  httpStatus?: number;
  remoteCode?: string;
  message?: string;
  durationMs?: number;
  retryable?: boolean;
}

export async function finishAttempt(db: Db, attempt: AttemptRow, result: AttemptResult): Promise<void> {
  const finishedAt = new Date();
  await db
    .update(deliveryAttempts)
    .set({
      outcome: result.outcome,
      finishedAt,
      durationMs: result.durationMs ?? finishedAt.getTime() - attempt.startedAt.getTime(),
      httpStatus: result.httpStatus,
      remoteCode: result.remoteCode,
      message: result.message?.slice(0, 4000),
      retryable: result.retryable,
    })
    .where(eq(deliveryAttempts.id, attempt.id));
  if (result.outcome === 'failed') {
    await db
      .update(deliveries)
      .set({ lastError: result.message?.slice(0, 4000), updatedAt: finishedAt })
      .where(eq(deliveries.id, attempt.deliveryId));
  }
}

export async function markDelivered(
  db: Pick<Db, 'update'>,
  deliveryId: string,
  ticketId?: string,
): Promise<void> {
  await db
    .update(deliveries)
    .set({ status: 'delivered', ticketId, deliveredAt: new Date(), updatedAt: new Date() })
    .where(eq(deliveries.id, deliveryId));
}

export async function markFailed(
  db: Pick<Db, 'transaction'>,
  deliveryId: string,
  error: string,
): Promise<void> {
  const now = new Date();
  await db.transaction(async (tx) => {
    // An attempt cut on its last allowed try (worker died, activity timed out) is never closed by
    // a later startAttempt: close it here.
    await tx
      .update(deliveryAttempts)
      .set({
        outcome: 'interrupted',
        finishedAt: now,
        message: 'attempt ended without a result (worker stopped or timed out)',
      })
      .where(and(eq(deliveryAttempts.deliveryId, deliveryId), eq(deliveryAttempts.outcome, 'running')));
    await tx
      .update(deliveries)
      .set({ status: 'failed', lastError: error.slice(0, 4000), updatedAt: now })
      .where(and(eq(deliveries.id, deliveryId), sql`${deliveries.status} <> 'delivered'`));
  });
}

/** A delivery that failed for good, with its audit entry. */
export async function recordDeliveryFailed(
  db: Db,
  input: { deliveryId: string; eventId: string; connectorId: string; error: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    await markFailed(tx, input.deliveryId, input.error);
    await audit(tx, {
      actor: 'system',
      action: 'delivery.failed',
      subjectType: 'delivery',
      subjectId: input.deliveryId,
      details: { event_id: input.eventId, connector_id: input.connectorId, error: input.error },
    });
  });
}

/** A SIEM event delivered, with its audit entry (a client that sees `delivered` finds the entry). */
export async function recordEventDelivered(
  db: Db,
  input: { deliveryId: string; eventId: string; connectorId: string; message: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    await markDelivered(tx, input.deliveryId);
    await audit(tx, {
      actor: 'system',
      action: 'delivery.delivered',
      subjectType: 'delivery',
      subjectId: input.deliveryId,
      details: { event_id: input.eventId, connector_id: input.connectorId, message: input.message },
    });
  });
}

/** A manual push or replay takes the delivery back to `pending`; who asked is audited. */
export async function reopenDelivery(
  db: Db,
  delivery: DeliveryRow,
  input: { requestedBy: string; reason: 'manual' | 'replay' },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(deliveries)
      .set({ status: 'pending', updatedAt: new Date() })
      .where(eq(deliveries.id, delivery.id));
    await audit(tx, {
      actor: input.requestedBy,
      action: input.reason === 'replay' ? 'delivery.replayed' : 'ticket.pushed',
      subjectType: 'delivery',
      subjectId: delivery.id,
      details: { event_id: delivery.eventId, connector_id: delivery.connectorId },
    });
  });
}

export const deliveriesOf = (db: Db, eventId: string) =>
  db.select().from(deliveries).where(eq(deliveries.eventId, eventId)).orderBy(asc(deliveries.createdAt));

export const listAttempts = (db: Db, deliveryId: string) =>
  db
    .select()
    .from(deliveryAttempts)
    .where(eq(deliveryAttempts.deliveryId, deliveryId))
    .orderBy(deliveryAttempts.attempt);

export const toPublicDelivery = (d: DeliveryRow) => ({
  id: d.id,
  connector_id: d.connectorId,
  kind: d.kind,
  purpose: d.purpose,
  event_id: d.eventId,
  status: d.status,
  attempts: d.attempts,
  last_error: d.lastError,
  last_attempt_at: d.lastAttemptAt?.toISOString() ?? null,
  ticket_id: d.ticketId,
  created_at: d.createdAt.toISOString(),
  updated_at: d.updatedAt.toISOString(),
});

export const toPublicAttempt = (a: AttemptRow) => ({
  attempt: a.attempt,
  outcome: a.outcome,
  started_at: a.startedAt.toISOString(),
  finished_at: a.finishedAt?.toISOString() ?? null,
  duration_ms: a.durationMs,
  http_status: a.httpStatus,
  remote_code: a.remoteCode,
  message: a.message,
  retryable: a.retryable,
});
