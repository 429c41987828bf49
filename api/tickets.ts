import { createRoute, z } from '@hono/zod-openapi';
import { and, eq, getTableColumns, gte, isNotNull, type SQL } from 'drizzle-orm';
import { getTicket, ticketEventsOf, toPublicTicket } from '../db/repos/tickets.js';
import { tickets } from '../db/schema.js';
import { SEVERITIES } from '../domain/severity.js';
import { TICKET_STATUSES } from '../domain/ticket-status.js';
import { commentOnTicket } from '../infra/workflow-client.js';
import { ticketWorkflowId } from '../workflows/contract.js';
import { cursorAt, cursorCondition, newestFirst, page } from './cursor.js';
import type { ApiDeps } from './deps.js';
import { apiError } from './errors.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent, listOf, pageQuery, TicketSchema } from './schemas.js';
import { changeTicketStatus } from './ticket-changes.js';

const TicketEventSchema = z
  .object({
    type: z.string(),
    from_status: z.string().nullable(),
    to_status: z.string().nullable(),
    source: z.string().nullable(),
    event_id: z.string().nullable(),
    actor: z.string().nullable(),
    note: z.string().nullable(),
    at: z.string(),
  })
  .openapi('TicketEvent');

export const TicketDetailSchema = TicketSchema.extend({
  workflow_id: z.string(),
  rule_id: z.string().nullable(),
  resolved_at: z.string().nullable(),
  closed_at: z.string().nullable(),
  history: z.array(TicketEventSchema),
}).openapi('TicketDetail');

const idParam = z.object({ id: z.uuid() });

export function ticketsRouter(deps: ApiDeps) {
  const router = createRouter();
  const { db } = deps.database;

  const load = (id: string) => getTicket(db, id);

  router.openapi(
    createRoute({
      method: 'get',
      path: '/tickets',
      summary: 'Tickets, newest first',
      request: {
        query: pageQuery.extend({
          status: z.enum(TICKET_STATUSES).optional(),
          connector_id: z.string().max(64).optional(),
          severity: z.enum(SEVERITIES).optional(),
          since: z.iso.datetime({ offset: true }).optional(),
          sla_breached: z.enum(['true', 'false']).optional(),
        }),
      },
      responses: { 200: jsonContent(listOf(TicketSchema), 'Tickets'), 400: errorResponse('Invalid filter') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const conds: SQL[] = [isNotNull(tickets.externalId)];
      if (q.status) conds.push(eq(tickets.status, q.status));
      if (q.connector_id) conds.push(eq(tickets.connectorId, q.connector_id));
      if (q.severity) conds.push(eq(tickets.severity, q.severity));
      if (q.since) conds.push(gte(tickets.createdAt, new Date(q.since)));
      if (q.sla_breached) conds.push(eq(tickets.slaBreached, q.sla_breached === 'true'));
      const rows = await db
        .select({ ...getTableColumns(tickets), cursorAt: cursorAt(tickets.createdAt) })
        .from(tickets)
        .where(and(...conds, cursorCondition(q.cursor, tickets.createdAt, tickets.id)))
        .orderBy(...newestFirst(tickets.createdAt, tickets.id))
        .limit(q.limit + 1);
      const { items, next_cursor } = page(rows, q.limit, (t) => t.id);
      return c.json({ items: items.map(toPublicTicket), next_cursor }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/tickets/{id}',
      summary: 'One ticket with its transitions, recurrences, comments and SLA',
      request: { params: idParam },
      responses: { 200: jsonContent(TicketDetailSchema, 'The ticket'), 404: errorResponse('Unknown ticket') },
    }),
    async (c) => {
      const t = await load(c.req.valid('param').id);
      if (!t) return apiError(c, 404, 'not_found', 'no such ticket');
      const history = await ticketEventsOf(db, t.id);
      return c.json(
        {
          ...toPublicTicket(t),
          workflow_id: ticketWorkflowId(t.id),
          rule_id: t.ruleId,
          resolved_at: t.resolvedAt?.toISOString() ?? null,
          closed_at: t.closedAt?.toISOString() ?? null,
          history: history.map((e) => ({
            type: e.type,
            from_status: e.fromStatus,
            to_status: e.toStatus,
            source: e.source,
            event_id: e.eventId,
            actor: e.actor,
            note: e.note,
            at: e.at.toISOString(),
          })),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/tickets/{id}/status',
      summary:
        'Change the status on our side (pushed to the ITSM); refused transitions answer 409 with the reason',
      request: {
        params: idParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({ status: z.enum(TICKET_STATUSES), note: z.string().max(4000).optional() }),
            },
          },
        },
      },
      responses: {
        200: jsonContent(
          z.object({ result: z.enum(['applied', 'noop']), status: z.string() }),
          'Applied (or already so)',
        ),
        404: errorResponse('Unknown ticket'),
        409: errorResponse('Transition refused'),
      },
    }),
    async (c) => {
      const t = await load(c.req.valid('param').id);
      if (!t?.externalId) return apiError(c, 404, 'not_found', 'no such ticket');
      const body = c.req.valid('json');
      const outcome = await changeTicketStatus(deps, t, {
        status: body.status,
        source: 'api',
        actor: c.get('actor'),
        note: body.note,
      });
      if (outcome.kind === 'refused')
        return apiError(c, 409, 'invalid_transition', outcome.reason, { status: outcome.status });
      return c.json({ result: outcome.kind, status: outcome.status }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/tickets/{id}/comments',
      summary: 'Add a comment (Jira comment / ServiceNow work note), sent by the ticket workflow',
      request: {
        params: idParam,
        body: {
          required: true,
          content: { 'application/json': { schema: z.object({ text: z.string().min(1).max(32_000) }) } },
        },
      },
      responses: {
        202: jsonContent(
          z.object({ ticket_id: z.string(), status: z.literal('queued') }),
          'Queued for the ITSM',
        ),
        404: errorResponse('Unknown ticket'),
        409: errorResponse('Ticket closed'),
      },
    }),
    async (c) => {
      const t = await load(c.req.valid('param').id);
      if (!t?.externalId) return apiError(c, 404, 'not_found', 'no such ticket');
      if (t.status === 'closed') return apiError(c, 409, 'ticket_closed', 'the ticket is closed');
      await commentOnTicket(deps.workflows, t, { text: c.req.valid('json').text, actor: c.get('actor') });
      return c.json({ ticket_id: t.id, status: 'queued' as const }, 202);
    },
  );
  return router;
}
