import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { deliveries, deliveryAttempts, tickets } from '../schema.js';

export type DeliveryRow = typeof deliveries.$inferSelect;
export type AttemptRow = typeof deliveryAttempts.$inferSelect;
export type TicketRow = typeof tickets.$inferSelect;

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

export const listAttempts = (db: Db, deliveryId: string) =>
  db
    .select()
    .from(deliveryAttempts)
    .where(eq(deliveryAttempts.deliveryId, deliveryId))
    .orderBy(deliveryAttempts.attempt);

export async function upsertTicket(
  db: Pick<Db, 'insert'>,
  t: typeof tickets.$inferInsert,
): Promise<TicketRow> {
  const [row] = await db
    .insert(tickets)
    .values(t)
    .onConflictDoUpdate({
      target: tickets.idempotencyKey,
      // A claimed row (correlation) gets its remote reference once the create succeeded.
      set: {
        externalId: t.externalId,
        externalUrl: t.externalUrl,
        remoteId: t.remoteId,
        sysId: t.sysId,
        updatedAt: new Date(),
      },
    })
    .returning();
  return row!;
}

export const toPublicTicket = (t: TicketRow) => ({
  id: t.id,
  connector_id: t.connectorId,
  kind: t.kind,
  event_id: t.eventId,
  external_id: t.externalId,
  external_url: t.externalUrl,
  ...(t.sysId ? { sys_id: t.sysId } : {}),
  status: t.status,
  severity: t.severity,
  priority: t.priority,
  correlation_key: t.correlationKey,
  recurrence_count: t.recurrenceCount,
  sla_due_at: t.slaDueAt?.toISOString() ?? null,
  sla_breached: t.slaBreached,
  created_at: t.createdAt.toISOString(),
  updated_at: t.updatedAt.toISOString(),
});

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
