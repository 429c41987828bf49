import { createRoute, z } from '@hono/zod-openapi';
import { MAX_EVENT_BYTES, type ViolationEvent, violationEventSchema } from '../domain/event.js';
import type { ApiDeps } from './deps.js';
import { fieldIssues } from './errors.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent } from './schemas.js';
import { acceptViolation } from './violations.js';

export const MAX_BATCH_EVENTS = 500;
/** The whole batch body; each event still has the single-event limit (MAX_EVENT_BYTES). */
export const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** Events accepted at once (each is a PostgreSQL insert and a Temporal start). */
const CONCURRENCY = 16;

const BatchItemSchema = z
  .object({
    index: z.number(),
    event_id: z.string().nullable(),
    status: z.enum(['accepted', 'duplicate', 'conflict', 'invalid']),
    http_status: z.number(),
    workflow_id: z.string().optional(),
    status_url: z.string().optional(),
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }).optional(),
  })
  .openapi('ViolationBatchItem');

const BatchResultSchema = z.object({ items: z.array(BatchItemSchema) }).openapi('ViolationBatchResult');

// Each event is validated on its own, so one bad event does not fail the batch.
const batchBodySchema = z.strictObject({
  events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS),
});

type BatchItem = z.infer<typeof BatchItemSchema>;

const utf8Bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

function eventIdOf(raw: unknown): string | null {
  const id = raw && typeof raw === 'object' ? (raw as { event_id?: unknown }).event_id : undefined;
  return typeof id === 'string' ? id : null;
}

/**
 * Runs `work` over `items` with at most `limit` in flight. On the first failure no further item
 * starts; the ones in flight finish, then the failure is thrown (the API answers 503 and the
 * client retries the batch: what was accepted before comes back as `duplicate`).
 */
async function forEachBounded<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const runner = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  if (failure) throw failure.err;
}

export function violationsBatchRouter(deps: ApiDeps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/violations:batch',
      summary: `Accept up to ${MAX_BATCH_EVENTS} violations, with a result per event`,
      description:
        'Each event is validated and accepted like a single POST /v1/violations (same idempotency: ' +
        'same event_id and body → duplicate, different body → conflict). An invalid event does not ' +
        'fail the batch. If PostgreSQL or Temporal is unavailable the whole call answers 503; ' +
        'retrying it is safe (events accepted before the failure come back as duplicate).',
      request: {
        body: { required: true, content: { 'application/json': { schema: batchBodySchema } } },
      },
      responses: {
        200: jsonContent(BatchResultSchema, 'One result per event, in the order posted'),
        400: errorResponse('Not a batch (events missing, empty or over 500)'),
        413: errorResponse(
          'Body over 8 MiB (payload_too_large) or over 500,000 JSON values (too_many_values)',
        ),
        415: errorResponse('Body is not JSON'),
        503: errorResponse('PostgreSQL or Temporal unavailable; retry the batch'),
      },
    }),
    async (c) => {
      const { events } = c.req.valid('json');
      // The events as posted (unknown fields and all): the idempotency hash covers them.
      const raws = (c.get('rawBody') as { events: unknown[] }).events;
      const items: BatchItem[] = new Array(events.length);
      const valid: { index: number; raw: Record<string, unknown>; event: ViolationEvent }[] = [];

      events.forEach((raw, index) => {
        const base = { index, event_id: eventIdOf(raw) };
        const size = utf8Bytes(raw);
        if (size > MAX_EVENT_BYTES) {
          items[index] = {
            ...base,
            status: 'invalid',
            http_status: 413,
            error: {
              code: 'payload_too_large',
              message: `events[${index}] is ${size} bytes; an event may be at most ${MAX_EVENT_BYTES}`,
            },
          };
          return;
        }
        const parsed = violationEventSchema.safeParse(raw);
        if (!parsed.success) {
          const details = fieldIssues(parsed.error).map((d) => ({
            ...d,
            path: d.path === '(body)' ? `events[${index}]` : `events[${index}].${d.path}`,
          }));
          items[index] = {
            ...base,
            status: 'invalid',
            http_status: 400,
            error: {
              code: 'validation_failed',
              message: `invalid event: ${details.map((d) => d.path).join(', ')}`,
              details,
            },
          };
          return;
        }
        valid.push({
          index,
          raw: raws[index] as Record<string, unknown>,
          event: parsed.data as ViolationEvent,
        });
      });

      // Events repeating an event_id run one after the other, in posted order, so the first is
      // the one `accepted` and the others are `duplicate` / `conflict` against it.
      const groups = new Map<string, typeof valid>();
      for (const v of valid) {
        const group = groups.get(v.event.event_id);
        if (group) group.push(v);
        else groups.set(v.event.event_id, [v]);
      }

      await forEachBounded([...groups.values()], CONCURRENCY, async (group) => {
        for (const { index, raw, event } of group) {
          const outcome = await acceptViolation(deps, raw, event, c.get('actor'));
          items[index] =
            outcome.kind === 'conflict' || outcome.kind === 'rejected'
              ? {
                  index,
                  event_id: event.event_id,
                  ...(outcome.kind === 'conflict'
                    ? { status: 'conflict' as const, http_status: 409 }
                    : { status: 'invalid' as const, http_status: 400 }),
                  error: {
                    code: outcome.kind === 'conflict' ? 'conflict' : 'temporal_rejected',
                    message: outcome.message,
                  },
                }
              : {
                  index,
                  event_id: event.event_id,
                  status: outcome.kind,
                  http_status: outcome.kind === 'accepted' ? 202 : 200,
                  workflow_id: outcome.body.workflow_id,
                  status_url: outcome.body.status_url,
                };
        }
      });

      const accepted = items.filter((i) => i.status === 'accepted').length;
      deps.logger.info(
        { events: items.length, accepted, rejected: items.filter((i) => i.http_status >= 400).length },
        'violation batch',
      );
      return c.json({ items }, 200);
    },
  );

  return router;
}
