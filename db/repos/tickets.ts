import { and, desc, eq, gt, inArray, isNotNull, or, sql } from 'drizzle-orm';
import type { TicketClaim, TicketSpec } from '../../domain/plan.js';
import { raiseSeverity, type Severity } from '../../domain/severity.js';
import type { TicketStatus, TransitionSource } from '../../domain/ticket-status.js';
import type { Db } from '../client.js';
import { auditEntries, deliveries, ticketEvents, tickets } from '../schema.js';
import { type FinishedAttempt, finishAttemptCte, releaseLeaseSet } from './attempts.js';
import { audit } from './audit.js';
import { at, rowOf } from './rows.js';

export type TicketRow = typeof tickets.$inferSelect;
type TicketEventInsert = Omit<typeof ticketEvents.$inferInsert, 'ticketId'>;

export async function getTicket(db: Db, id: string): Promise<TicketRow | undefined> {
  const [row] = await db.select().from(tickets).where(eq(tickets.id, id));
  return row;
}

/** The ticket a delivery's idempotency key names, once it exists remotely (an external id). */
export async function createdTicketByKey(db: Db, idempotencyKey: string): Promise<TicketRow | undefined> {
  const [row] = await db
    .select()
    .from(tickets)
    .where(and(eq(tickets.idempotencyKey, idempotencyKey), isNotNull(tickets.externalId)));
  return row;
}

export const ticketEventsOf = (db: Db, ticketId: string) =>
  db
    .select()
    .from(ticketEvents)
    .where(eq(ticketEvents.ticketId, ticketId))
    .orderBy(ticketEvents.at, ticketEvents.id);

/** One line of a ticket's story (a comment, a note that came from the ITSM...). */
export async function addTicketEvent(db: Db, ticketId: string, e: TicketEventInsert): Promise<void> {
  await db.insert(ticketEvents).values({ ticketId, ...e, note: e.note?.slice(0, 4000) });
}

/**
 * A comment escalate posted to the ITSM (`remoteId`: the ITSM's comment id). If the ITSM's
 * webhook for that very comment was recorded first, that line becomes this one: one line per comment.
 */
export async function recordPostedComment(
  db: Db,
  ticketId: string,
  c: { remoteId?: string; actor: string; note: string },
): Promise<void> {
  const row = {
    ticketId,
    type: 'comment',
    actor: c.actor,
    note: c.note.slice(0, 4000),
    remoteId: c.remoteId,
  };
  if (!c.remoteId) {
    await db.insert(ticketEvents).values(row);
    return;
  }
  await db
    .insert(ticketEvents)
    .values(row)
    .onConflictDoUpdate({
      target: [ticketEvents.ticketId, ticketEvents.remoteId],
      set: { source: null, actor: c.actor, note: row.note },
    });
}

/**
 * A comment made in the ITSM (its webhook): added to the story unless that comment is already
 * there — escalate posted it, or the webhook came twice. True when it was added.
 */
export async function recordItsmComment(
  db: Db,
  ticketId: string,
  c: { remoteId: string; actor: string; note: string },
): Promise<boolean> {
  const added = await db
    .insert(ticketEvents)
    .values({
      ticketId,
      type: 'comment',
      source: 'itsm',
      actor: c.actor,
      note: c.note.slice(0, 4000),
      remoteId: c.remoteId,
    })
    .onConflictDoNothing({ target: [ticketEvents.ticketId, ticketEvents.remoteId] })
    .returning({ id: ticketEvents.id });
  return added.length > 0;
}

export type Claim = TicketClaim;

export interface ClaimInput {
  deliveryId: string;
  connectorId: string;
  eventId: string;
  kind: string;
  severity: Severity;
  priority: Severity;
  spec: TicketSpec;
  idempotencyKey: string;
  slaMs: number;
}

