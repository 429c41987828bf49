import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { asc, gt } from 'drizzle-orm';
import {
  createConnector,
  deleteConnector,
  getConnectorRow,
  readSecrets,
  reencryptAllSecrets,
  sealSecrets,
  toPublicConnector,
  toRowValues,
  updateConnector,
} from '../db/repos/connectors.js';
import { connectors } from '../db/schema.js';
import { CONNECTOR_KINDS, type ConnectorKind } from '../domain/connector.js';
import { connectorInputSchema, connectorPatchSchema, notifyOnSchemaFor } from '../domain/connector-input.js';
import { mergeConfigPatch } from '../domain/connector-patch.js';
import type { NoticeType } from '../domain/notification.js';
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
    /** slack, teams, webhook: what the connector is told of (the kind's default unless set). */
    notify_on: z.array(z.string()).optional(),
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
      secrets: z.enum(['none', 'sealed', 'undecryptable']),
      secrets_error: z.string().nullable(),
    }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Connector');

const ReencryptReportSchema = z
  .object({
    reencrypted: z.array(z.string()),
    current: z.number(),
    unreadable: z.array(z.object({ id: z.string(), reason: z.string() })),
  })
  .openapi('SecretsReencrypted');

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
      method: 'post',
      path: '/connectors:reencrypt',
      summary:
        "Seal every connector's secrets again under ESCALATE_SECRET_KEY (after a rotation; old keys in ESCALATE_SECRET_KEY_PREVIOUS)",
      responses: { 200: jsonContent(ReencryptReportSchema, 'What was sealed again, and what no key opens') },
    }),
    async (c) => {
      return c.json(await reencryptAllSecrets(db, deps.box, c.get('actor')), 200);
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
        400: errorResponse(
          'Invalid change; a new host, proxy or TLS trust without the secrets sent again (secrets_required); undecryptable secrets not all sent again (secrets_incomplete)',
        ),
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
      const stored = readSecrets(row, deps.box);
      const merge = mergeConfigPatch({
        kind,
        storedConfig: row.config,
        storedSecrets: stored,
        patch: patch.config,
      });
      if (merge.kind === 'invalid') {
        const details = fieldIssues(merge.error).map((d) => ({ ...d, path: `config.${d.path}` }));
        return apiError(c, 400, 'validation_failed', merge.hint ?? 'invalid connector config', details);
      }
      if (merge.kind === 'secrets_incomplete') {
        return apiError(
          c,
          400,
          'secrets_incomplete',
          `the stored secrets cannot be decrypted (${merge.reason}), so none can be kept: send them again, every secret this connector uses, and null for the ones it does not (missing: ${merge.fields.join(', ')})`,
          merge.fields.map((f) => ({
            path: `config.${f}`,
            message: 'send its value, or null if this connector does not use it',
          })),
        );
      }
      if (merge.kind === 'secrets_required') {
        return apiError(
          c,
          400,
          'secrets_required',
          `the connector would send its secrets to ${merge.hosts.join(', ')}: stored secrets never follow a URL to a new host, send ${merge.fields.join(', ')} again`,
          merge.fields.map((f) => ({
            path: `config.${f}`,
            message: 'send this secret again for the new host',
          })),
        );
      }
      let notifyOn = row.notifyOn as NoticeType[] | null;
      if (patch.notify_on !== undefined) {
        const schema = notifyOnSchemaFor(kind);
        const checked = schema?.safeParse(patch.notify_on ?? []);
        if (!checked?.success)
          return apiError(c, 400, 'validation_failed', 'invalid notify_on', [
            ...(checked
              ? fieldIssues(checked.error).map((d) => ({
                  ...d,
                  path: d.path === '(body)' ? 'notify_on' : `notify_on${d.path}`,
                }))
              : [
                  {
                    path: 'notify_on',
                    message: `${kind} connectors are not told of anything: notify_on is for slack, teams and webhook`,
                  },
                ]),
          ]);
        notifyOn = patch.notify_on === null ? null : checked.data;
      }
      const common = {
        id,
        kind,
        name: patch.name ?? row.name,
        enabled: patch.enabled ?? row.enabled,
        auto_push: patch.auto_push ?? row.autoPush,
        filters: patch.filters ?? row.filters,
        retry: patch.retry === undefined ? (row.retry as never) : patch.retry,
        notify_on: notifyOn,
      };
      const origin = row.origin as 'api' | 'config';
      const values =
        merge.kind === 'merged'
          ? toRowValues({ ...common, config: merge.config }, deps.box, origin)
          : // Config untouched: readable secrets are sealed again under the current key; unreadable
            // ones stay as stored (nothing here can open them).
            {
              ...toRowValues({ ...common, config: row.config }, deps.box, origin),
              secrets: stored.readable ? sealSecrets(id, stored.values, deps.box) : row.secrets,
            };
      const changedConfig = merge.kind === 'merged' ? merge.changed.map((k) => `config.${k}`) : [];
      try {
        const changed = Object.keys(patch).concat(changedConfig);
        const secretsReplaced = merge.kind === 'merged' && merge.secretsReplaced;
        const updated = await updateConnector(db, id, values, {
          actor: c.get('actor'),
          changed,
          details: secretsReplaced ? { undecryptable_secrets_replaced: true } : undefined,
        });
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
