import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { getConnectorRow, requireReadableSecrets } from '../db/repos/connectors.js';
import { ensureDelivery } from '../db/repos/deliveries.js';
import { toPublicTicket } from '../db/repos/tickets.js';
import { getViolation } from '../db/repos/violations.js';
import { tickets } from '../db/schema.js';
import { isItsmKind } from '../domain/connector.js';
import { startDelivery } from '../infra/workflow-client.js';
import { noAnswer, runConnectorAction } from './connector-actions.js';
import { refuseInFlight } from './deliveries.js';
import type { ApiDeps } from './deps.js';
import { ApiProblem, apiError } from './errors.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent, TicketSchema } from './schemas.js';

const PushBody = z.object({ connector_id: z.string().min(1).max(64) }).openapi('TicketPush');
const params = z.object({ event_id: z.uuid() });

const PreviewSchema = z
  .object({
    connector_id: z.string(),
    kind: z.string(),
    method: z.string(),
    url: z.string(),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
    body_json: z.unknown(),
  })
  .openapi('TicketPreview');

const PushAccepted = z
  .object({
    delivery_id: z.string(),
    workflow_id: z.string().optional(),
    status: z.string(),
    status_url: z.string(),
    ticket: TicketSchema.optional(),
  })
  .openapi('TicketPushAccepted');

/** Manual ticket creation and its preview for any stored violation. */
export function violationTicketsRouter(deps: ApiDeps) {
  const router = createRouter();
  const { db } = deps.database;

  async function load(eventId: string, connectorId: string) {
    const [violation, row] = await Promise.all([getViolation(db, eventId), getConnectorRow(db, connectorId)]);
    if (!violation) throw new ApiProblem(404, 'not_found', `no violation with event_id ${eventId}`);
    if (!row) throw new ApiProblem(404, 'not_found', `no connector ${connectorId}`);
    if (!isItsmKind(row.kind))
      throw new ApiProblem(400, 'not_applicable', `connector ${connectorId} is ${row.kind}, not an ITSM`);
    requireReadableSecrets(row, deps.box);
    return { violation, row };
  }

  router.openapi(
    createRoute({
      method: 'post',
      path: '/violations/{event_id}/tickets:preview',
      summary: 'The exact request a ticket creation would send (secrets masked); nothing is sent',
      request: { params, body: { required: true, content: { 'application/json': { schema: PushBody } } } },
      responses: {
        200: jsonContent(PreviewSchema, 'The request'),
        400: errorResponse('Not an ITSM connector'),
        404: errorResponse('Unknown violation or connector'),
        409: errorResponse("The connector's secrets cannot be decrypted (secrets_undecryptable)"),
        504: errorResponse('No worker answered in time'),
      },
    }),
    async (c) => {
      const { event_id } = c.req.valid('param');
      const { row } = await load(event_id, c.req.valid('json').connector_id);
      // Rendered by a worker: the request is built by the very code that would send it.
      const { workflowId, result } = await runConnectorAction(deps, {
        connectorId: row.id,
        action: 'preview',
        requestedBy: c.get('actor'),
        eventId: event_id,
      });
      if (!result) return apiError(c, 504, 'timeout', noAnswer(workflowId));
      if (!result.ok || !result.request)
        return apiError(c, 400, 'not_applicable', `connector ${row.id}: ${result.message}`);
      const masked = result.request;
      return c.json(
        {
          connector_id: row.id,
          kind: row.kind,
          method: masked.method,
          url: masked.url,
          headers: masked.headers,
          body: masked.body ?? '',
          body_json: masked.body ? JSON.parse(masked.body) : null,
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/violations/{event_id}/tickets',
      summary:
        'Create a ticket for a stored violation (through Temporal; idempotent per violation and connector)',
      request: { params, body: { required: true, content: { 'application/json': { schema: PushBody } } } },
      responses: {
        202: jsonContent(PushAccepted, 'Started'),
        200: jsonContent(PushAccepted, 'The ticket exists already'),
        400: errorResponse('Not an ITSM connector, or disabled'),
        404: errorResponse('Unknown violation or connector'),
        409: errorResponse(
          "An attempt at this delivery is in flight (delivery_in_flight), or the connector's secrets cannot be decrypted (secrets_undecryptable)",
        ),
      },
    }),
    async (c) => {
      const { event_id } = c.req.valid('param');
      const { row } = await load(event_id, c.req.valid('json').connector_id);
      if (!row.enabled) return apiError(c, 400, 'connector_disabled', `connector ${row.id} is disabled`);
      const delivery = await ensureDelivery(db, {
        eventId: event_id,
        connectorId: row.id,
        kind: row.kind,
        purpose: 'ticket',
      });
      const status_url = `/v1/deliveries/${delivery.id}`;
      if (delivery.status !== 'delivered') await refuseInFlight(deps, delivery);
      if (delivery.status === 'delivered' && delivery.ticketId) {
        const [ticket] = await db.select().from(tickets).where(eq(tickets.id, delivery.ticketId));
        return c.json(
          {
            delivery_id: delivery.id,
            status: 'delivered',
            status_url,
            ticket: ticket && toPublicTicket(ticket),
          },
          200,
        );
      }
      const workflowId = await startDelivery(
        deps.workflows,
        { deliveryId: delivery.id, requestedBy: c.get('actor'), reason: 'manual' },
        `manual ticket for ${event_id} in ${row.name}`,
      );
      return c.json(
        { delivery_id: delivery.id, workflow_id: workflowId, status: 'pending', status_url },
        202,
      );
    },
  );
  return router;
}