/**
 * Decides, under a per-(connector, correlation key) lock, whether this event opens a ticket or
 * recurs on an active one. Race-free: concurrent events with one key serialise here, and the
 * first one's claim (a ticket row without an external id yet) is what the others join.
 * Idempotent: a retried claim for the same delivery returns the same answer.
 *
 * Four round trips: BEGIN; the lock and both reads pipelined; the decision's writes; COMMIT. The
 * reads must run after the lock: pipelined statements reach the transaction's connection in the
 * order they are listed (Promise.all subscribes in order; drizzle hands each to postgres.js
 * synchronously, which queues it one tick later), and PostgreSQL runs them one after the other,
 * each read with a snapshot taken once the lock is held. The correlation tests (50 concurrent
 * events on one key) hold this to one ticket. The writes do not depend on their order: the
 * recurrence's are independent, a new claim and its link are one statement.
 */
export function claimTicket(db: Db, input: ClaimInput): Promise<Claim> {
  const { spec } = input;
  // Read before the lock is held (the reads are pipelined behind it): the window starts no later.
  const reopenSince = new Date(Date.now() - (spec.reopenWithinMs ?? 0));
  return db.transaction(async (tx) => {
    const [, [earlier], [active]] = await Promise.all([
      tx.execute(
        sql`select pg_advisory_xact_lock(hashtextextended(${`${input.connectorId}|${spec.correlationKey}`}, 0))`,
      ),
      // The ticket an earlier claim of this delivery decided, if any.
      tx
        .select({ ticket: tickets })
        .from(deliveries)
        .innerJoin(tickets, eq(tickets.id, deliveries.ticketId))
        .where(eq(deliveries.id, input.deliveryId)),
      tx
        .select()
        .from(tickets)
        .where(
          and(
            eq(tickets.connectorId, input.connectorId),
            eq(tickets.correlationKey, spec.correlationKey),
            or(
              inArray(tickets.status, ['open', 'in_progress']),
              spec.reopenWithinMs
                ? and(eq(tickets.status, 'resolved'), gt(tickets.resolvedAt, reopenSince))
                : undefined,
            ),
          ),
        )
        .orderBy(desc(tickets.createdAt))
        .limit(1),
    ]);
    if (earlier) {
      const t = earlier.ticket;
      if (t.eventId === input.eventId) return { role: 'owner', ticketId: t.id };
      // A retried claim answers as the first one did: a resolved ticket in its window still reopens.
      return {
        role: 'recurrence',
        ticketId: t.id,
        reopen: t.status === 'resolved' || Boolean(spec.reopenWithinMs),
        externalId: t.externalId,
      };
    }
    if (active) {
      const now = new Date();
      // Independent writes, pipelined.
      await Promise.all([
        tx
          .update(tickets)
          .set({
            recurrenceCount: sql`${tickets.recurrenceCount} + 1`,
            lastRecurrenceAt: now,
            updatedAt: now,
          })
          .where(eq(tickets.id, active.id)),
        tx
          .insert(ticketEvents)
          .values({ ticketId: active.id, type: 'recurrence', eventId: input.eventId, actor: 'system' }),
        tx
          .update(deliveries)
          .set({
            ticketId: active.id,
            status: 'delivered',
            deliveredAt: now,
            updatedAt: now,
            lastError: null,
          })
          .where(eq(deliveries.id, input.deliveryId)),
        audit(tx, {
          actor: 'system',
          action: 'ticket.recurrence',
          subjectType: 'ticket',
          subjectId: active.id,
          details: {
            event_id: input.eventId,
            correlation_key: spec.correlationKey,
            reopen: active.status === 'resolved',
          },
        }),
      ]);
      return {
        role: 'recurrence',
        ticketId: active.id,
        // With a reopen window, also when the ticket resolves between this claim and the signal
        // (its auto-resolve timer may fire first): the workflow reopens only if resolved.
        reopen: active.status === 'resolved' || Boolean(spec.reopenWithinMs),
        externalId: active.externalId,
      };
    }
    // The claim and the delivery's link to it, one statement.
    const now = new Date();
    const [claimed] = await tx.execute<{ id: string }>(sql`
      with t as (
        insert into ${tickets} (connector_id, kind, event_id, idempotency_key, severity, priority,
          correlation_key, rule_id, auto_resolve_after_ms, reopen_within_ms, sla_ms, sla_due_at)
        values (${input.connectorId}, ${input.kind}, ${input.eventId}::uuid, ${input.idempotencyKey},
          ${input.severity}, ${input.priority}, ${spec.correlationKey}, ${spec.ruleId ?? null},
          ${spec.autoResolveAfterMs ?? null}::bigint, ${spec.reopenWithinMs ?? null}::bigint,
          ${input.slaMs}::bigint, ${at(new Date(now.getTime() + input.slaMs))}::timestamptz)
        on conflict (idempotency_key) do update set updated_at = ${at(now)}::timestamptz
        returning id
      ), linked as (
        update ${deliveries} set ticket_id = (select id from t) where id = ${input.deliveryId}
      )
      select id from t`);
    return { role: 'owner', ticketId: claimed!.id };
  });
}

