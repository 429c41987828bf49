import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { type Notice, publicNotice } from '../../domain/notification.js';
import type { TicketSpec } from '../../domain/plan.js';
import type { Severity } from '../../domain/severity.js';
import type { Db } from '../client.js';
import { deliveries, deliveryAttempts, notificationThreads } from '../schema.js';
import { type FinishedAttempt, finishAttemptCte } from './attempts.js';
import { audit } from './audit.js';

export type DeliveryRow = typeof deliveries.$inferSelect;
export type AttemptRow = typeof deliveryAttempts.$inferSelect;

/**
 * The delivery of one event to one connector, opened once. An ITSM delivery keeps the ticket
 * planning decided (`ticketSpec`, `priority`) for every later attempt: the first one recorded
 * stays.
 */
export async function ensureDelivery(
  db: Db,
  d: {
    eventId: string;
    connectorId: string;
    kind: string;
    purpose: 'ticket' | 'event';
    ticketSpec?: TicketSpec;
    priority?: Severity;
  },
): Promise<DeliveryRow> {
  const [row] = await db
    .insert(deliveries)
    .values(d)
    .onConflictDoUpdate({
      // The unique index on (event, connector) covers only deliveries that are not notices.
      target: [deliveries.eventId, deliveries.connectorId],
      targetWhere: isNull(deliveries.noticeKey),
      set: {
        ticketSpec: sql`coalesce(${deliveries.ticketSpec}, excluded.ticket_spec)`,
        priority: sql`coalesce(${deliveries.priority}, excluded.priority)`,
      },
    })
    .returning();
  return row!;
}

/**
 * Takes the per-delivery lock that covers a ticket's lookup and create, as a lease until
 * `until` (a holder that dies leaves it to expire, nothing is held open meanwhile). True when
 * taken; false while another attempt holds it.
 */
export async function acquireDeliveryLease(db: Db, deliveryId: string, token: string, until: Date) {
  const [taken] = await db
    .update(deliveries)
    .set({ leaseToken: token, leaseUntil: until })
    .where(
      and(
        eq(deliveries.id, deliveryId),
        or(
          isNull(deliveries.leaseUntil),
          lt(deliveries.leaseUntil, sql`now()`),
          eq(deliveries.leaseToken, token),
        ),
      ),
    )
    .returning({ id: deliveries.id });
  return taken !== undefined;
}

export async function releaseDeliveryLease(db: Db, deliveryId: string, token: string): Promise<void> {
  await db
    .update(deliveries)
    .set({ leaseToken: null, leaseUntil: null })
    .where(and(eq(deliveries.id, deliveryId), eq(deliveries.leaseToken, token)));
}

/** The delivery of one notice to one connector: opened once, found again by its key. */
export async function ensureNoticeDelivery(
  db: Db,
  d: { eventId: string; connectorId: string; kind: string; notice: Notice; key: string },
): Promise<DeliveryRow> {
  const values = {
    eventId: d.eventId,
    connectorId: d.connectorId,
    kind: d.kind,
    purpose: 'notify',
    notice: d.notice as unknown as Record<string, unknown>,
    noticeKey: d.key,
  };
  const [created] = await db.insert(deliveries).values(values).onConflictDoNothing().returning();
  if (created) return created;
  const [existing] = await db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.connectorId, d.connectorId), eq(deliveries.noticeKey, d.key)));
  if (!existing) throw new Error(`notice delivery ${d.connectorId}/${d.key} vanished`);
  return existing;
}

/** The delivery of a violation to a connector (not a notice), if one was opened. */
export async function findDelivery(
  db: Db,
  eventId: string,
  connectorId: string,
): Promise<DeliveryRow | undefined> {
  const [row] = await db
    .select()
    .from(deliveries)
    .where(
      and(
        eq(deliveries.eventId, eventId),
        eq(deliveries.connectorId, connectorId),
        isNull(deliveries.noticeKey),
      ),
    );
  return row;
}

export async function getDelivery(db: Db, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.select().from(deliveries).where(eq(deliveries.id, id));
  return row;
}

export interface AttemptResult {
  /** `interrupted`: the attempt was cancelled (its HTTP call stopped). */
  outcome: 'succeeded' | 'failed' | 'interrupted';
  httpStatus?: number;
  remoteCode?: string;
  message?: string;
  durationMs?: number;
  retryable?: boolean;
  outcomeUnknown?: boolean;
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

/** The audit entry of a delivery's outcome, by the system. */
const auditOutcome = (
  tx: Pick<Db, 'insert'>,
  action: string,
  input: { deliveryId: string; eventId: string; connectorId: string },
  said: Record<string, string>,
) =>
  audit(tx, {
    actor: 'system',
    action,
    subjectType: 'delivery',
    subjectId: input.deliveryId,
    details: { event_id: input.eventId, connector_id: input.connectorId, ...said },
  });

/** A delivery that failed for good, with its audit entry. */
export async function recordDeliveryFailed(
  db: Db,
  input: { deliveryId: string; eventId: string; connectorId: string; error: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    await markFailed(tx, input.deliveryId, input.error);
    await auditOutcome(tx, 'delivery.failed', input, { error: input.error });
  });
}

/**
 * A SIEM event delivered, with its audit entry (a client that sees `delivered` finds the entry)
 * and the successful attempt's row: one statement.
 */
export async function recordEventDelivered(
  db: Db,
  input: {
    deliveryId: string;
    eventId: string;
    connectorId: string;
    message: string;
    finished?: FinishedAttempt;
  },
): Promise<void> {
  const details = { event_id: input.eventId, connector_id: input.connectorId, message: input.message };
  await db.execute(sql`
    with fin as (${finishAttemptCte(input.finished)}),
    d as (
      update deliveries set status = 'delivered', delivered_at = now(), updated_at = now()
      where id = ${input.deliveryId}
    )
    insert into audit_entries (actor, action, subject_type, subject_id, details)
    values ('system', 'delivery.delivered', 'delivery', ${input.deliveryId}, ${JSON.stringify(details)}::jsonb)`);
}

/**
 * A notification sent: the delivery delivered, its audit entry, and (a Slack bot's first message
 * about a ticket) the thread later notices about the ticket reply in.
 */
export async function recordNotificationSent(
  db: Db,
  input: {
    deliveryId: string;
    eventId: string;
    connectorId: string;
    message: string;
    thread?: { ticketId: string; channel: string; ts: string };
  },
): Promise<void> {
  await db.transaction(async (tx) => {
    await markDelivered(tx, input.deliveryId);
    if (input.thread)
      await tx
        .insert(notificationThreads)
        .values({ connectorId: input.connectorId, ...input.thread })
        .onConflictDoNothing();
    await auditOutcome(tx, 'notification.sent', input, { message: input.message });
  });
}

/** The Slack thread a ticket's notices reply in on this connector, if its first message started one. */
export async function getNotificationThread(
  db: Db,
  connectorId: string,
  ticketId: string,
): Promise<{ channel: string; ts: string } | undefined> {
  const [row] = await db
    .select({ channel: notificationThreads.channel, ts: notificationThreads.ts })
    .from(notificationThreads)
    .where(and(eq(notificationThreads.connectorId, connectorId), eq(notificationThreads.ticketId, ticketId)));
  return row;
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
  notice: d.notice ? publicNotice(d.notice as unknown as Notice) : null,
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
