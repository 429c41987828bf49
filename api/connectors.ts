import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { asc, gt } from 'drizzle-orm';
import {
  createConnector,
  deleteConnector,
  getConnectorRow,
  MASK,
  openSecrets,
  toPublicConnector,
  toRowValues,
  updateConnector,
} from '../db/repos/connectors.js';
import { connectors } from '../db/schema.js';
import { CONFIG_SCHEMAS, CONNECTOR_KINDS, type ConnectorKind } from '../domain/connector.js';
import { connectorInputSchema, connectorPatchSchema } from '../domain/connector-input.js';
import type { ApiDeps } from './deps.js';
import { apiError, fieldIssues } from './errors.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent, listOf, pageQuery } from './schemas.js';

export const PublicConnectorSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(CONNECTOR_KINDS),
    enabled: z.boolean(),
    auto_push: z.boolean(),
    config: z.record(z.string(), z.unknown()),
    filters: z.record(z.string(), z.unknown()),
    retry: z.record(z.string(), z.unknown()).nullable(),
    origin: z.string(),
    status: z.object({
      configured: z.boolean(),
      enabled: z.boolean(),
      last_test_at: z.string().nullable(),
      last_test_ok: z.boolean().nullable(),
      last_test_result: z.string().nullable(),
      last_check_at: z.string().nullable(),
      last_check_ok: z.boolean().nullable(),
      last_check: z.array(z.object({ name: z.string(), ok: z.boolean(), message: z.string() })).nullable(),
    }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Connector');

const idParam = z.object({ id: z.string().min(1).max(64) });

/** drizzle wraps the driver's error: the PostgreSQL code may be on `cause`. */
const isUniqueViolation = (err: unknown): boolean => {
  const e = err as { code?: string; cause?: unknown } | undefined;
  return e?.code === '23505' || (e?.cause !== undefined && isUniqueViolation(e.cause));
};

export function connectorsRouter(deps: ApiDeps) {
  const router = createRouter();
  const { db } = deps.database;

  router.openapi(
    createRoute({
      method: 'get',
      path: '/connectors',
      summary: 'List connectors (secrets masked)',
      request: { query: pageQuery },
      responses: { 200: jsonContent(listOf(PublicConnectorSchema), 'Connectors') },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const rows = await db
        .select()
        .from(connectors)
        .where(cursor ? gt(connectors.id, cursor) : undefined)
        .orderBy(asc(connectors.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      return c.json(
        {
          items: page.map((r) => toPublicConnector(r, deps.box)),
          next_cursor: rows.length > limit ? page[page.length - 1]!.id : null,
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/connectors',
      summary: 'Create a connector',
      request: {
        body: { required: true, content: { 'application/json': { schema: connectorInputSchema } } },
      },
      responses: {
        201: jsonContent(PublicConnectorSchema, 'Created'),
        400: errorResponse('Invalid connector'),
        409: errorResponse('A connector with this id or name exists'),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const values = { ...input, id: input.id ?? randomUUID(), retry: input.retry ?? null };
      try {
        const row = await createConnector(db, toRowValues(values, deps.box, 'api'), c.get('actor'));
        return c.json(toPublicConnector(row, deps.box), 201);
      } catch (err) {
        if (isUniqueViolation(err))
          return apiError(
            c,
            409,
            'conflict',
            `a connector with id ${values.id} or name "${values.name}" exists`,
          );
        throw err;
      }
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/connectors/{id}',
      summary: 'One connector with its status',
      request: { params: idParam },
      responses: {
        200: jsonContent(PublicConnectorSchema, 'The connector'),
        404: errorResponse('Unknown connector'),
      },
    }),
    async (c) => {
      const row = await getConnectorRow(db, c.req.valid('param').id);
      if (!row) return apiError(c, 404, 'not_found', 'no such connector');
      return c.json(toPublicConnector(row, deps.box), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/connectors/{id}',
      summary: 'Change a connector; config is merged, masked secrets keep their stored value',
      request: {
        params: idParam,
        body: { required: true, content: { 'application/json': { schema: connectorPatchSchema } } },
      },
      responses: {
        200: jsonContent(PublicConnectorSchema, 'Updated'),
        400: errorResponse('Invalid change'),
        404: errorResponse('Unknown connector'),
        409: errorResponse('Name taken'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const patch = c.req.valid('json');
      const row = await getConnectorRow(db, id);
      if (!row) return apiError(c, 404, 'not_found', 'no such connector');
      const kind = row.kind as ConnectorKind;
      const current = { ...row.config, ...openSecrets(row, deps.box) };
      const changes = Object.fromEntries(Object.entries(patch.config ?? {}).filter(([, v]) => v !== MASK));
      const merged = Object.fromEntries(
        Object.entries({ ...current, ...changes }).filter(([, v]) => v !== null),
      );
      const parsed = CONFIG_SCHEMAS[kind].safeParse(merged);
      if (!parsed.success) {
        const details = fieldIssues(parsed.error).map((d) => ({ ...d, path: `config.${d.path}` }));
        return apiError(c, 400, 'validation_failed', 'invalid connector config', details);
      }
      const values = toRowValues(
        {
          id,
          kind,
          name: patch.name ?? row.name,
          enabled: patch.enabled ?? row.enabled,
          auto_push: patch.auto_push ?? row.autoPush,
          config: parsed.data as Record<string, unknown>,
          filters: patch.filters ?? row.filters,
          retry: patch.retry === undefined ? (row.retry as never) : patch.retry,
        },
        deps.box,
        row.origin as 'api' | 'config',
      );
      try {
        const changed = Object.keys(patch).concat(Object.keys(changes).map((k) => `config.${k}`));
        const updated = await updateConnector(db, id, values, { actor: c.get('actor'), changed });
        if (!updated) return apiError(c, 404, 'not_found', 'no such connector');
        return c.json(toPublicConnector(updated, deps.box), 200);
      } catch (err) {
        if (isUniqueViolation(err))
          return apiError(c, 409, 'conflict', `a connector named "${values.name}" exists`);
        throw err;
      }
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/connectors/{id}',
      summary: 'Delete a connector (its tickets and deliveries stay)',
      request: { params: idParam },
      responses: { 204: { description: 'Deleted' }, 404: errorResponse('Unknown connector') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await deleteConnector(db, id, c.get('actor'))))
        return apiError(c, 404, 'not_found', 'no such connector');
      return c.body(null, 204);
    },
  );

  return router;
}