/**
 * The owner's create failed for good: the claim is dropped so the next event opens a ticket, and
 * the events that had joined it are failed with the reason. A ticket that was created is kept.
 */
export function releaseTicketClaim(
  db: Db,
  ticketId: string,
  error: string,
): Promise<'released' | 'already_gone' | 'created'> {
  return db.transaction(async (tx) => {
    const [t] = await tx.select().from(tickets).where(eq(tickets.id, ticketId));
    if (!t) return 'already_gone';
    if (t.externalId) return 'created';
    await tx
      .update(deliveries)
      .set({
        status: 'failed',
        ticketId: null,
        lastError: `correlated ticket could not be created: ${error}`,
        updatedAt: new Date(),
      })
      .where(and(eq(deliveries.ticketId, t.id), sql`${deliveries.eventId} <> ${t.eventId}`));
    await tx.update(deliveries).set({ ticketId: null }).where(eq(deliveries.ticketId, t.id));
    await tx.delete(ticketEvents).where(eq(ticketEvents.ticketId, t.id));
    await tx.delete(tickets).where(eq(tickets.id, t.id));
    return 'released';
  });
}

/**
 * The remote ticket exists: its row (a claim gets its remote reference; a manual push opens the
 * row), the delivery marked delivered, the audit entry, the successful attempt's row and the
 * delivery's lease released, in one statement: whoever sees the ticket's remote reference also
 * sees the delivery done.
 */
export async function recordTicketCreated(
  db: Db,
  input: {
    deliveryId: string;
    ticket: typeof tickets.$inferInsert;
    adopted: boolean;
    finished?: FinishedAttempt;
    leaseToken?: string;
  },
): Promise<TicketRow> {
  const t = input.ticket;
  const details = { event_id: t.eventId, connector_id: t.connectorId, external_id: t.externalId };
  const rows = await db.execute<Record<string, unknown>>(sql`
    with fin as (${finishAttemptCte(input.finished)}),
    t as (
      insert into tickets (connector_id, kind, event_id, idempotency_key, external_id, external_url,
        remote_id, sys_id, severity, priority, sla_ms, sla_due_at)
      values (${t.connectorId}, ${t.kind}, ${t.eventId}, ${t.idempotencyKey}, ${t.externalId ?? null},
        ${t.externalUrl ?? null}, ${t.remoteId ?? null}, ${t.sysId ?? null}, ${t.severity}, ${t.priority},
        ${t.slaMs ?? null}::bigint, ${t.slaDueAt ? at(t.slaDueAt) : null}::timestamptz)
      on conflict (idempotency_key) do update set external_id = excluded.external_id,
        external_url = excluded.external_url, remote_id = excluded.remote_id, sys_id = excluded.sys_id,
        updated_at = now()
      returning *
    ), d as (
      update deliveries set status = 'delivered', ticket_id = (select id from t), delivered_at = now(),
        updated_at = now(), ${releaseLeaseSet(input.leaseToken)}
      where id = ${input.deliveryId}
    ), a as (
      insert into audit_entries (actor, action, subject_type, subject_id, details)
      select 'system', ${input.adopted ? 'ticket.adopted' : 'ticket.created'}, 'ticket', id::text,
        ${JSON.stringify(details)}::jsonb
      from t
    )
    select * from t`);
  return rowOf(tickets, rows[0]!);
}

