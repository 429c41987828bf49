import { WorkflowNotFoundError } from '@temporalio/client';
import { and, desc, eq, gt, inArray, or, sql } from 'drizzle-orm';
import { ticketIdempotencyKey } from '../connectors/idempotency.js';
import { audit } from '../db/repos/audit.js';
import { deliveries, ticketEvents, tickets } from '../db/schema.js';
import { parseDuration } from '../domain/duration.js';
import type { TicketSpec } from '../domain/plan.js';
import { EscalateSeverity, EscalateTicketStatus } from '../domain/search-attributes.js';
import type { Severity } from '../domain/severity.js';
import type { ticketSyncWorkflow } from '../workflows/ticket-sync.js';
import type { ActivityDeps } from './deps.js';

export type Claim =
  | { role: 'owner'; ticketId: string }
  | { role: 'recurrence'; ticketId: string; reopen: boolean; externalId: string | null };

export const ticketWorkflowId = (ticketId: string) => `ticket-${ticketId}`;

export function claimActivities(deps: ActivityDeps) {
  const { db } = deps;

  async function signalTicket(ticketId: string, signal: 'created' | 'recurrence', signalArgs: unknown[]) {
    const [t] = await db.select().from(tickets).where(eq(tickets.id, ticketId));
    if (!t) return;
    await deps.temporal.workflow.signalWithStart<typeof ticketSyncWorkflow, unknown[]>('ticketSyncWorkflow', {
      workflowId: ticketWorkflowId(ticketId),
      taskQueue: deps.taskQueue,
      args: [{ ticketId }],
      signal,
      signalArgs,
      typedSearchAttributes: [
        { key: EscalateSeverity, value: t.severity },
        { key: EscalateTicketStatus, value: t.status },
      ],
      staticSummary: `${t.priority} ${t.kind} ticket ${t.externalId ?? '(being created)'} for ${t.eventId}`,
    });
  }

  return {
    /**
     * Decides, under a per-(connector, correlation key) lock, whether this event opens a ticket or
     * recurs on an active one. Race-free: concurrent events with one key serialise here, and the
     * first one's claim (a ticket row without an external id yet) is what the others join.
     * Idempotent: a retried claim for the same delivery returns the same answer.
     */
    async claimTicket(input: {
      deliveryId: string;
      connectorId: string;
      eventId: string;
      severity: Severity;
      priority: Severity;
      spec: TicketSpec;
      kind: string;
    }): Promise<Claim> {
      const { spec } = input;
      return db.transaction(async (tx) => {
        await tx.execute(
          sql`select pg_advisory_xact_lock(hashtextextended(${`${input.connectorId}|${spec.correlationKey}`}, 0))`,
        );
        const [delivery] = await tx.select().from(deliveries).where(eq(deliveries.id, input.deliveryId));
        if (delivery?.ticketId) {
          const [t] = await tx.select().from(tickets).where(eq(tickets.id, delivery.ticketId));
          if (t && t.eventId === input.eventId) return { role: 'owner', ticketId: t.id };
          if (t) return { role: 'recurrence', ticketId: t.id, reopen: false, externalId: t.externalId };
        }
        const now = new Date();
        const reopenSince = new Date(now.getTime() - (spec.reopenWithinMs ?? 0));
        const [active] = await tx
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
          .limit(1);
        if (active) {
          await tx
            .update(tickets)
            .set({
              recurrenceCount: sql`${tickets.recurrenceCount} + 1`,
              lastRecurrenceAt: now,
              updatedAt: now,
            })
            .where(eq(tickets.id, active.id));
          await tx
            .insert(ticketEvents)
            .values({ ticketId: active.id, type: 'recurrence', eventId: input.eventId, actor: 'system' });
          await tx
            .update(deliveries)
            .set({
              ticketId: active.id,
              status: 'delivered',
              deliveredAt: now,
              updatedAt: now,
              lastError: null,
            })
            .where(eq(deliveries.id, input.deliveryId));
          await audit(tx, {
            actor: 'system',
            action: 'ticket.recurrence',
            subjectType: 'ticket',
            subjectId: active.id,
            details: {
              event_id: input.eventId,
              correlation_key: spec.correlationKey,
              reopen: active.status === 'resolved',
            },
          });
          return {
            role: 'recurrence',
            ticketId: active.id,
            // With a reopen window, also when the ticket resolves between this claim and the
            // signal (its auto-resolve timer may fire first): the workflow reopens only if resolved.
            reopen: active.status === 'resolved' || Boolean(spec.reopenWithinMs),
            externalId: active.externalId,
          };
        }
        const slaMs = spec.slaMs ?? parseDuration(deps.settings.sla[input.priority]);
        const [claimed] = await tx
          .insert(tickets)
          .values({
            connectorId: input.connectorId,
            kind: input.kind,
            eventId: input.eventId,
            idempotencyKey: ticketIdempotencyKey(input.connectorId, input.eventId),
            severity: input.severity,
            priority: input.priority,
            correlationKey: spec.correlationKey,
            ruleId: spec.ruleId,
            autoResolveAfterMs: spec.autoResolveAfterMs,
            reopenWithinMs: spec.reopenWithinMs,
            slaMs,
            slaDueAt: new Date(now.getTime() + slaMs),
          })
          .onConflictDoUpdate({ target: tickets.idempotencyKey, set: { updatedAt: now } })
          .returning();
        await tx.update(deliveries).set({ ticketId: claimed!.id }).where(eq(deliveries.id, input.deliveryId));
        return { role: 'owner', ticketId: claimed!.id };
      });
    },

    /** The owner's create failed for good: drop the claim so the next event opens a ticket. */
    async releaseTicketClaim(input: { ticketId: string; error: string }): Promise<void> {
      await db.transaction(async (tx) => {
        const [t] = await tx.select().from(tickets).where(eq(tickets.id, input.ticketId));
        if (!t || t.externalId) return;
        await tx
          .update(deliveries)
          .set({
            status: 'failed',
            ticketId: null,
            lastError: `correlated ticket could not be created: ${input.error}`,
            updatedAt: new Date(),
          })
          .where(and(eq(deliveries.ticketId, t.id), sql`${deliveries.eventId} <> ${t.eventId}`));
        await tx.update(deliveries).set({ ticketId: null }).where(eq(deliveries.ticketId, t.id));
        await tx.delete(ticketEvents).where(eq(ticketEvents.ticketId, t.id));
        await tx.delete(tickets).where(eq(tickets.id, t.id));
      });
      try {
        await deps.temporal.workflow.getHandle(ticketWorkflowId(input.ticketId)).signal('abandoned');
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },

    /** Starts the ticket's TicketSyncWorkflow (or tells the running one the ticket now exists). */
    async startTicketSync(input: { ticketId: string }): Promise<void> {
      await signalTicket(input.ticketId, 'created', []);
    },

    /** Tells the ticket's workflow about a recurrence (starting it if a recurrence beat the creator). */
    async signalRecurrence(input: { ticketId: string; eventId: string; reopen: boolean }): Promise<void> {
      await signalTicket(input.ticketId, 'recurrence', [{ eventId: input.eventId, reopen: input.reopen }]);
    },
  };
}
