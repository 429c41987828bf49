import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq, gte, like, lt, type SQL } from 'drizzle-orm';
import { auditEntries } from '../db/schema.js';
import type { ApiDeps } from './deps.js';
import { apiError } from './errors.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent, listOf, pageQuery } from './schemas.js';

export const AuditEntrySchema = z
  .object({
    id: z.number(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    subject_type: z.string(),
    subject_id: z.string(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('AuditEntry');

const auditFilterSchema = z.object({
  actor: z.string().min(1).max(256).optional(),
  /** Exact (`rule.created`) or a prefix ending in `*` (`rule.*`). */
  action: z.string().min(1).max(128).optional(),
  subject_type: z.string().min(1).max(64).optional(),
  subject_id: z.string().min(1).max(256).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (ch) => `\\${ch}`);

function auditConditions(f: z.infer<typeof auditFilterSchema>): SQL[] {
  const conds: SQL[] = [];
  if (f.actor) conds.push(eq(auditEntries.actor, f.actor));
  if (f.action) {
    conds.push(
      f.action.endsWith('*')
        ? like(auditEntries.action, `${escapeLike(f.action.slice(0, -1))}%`)
        : eq(auditEntries.action, f.action),
    );
  }
  if (f.subject_type) conds.push(eq(auditEntries.subjectType, f.subject_type));
  if (f.subject_id) conds.push(eq(auditEntries.subjectId, f.subject_id));
  if (f.since) conds.push(gte(auditEntries.at, new Date(f.since)));
  if (f.until) conds.push(lt(auditEntries.at, new Date(f.until)));
  return conds;
}

/** The cursor is the id of the last entry seen; ids only grow, so the pages are stable. */
const CURSOR = /^[1-9]\d{0,17}$/;

export function auditRouter(deps: ApiDeps) {
  const router = createRouter();
  const { db } = deps.database;

  router.openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      summary: 'The audit trail (append-only), newest first',
      request: { query: pageQuery.extend(auditFilterSchema.shape) },
      responses: {
        200: jsonContent(listOf(AuditEntrySchema), 'Audit entries'),
        400: errorResponse('Invalid filter or cursor'),
      },
    }),
    async (c) => {
      const { limit, cursor, ...filter } = c.req.valid('query');
      if (cursor !== undefined && !CURSOR.test(cursor))
        return apiError(c, 400, 'invalid_cursor', 'cursor is not one this API issued');
      const rows = await db
        .select()
        .from(auditEntries)
        .where(and(...auditConditions(filter), cursor ? lt(auditEntries.id, Number(cursor)) : undefined))
        .orderBy(desc(auditEntries.id))
        .limit(limit + 1);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return c.json(
        {
          items: items.map((r) => ({
            id: r.id,
            at: r.at.toISOString(),
            actor: r.actor,
            action: r.action,
            subject_type: r.subjectType,
            subject_id: r.subjectId,
            details: r.details ?? null,
          })),
          next_cursor: rows.length > limit && last ? String(last.id) : null,
        },
        200,
      );
    },
  );

  return router;
}