export interface Transition {
  ticketId: string;
  from: TicketStatus;
  to: TicketStatus;
  source: TransitionSource;
  actor: string;
  note?: string;
}

/** Mirrors a status change to PostgreSQL: the ticket row, its story and the audit trail, together. */
export async function recordTransition(db: Db, input: Transition): Promise<void> {
  const now = new Date();
  await db.transaction(async (tx) => {
    await tx
      .update(tickets)
      .set({
        status: input.to,
        updatedAt: now,
        ...(input.to === 'resolved' ? { resolvedAt: now } : {}),
        ...(input.to === 'closed' ? { closedAt: now } : {}),
        ...(input.to === 'open' || input.to === 'in_progress' ? { resolvedAt: null } : {}),
      })
      .where(eq(tickets.id, input.ticketId));
    await tx.insert(ticketEvents).values({
      ticketId: input.ticketId,
      type: 'transition',
      fromStatus: input.from,
      toStatus: input.to,
      source: input.source,
      actor: input.actor,
      note: input.note,
    });
    await audit(tx, {
      actor: input.actor,
      action: 'ticket.status_changed',
      subjectType: 'ticket',
      subjectId: input.ticketId,
      details: { from: input.from, to: input.to, source: input.source, note: input.note },
    });
  });
}

/**
 * SLA passed while open: the breach flag, the raised priority, the history entry and the audit
 * entry in one transaction. A retried attempt after a commit finds the flag set and raises
 * nothing twice (`newlyBreached` false). Undefined when the ticket is gone.
 */
export function recordEscalation(
  db: Db,
  ticketId: string,
): Promise<
  | { priority: Severity; previous: Severity; newlyBreached: boolean; connectorId: string; kind: string }
  | undefined
> {
  return db.transaction(async (tx) => {
    const [t] = await tx.select().from(tickets).where(eq(tickets.id, ticketId)).for('update');
    if (!t) return undefined;
    if (t.slaBreached) {
      const [done] = await tx
        .select({ details: auditEntries.details })
        .from(auditEntries)
        .where(
          and(
            eq(auditEntries.subjectType, 'ticket'),
            eq(auditEntries.subjectId, t.id),
            eq(auditEntries.action, 'ticket.sla_breached'),
          ),
        )
        .limit(1);
      const priority = t.priority as Severity;
      const previous = (done?.details?.previous_priority as Severity) ?? priority;
      return { priority, previous, newlyBreached: false, connectorId: t.connectorId, kind: t.kind };
    }
    const previous = t.priority as Severity;
    const priority = raiseSeverity(previous);
    await tx
      .update(tickets)
      .set({ slaBreached: true, priority, updatedAt: new Date() })
      .where(eq(tickets.id, t.id));
    await tx.insert(ticketEvents).values({
      ticketId: t.id,
      type: 'escalation',
      source: 'escalation',
      actor: 'system',
      note: `SLA breached: priority ${previous} → ${priority}`,
    });
    await audit(tx, {
      actor: 'system',
      action: 'ticket.sla_breached',
      subjectType: 'ticket',
      subjectId: t.id,
      details: { previous_priority: previous, priority },
    });
    return { priority, previous, newlyBreached: true, connectorId: t.connectorId, kind: t.kind };
  });
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
