import { createRoute, z } from '@hono/zod-openapi';
import { and, eq, getTableColumns, gte, lt, type SQL } from 'drizzle-orm';
import { getConnectorRow, requireReadableSecrets } from '../db/repos/connectors.js';
import { getDelivery, listAttempts, toPublicAttempt, toPublicDelivery } from '../db/repos/deliveries.js';
import { deliveries } from '../db/schema.js';
import { CONNECTOR_KINDS } from '../domain/connector.js';
import { deliveryInFlight, startDelivery, type Workflows } from '../infra/workflow-client.js';
import { cursorAt, cursorCondition, newestFirst, page } from './cursor.js';
import type { ApiDeps } from './deps.js';
import { ApiProblem, apiError } from './errors.js';
import { createRouter } from './router.js';
import { DeliverySchema, errorResponse, jsonContent, listOf, pageQuery } from './schemas.js';

export const AttemptSchema = z
  .object({
    attempt: z.number(),
    outcome: z.string(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().nullable(),
    http_status: z.number().nullable(),
    remote_code: z.string().nullable(),
    message: z.string().nullable(),
    retryable: z.boolean().nullable(),
  })
  .openapi('DeliveryAttempt');

const ReplayAccepted = z
  .object({
    delivery_id: z.string(),
    status: z.string(),
    skipped: z.boolean(),
    workflow_id: z.string().optional(),
    status_url: z.string(),
  })
  .openapi('ReplayAccepted');

export const deliveryFilterSchema = z.object({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  purpose: z.enum(['ticket', 'event', 'notify']).optional(),
  connector_id: z.string().max(64).optional(),
  kind: z.enum(CONNECTOR_KINDS).optional(),
  event_id: z.uuid().optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

export function deliveryConditions(f: z.infer<typeof deliveryFilterSchema>): SQL[] {
  const conds: SQL[] = [];
  if (f.status) conds.push(eq(deliveries.status, f.status));
  if (f.purpose) conds.push(eq(deliveries.purpose, f.purpose));
  if (f.connector_id) conds.push(eq(deliveries.connectorId, f.connector_id));
  if (f.kind) conds.push(eq(deliveries.kind, f.kind));
  if (f.event_id) conds.push(eq(deliveries.eventId, f.event_id));
  if (f.since) conds.push(gte(deliveries.createdAt, new Date(f.since)));
  if (f.until) conds.push(lt(deliveries.createdAt, new Date(f.until)));
  return conds;
}

/** A replay or push beside an attempt still in flight would race it: refused, with who is at it. */
export async function refuseInFlight(
  deps: { workflows: Workflows },
  delivery: Parameters<typeof deliveryInFlight>[1],
): Promise<void> {
  const inFlight = await deliveryInFlight(deps.workflows, delivery);
  if (inFlight)
    throw new ApiProblem(
      409,
      'delivery_in_flight',
      `delivery ${delivery.id} is being attempted by workflow ${inFlight}: wait until it is delivered or failed`,
      { workflow_id: inFlight },
    );
}

export function deliveriesRouter(deps: ApiDeps) {
  const router = createRouter();
  const { db } = deps.database;

  router.openapi(
    createRoute({
      method: 'get',
      path: '/deliveries',
      summary: 'Deliveries (ticket creations, SIEM events, notifications), newest first',
      request: { query: pageQuery.extend(deliveryFilterSchema.shape) },
      responses: {
        200: jsonContent(listOf(DeliverySchema), 'Deliveries'),
        400: errorResponse('Invalid filter'),
      },
    }),
    async (c) => {
      const { limit, cursor, ...filter } = c.req.valid('query');
      const rows = await db
        .select({ ...getTableColumns(deliveries), cursorAt: cursorAt(deliveries.createdAt) })
        .from(deliveries)
        .where(
          and(...deliveryConditions(filter), cursorCondition(cursor, deliveries.createdAt, deliveries.id)),
        )
        .orderBy(...newestFirst(deliveries.createdAt, deliveries.id))
        .limit(limit + 1);
      const { items, next_cursor } = page(rows, limit, (d) => d.id);
      return c.json(
        { items: items.map((d) => ({ ...toPublicDelivery(d), status: d.status as 'pending' })), next_cursor },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/deliveries/{id}',
      summary: 'One delivery with every attempt',
      request: { params: z.object({ id: z.uuid() }) },
      responses: {
        200: jsonContent(DeliverySchema.extend({ attempt_log: z.array(AttemptSchema) }), 'The delivery'),
        404: errorResponse('Unknown delivery'),
      },
    }),
    async (c) => {
      const delivery = await getDelivery(db, c.req.valid('param').id);
      if (!delivery) return apiError(c, 404, 'not_found', 'no such delivery');
      const attempts = await listAttempts(db, delivery.id);
      return c.json(
        {
          ...toPublicDelivery(delivery),
          status: delivery.status as 'pending',
          attempt_log: attempts.map(toPublicAttempt),
        },
        200,
      );
    },
  );
  router.openapi(
    createRoute({
      method: 'post',
      path: '/deliveries/{id}/replay',
      summary:
        'Replay one delivery through Temporal (same idempotency key; skipped if it has since succeeded)',
      request: { params: z.object({ id: z.uuid() }) },
      responses: {
        202: jsonContent(ReplayAccepted, 'Replay started'),
        200: jsonContent(ReplayAccepted, 'Already delivered: nothing to do'),
        404: errorResponse('Unknown delivery'),
        409: errorResponse(
          "An attempt at this delivery is in flight (delivery_in_flight), or its connector's secrets cannot be decrypted (secrets_undecryptable)",
        ),
      },
    }),
    async (c) => {
      const delivery = await getDelivery(db, c.req.valid('param').id);
      if (!delivery) return apiError(c, 404, 'not_found', 'no such delivery');
      const status_url = `/v1/deliveries/${delivery.id}`;
      if (delivery.status === 'delivered')
        return c.json({ delivery_id: delivery.id, status: 'delivered', skipped: true, status_url }, 200);
      await refuseInFlight(deps, delivery);
      const connector = await getConnectorRow(db, delivery.connectorId);
      if (connector) requireReadableSecrets(connector, deps.box);
      const workflowId = await startDelivery(
        deps.workflows,
        { deliveryId: delivery.id, requestedBy: c.get('actor'), reason: 'replay' },
        `replay delivery ${delivery.id} (${delivery.kind} ${delivery.connectorId})`,
      );
      return c.json(
        { delivery_id: delivery.id, status: 'pending', skipped: false, workflow_id: workflowId, status_url },
        202,
      );
    },
  );
  return router;
}
