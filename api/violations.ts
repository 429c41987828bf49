import { createHash } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { asc, eq, inArray, or } from 'drizzle-orm';
import { toPublicDelivery } from '../db/repos/deliveries.js';
import { toPublicTicket } from '../db/repos/tickets.js';
import {
  getViolation,
  insertViolation,
  markViolationStarted,
  markViolationStartRefused,
  storedCompactEvent,
} from '../db/repos/violations.js';
import { deliveries, tickets } from '../db/schema.js';
import { canonicalJson } from '../domain/canonical-json.js';
import { compactEvent, type ViolationEvent, violationEventSchema } from '../domain/event.js';
import { deriveSeverity } from '../domain/severity.js';
import { violationsReceived } from '../infra/metrics.js';
import { startViolation, temporalRejection } from '../infra/workflow-client.js';
import { violationWorkflowId } from '../workflows/contract.js';
import { logFields } from './access-log.js';
import type { ApiDeps } from './deps.js';
import { apiError } from './errors.js';
import { createRouter } from './router.js';
import { DeliverySchema, errorResponse, jsonContent, TicketSchema } from './schemas.js';

const AcceptedSchema = z
  .object({ event_id: z.string(), workflow_id: z.string(), status_url: z.string() })
  .openapi('ViolationAccepted');

const VIOLATION_STATUSES = ['processing', 'completed', 'partially_failed', 'failed'] as const;

export const ViolationSchema = z
  .object({
    event_id: z.string(),
    workflow_id: z.string(),
    status: z.enum(VIOLATION_STATUSES),
    severity: z.string(),
    payload: z.record(z.string(), z.unknown()),
    decisions: z.array(z.unknown()),
    tickets: z.array(TicketSchema),
    deliveries: z.array(DeliverySchema),
    received_at: z.string(),
    completed_at: z.string().nullable(),
    /** Why Temporal refused to start the workflow (the violation then failed before any delivery). */
    start_error: z.string().nullable(),
  })
  .openapi('Violation');

// Domain schemas are plain zod (the API must not depend on import order for the openapi extension).
const EventSchema = violationEventSchema;

export const bodyHash = (raw: unknown) => createHash('sha256').update(canonicalJson(raw)).digest('hex');

const accepted = (eventId: string) => ({
  event_id: eventId,
  workflow_id: violationWorkflowId(eventId),
  status_url: `/v1/violations/${eventId}`,
});

type AcceptOutcome =
  | { kind: 'accepted' | 'duplicate'; body: ReturnType<typeof accepted> }
  /** Same event_id, another body. */
  | { kind: 'conflict'; message: string }
  /** Temporal refused the workflow start as invalid (the row is flagged, the violation failed). */
  | { kind: 'rejected'; message: string };

/**
 * Stores the violation, then starts its workflow; answers only once Temporal acknowledged it.
 * A replay of the same body is answered from the stored row (starting the workflow if an
 * earlier attempt stored the row but never got its start acknowledged).
 */
export async function acceptViolation(
  deps: ApiDeps,
  raw: Record<string, unknown>,
  event: ViolationEvent,
  acceptedBy = 'api',
): Promise<AcceptOutcome> {
  const hash = bodyHash(raw);
  const occurredAt = event.occurred_at ?? new Date().toISOString();
  const compact = compactEvent(event, occurredAt, deps.settings.risk_bands);
  const severity = deriveSeverity(event, deps.settings.risk_bands);
  const count = (result: AcceptOutcome['kind']) =>
    violationsReceived.inc({ event_type: event.event_type, severity, result });
  const { row, inserted } = await insertViolation(deps.database.db, {
    eventId: event.event_id,
    payload: { ...raw, occurred_at: occurredAt },
    bodyHash: hash,
    eventType: event.event_type,
    severity,
    riskScore: event.risk_score,
    platformId: event.platform_id,
    occurredAt: new Date(occurredAt),
    workflowId: violationWorkflowId(event.event_id),
  });
  if (!inserted && row.bodyHash !== hash) {
    count('conflict');
    return {
      kind: 'conflict',
      message: `event_id ${event.event_id} was already accepted with a different body`,
    };
  }
  if (inserted || !row.startedAt) {
    try {
      await startViolation(deps.workflows, inserted ? compact : storedCompactEvent(row), acceptedBy);
    } catch (err) {
      const reason = temporalRejection(err);
      if (!reason) throw err;
      await markViolationStartRefused(deps.database.db, event.event_id, reason);
      count('rejected');
      return { kind: 'rejected', message: `Temporal refused to start the workflow: ${reason}` };
    }
    await markViolationStarted(deps.database.db, event.event_id);
  }
  // A retry that completed an earlier, unacknowledged acceptance (it got a 503) is the accepting one.
  const kind = inserted || !row.startedAt ? 'accepted' : 'duplicate';
  count(kind);
  return { kind, body: accepted(event.event_id) };
}

