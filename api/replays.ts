import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, eq, getTableColumns, inArray } from 'drizzle-orm';
import { toPublicDelivery } from '../db/repos/deliveries.js';
import { createReplay } from '../db/repos/replays.js';
import { deliveries, replayItems, replays } from '../db/schema.js';
import { startReplay } from '../infra/workflow-client.js';
import { cursorAt, cursorCondition, newestFirst, page } from './cursor.js';
import { deliveryConditions, deliveryFilterSchema } from './deliveries.js';
import type { ApiDeps } from './deps.js';
import { apiError } from './errors.js';
import { createRouter } from './router.js';
import { DeliverySchema, errorResponse, jsonContent, listOf, pageQuery } from './schemas.js';

const MAX_REPLAY = 10_000;

const ReplayRequest = z
  .object({
    filter: deliveryFilterSchema
      .omit({ event_id: true })
      .extend({
        status: z.enum(['pending', 'delivered', 'failed']).default('failed'),
        event_ids: z.array(z.uuid()).max(1000).optional(),
        /** Exactly these deliveries (e.g. the ones an operator selected). */
        delivery_ids: z.array(z.uuid()).max(1000).optional(),
      })
      .default({ status: 'failed' }),
    dry_run: z.boolean().default(false),
  })
  .openapi('ReplayRequest');

const ReplayStarted = z
  .object({
    dry_run: z.boolean(),
    total: z.number(),
    replay_id: z.string().optional(),
    workflow_id: z.string().optional(),
    status_url: z.string().optional(),
    deliveries: z.array(DeliverySchema).optional(),
  })
  .openapi('ReplayStarted');

const ReplaySummary = z
  .object({
    id: z.string(),
    status: z.enum(['running', 'completed']),
    requested_by: z.string(),
    filter: z.record(z.string(), z.unknown()),
    total: z.number(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi('ReplaySummary');

export const ReplayStatus = ReplaySummary.extend({
  done: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  skipped: z.number(),
  items: z.array(
    z.object({
      delivery_id: z.string(),
      connector_id: z.string(),
      event_id: z.string(),
      outcome: z.enum(['pending', 'delivered', 'failed', 'skipped']),
      error: z.string().nullable(),
    }),
  ),
}).openapi('Replay');

/** What every replay view shows of the replay row. */
const replaySummary = (r: typeof replays.$inferSelect) => ({
  id: r.id,
  status: r.status as 'running' | 'completed',
  requested_by: r.requestedBy,
  filter: r.filter,
  total: r.total,
  created_at: r.createdAt.toISOString(),
  completed_at: r.completedAt?.toISOString() ?? null,
});

export function replaysRouter(deps: ApiDeps) {
  const router = createRouter();
  const { db } = deps.database;

  router.openapi(
    createRoute({
      method: 'post',
      path: '/deliveries:replay',
      summary:
        'Replay every delivery matching a filter (default: failed), through Temporal; dry_run lists them only',
      request: { body: { required: true, content: { 'application/json': { schema: ReplayRequest } } } },
      responses: {
        202: jsonContent(ReplayStarted, 'Replay started: follow status_url'),
        200: jsonContent(ReplayStarted, 'Dry run: what would be replayed'),
        400: errorResponse('Invalid filter, or more than 10,000 deliveries match'),
      },
    }),
    async (c) => {
      const { filter, dry_run } = c.req.valid('json');
      const conds = deliveryConditions(filter);
      if (filter.event_ids?.length) conds.push(inArray(deliveries.eventId, filter.event_ids));
      if (filter.delivery_ids?.length) conds.push(inArray(deliveries.id, filter.delivery_ids));
      const rows = await db
        .select()
        .from(deliveries)
        .where(and(...conds))
        .orderBy(asc(deliveries.createdAt))
        .limit(MAX_REPLAY + 1);
      if (rows.length > MAX_REPLAY) {
        return apiError(
          c,
          400,
          'too_many',
          `more than ${MAX_REPLAY} deliveries match: narrow the filter (connector_id, since, until)`,
        );
      }
      const publicRows = rows.map((d) => ({ ...toPublicDelivery(d), status: d.status as 'pending' }));
      if (dry_run)
        return c.json({ dry_run: true, total: rows.length, deliveries: publicRows.slice(0, 1000) }, 200);

      const actor = c.get('actor');
      const id = await createReplay(db, {
        requestedBy: actor,
        filter,
        deliveryIds: rows.map((d) => d.id),
      });
      const workflowId = await startReplay(deps.workflows, { replayId: id, requestedBy: actor }, rows.length);
      return c.json(
        {
          dry_run: false,
          total: rows.length,
          replay_id: id,
          workflow_id: workflowId,
          status_url: `/v1/replays/${id}`,
        },
        202,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/replays',
      summary: 'Bulk replays, newest first (progress per replay on /v1/replays/{id})',
      request: { query: pageQuery },
      responses: {
        200: jsonContent(listOf(ReplaySummary), 'Replays'),
        400: errorResponse('Invalid cursor'),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const rows = await db
        .select({ ...getTableColumns(replays), cursorAt: cursorAt(replays.createdAt) })
        .from(replays)
        .where(cursorCondition(cursor, replays.createdAt, replays.id))
        .orderBy(...newestFirst(replays.createdAt, replays.id))
        .limit(limit + 1);
      const { items, next_cursor } = page(rows, limit, (r) => r.id);
      return c.json(
        {
          items: items.map(replaySummary),
          next_cursor,
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/replays/{id}',
      summary: 'Progress and per-delivery outcome of a bulk replay',
      request: { params: z.object({ id: z.uuid() }) },
      responses: { 200: jsonContent(ReplayStatus, 'The replay'), 404: errorResponse('Unknown replay') },
    }),
    async (c) => {
      const [replay] = await db
        .select()
        .from(replays)
        .where(eq(replays.id, c.req.valid('param').id));
      if (!replay) return apiError(c, 404, 'not_found', 'no such replay');
      const items = await db
        .select({
          delivery_id: replayItems.deliveryId,
          outcome: replayItems.outcome,
          error: replayItems.error,
          connector_id: deliveries.connectorId,
          event_id: deliveries.eventId,
        })
        .from(replayItems)
        .innerJoin(deliveries, eq(deliveries.id, replayItems.deliveryId))
        .where(eq(replayItems.replayId, replay.id))
        .orderBy(asc(replayItems.deliveryId))
        .limit(MAX_REPLAY);
      const count = (o: string) => items.filter((i) => i.outcome === o).length;
      return c.json(
        {
          ...replaySummary(replay),
          done: replay.total - count('pending'),
          succeeded: count('delivered'),
          failed: count('failed'),
          skipped: count('skipped'),
          items: items.map((i) => ({ ...i, outcome: i.outcome as 'pending' })),
        },
        200,
      );
    },
  );
  return router;
}
