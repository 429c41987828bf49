import { createRoute, z } from '@hono/zod-openapi';
import { and, eq, gte, ilike, lt, or, type SQL, sql } from 'drizzle-orm';
import { violations } from '../db/schema.js';
import { EVENT_TYPES } from '../domain/event.js';
import { SEVERITIES } from '../domain/severity.js';
import { escapeLike } from './audit.js';
import { cursorAt, cursorCondition, newestFirst, page } from './cursor.js';
import type { ApiDeps } from './deps.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent, listOf, pageQuery } from './schemas.js';

const VIOLATION_STATUSES = ['processing', 'completed', 'partially_failed', 'failed'] as const;

export const ViolationSummarySchema = z
  .object({
    event_id: z.string(),
    event_type: z.string(),
    severity: z.string(),
    status: z.enum(VIOLATION_STATUSES),
    summary: z.string().nullable(),
    user_email: z.string().nullable(),
    policy_id: z.string().nullable(),
    platform_id: z.string().nullable(),
    occurred_at: z.string(),
    received_at: z.string(),
    workflow_id: z.string(),
  })
  .openapi('ViolationSummary');

const violationFilterSchema = z.object({
  q: z.string().min(1).max(200).optional().openapi({
    description: 'Case-insensitive text in the event id, summary, user email, policy id or name',
  }),
  severity: z.enum(SEVERITIES).optional(),
  status: z.enum(VIOLATION_STATUSES).optional(),
  event_type: z.enum(EVENT_TYPES).optional(),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Received at or after' }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Received before' }),
});

/** A text field of the stored payload (paths are constants of this file, never input). */
const text = (path: string[]) =>
  sql<string | null>`${violations.payload} #>> ${sql.raw(`'{${path.join(',')}}'`)}`;

function conditions(f: z.infer<typeof violationFilterSchema>): SQL[] {
  const conds: SQL[] = [];
  if (f.q) {
    const pattern = `%${escapeLike(f.q)}%`;
    conds.push(
      or(
        ilike(sql`${violations.eventId}::text`, pattern),
        ilike(text(['summary']), pattern),
        ilike(text(['user_email']), pattern),
        ilike(text(['policy', 'id']), pattern),
        ilike(text(['policy', 'name']), pattern),
      )!,
    );
  }
  if (f.severity) conds.push(eq(violations.severity, f.severity));
  if (f.status) conds.push(eq(violations.status, f.status));
  if (f.event_type) conds.push(eq(violations.eventType, f.event_type));
  if (f.since) conds.push(gte(violations.receivedAt, new Date(f.since)));
  if (f.until) conds.push(lt(violations.receivedAt, new Date(f.until)));
  return conds;
}

/** `GET /v1/violations`: the searchable list (the detail is `GET /v1/violations/{event_id}`). */
export function violationsListRouter(deps: ApiDeps) {
  const router = createRouter();
  const { db } = deps.database;

  router.openapi(
    createRoute({
      method: 'get',
      path: '/violations',
      summary: 'Violations, newest first, searchable',
      request: { query: pageQuery.extend(violationFilterSchema.shape) },
      responses: {
        200: jsonContent(listOf(ViolationSummarySchema), 'Violations'),
        400: errorResponse('Invalid filter or cursor'),
      },
    }),
    async (c) => {
      const { limit, cursor, ...filter } = c.req.valid('query');
      const rows = await db
        .select({
          id: violations.eventId,
          createdAt: violations.receivedAt,
          eventType: violations.eventType,
          severity: violations.severity,
          status: violations.status,
          summary: text(['summary']),
          userEmail: text(['user_email']),
          policyId: text(['policy', 'id']),
          platformId: violations.platformId,
          occurredAt: violations.occurredAt,
          workflowId: violations.workflowId,
          cursorAt: cursorAt(violations.receivedAt),
        })
        .from(violations)
        .where(and(...conditions(filter), cursorCondition(cursor, violations.receivedAt, violations.eventId)))
        .orderBy(...newestFirst(violations.receivedAt, violations.eventId))
        .limit(limit + 1);
      const { items, next_cursor } = page(rows, limit, (r) => r.id);
      return c.json(
        {
          items: items.map((r) => ({
            event_id: r.id,
            event_type: r.eventType,
            severity: r.severity,
            status: r.status as (typeof VIOLATION_STATUSES)[number],
            summary: r.summary,
            user_email: r.userEmail,
            policy_id: r.policyId,
            platform_id: r.platformId,
            occurred_at: r.occurredAt.toISOString(),
            received_at: r.createdAt.toISOString(),
            workflow_id: r.workflowId,
          })),
          next_cursor,
        },
        200,
      );
    },
  );
  return router;
}