export function violationsRouter(deps: ApiDeps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/violations',
      summary: 'Accept a violation (durable once answered 202)',
      request: { body: { required: true, content: { 'application/json': { schema: EventSchema } } } },
      responses: {
        202: jsonContent(AcceptedSchema, 'Accepted: the workflow start was acknowledged by Temporal'),
        200: jsonContent(
          AcceptedSchema,
          'Already accepted with the same body (a retry after a 503 gets 202: the 503 acknowledged nothing)',
        ),
        400: errorResponse(
          'Invalid event (details lists every offending field), or a workflow start Temporal refused',
        ),
        409: errorResponse('Same event_id, different body'),
        413: errorResponse(
          'Body over 256 KiB (payload_too_large) or over 50,000 JSON values (too_many_values)',
        ),
        415: errorResponse('Body is not JSON'),
      },
    }),
    async (c) => {
      const event = c.req.valid('json') as ViolationEvent;
      const outcome = await acceptViolation(
        deps,
        c.get('rawBody') as Record<string, unknown>,
        event,
        c.get('actor'),
      );
      logFields(c, { event_id: event.event_id, workflow_id: violationWorkflowId(event.event_id) });
      if (outcome.kind === 'conflict') return apiError(c, 409, 'conflict', outcome.message);
      if (outcome.kind === 'rejected') return apiError(c, 400, 'temporal_rejected', outcome.message);
      return c.json(outcome.body, outcome.kind === 'accepted' ? 202 : 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/violations/{event_id}',
      summary: 'A violation with its decisions, tickets and deliveries',
      request: { params: z.object({ event_id: z.uuid() }) },
      responses: {
        200: jsonContent(ViolationSchema, 'The violation'),
        404: errorResponse('Unknown event_id'),
      },
    }),
    async (c) => {
      const { event_id } = c.req.valid('param');
      const db = deps.database.db;
      const row = await getViolation(db, event_id);
      if (!row) return apiError(c, 404, 'not_found', `no violation with event_id ${event_id}`);
      const deliveryRows = await db
        .select()
        .from(deliveries)
        .where(eq(deliveries.eventId, event_id))
        .orderBy(asc(deliveries.createdAt));
      // The tickets this event opened, and those it recurred on.
      const joined = deliveryRows.flatMap((d) => (d.ticketId ? [d.ticketId] : []));
      const ticketRows = await db
        .select()
        .from(tickets)
        .where(
          joined.length
            ? or(eq(tickets.eventId, event_id), inArray(tickets.id, joined))
            : eq(tickets.eventId, event_id),
        )
        .orderBy(asc(tickets.createdAt));
      return c.json(
        {
          event_id: row.eventId,
          workflow_id: row.workflowId,
          status: row.status as z.infer<typeof ViolationSchema>['status'],
          severity: row.severity,
          payload: row.payload,
          decisions: row.decisions ?? [],
          tickets: ticketRows.map(toPublicTicket),
          deliveries: deliveryRows.map((d) => ({ ...toPublicDelivery(d), status: d.status as 'pending' })),
          received_at: row.receivedAt.toISOString(),
          completed_at: row.completedAt?.toISOString() ?? null,
          start_error: row.startError,
        },
        200,
      );
    },
  );

  return router;
}
