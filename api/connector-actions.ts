import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { getConnectorRow, requireReadableSecrets } from '../db/repos/connectors.js';
import { startConnectorAction } from '../infra/workflow-client.js';
import type { ConnectorActionInput, ConnectorActionResult } from '../workflows/contract.js';
import type { ApiDeps } from './deps.js';
import { apiError } from './errors.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent } from './schemas.js';

export const ActionResultSchema = z
  .object({
    ok: z.boolean(),
    action: z.enum(['test', 'install-template']),
    connector_id: z.string(),
    event_id: z.string().optional(),
    external_id: z.string().optional(),
    external_url: z.string().optional(),
    http_status: z.number().optional(),
    remote_code: z.string().optional(),
    message: z.string(),
  })
  .openapi('ConnectorActionResult');

export const CheckResultSchema = z
  .object({
    ok: z.boolean(),
    connector_id: z.string(),
    checks: z.array(z.object({ name: z.string(), ok: z.boolean(), message: z.string() })),
  })
  .openapi('ConnectorCheckResult');

const WAIT_MS = 90_000;
const idParam = z.object({ id: z.string().min(1).max(64) });

/**
 * Runs a connector action as a workflow (no SaaS call from the API) and waits for its verdict;
 * `result` is undefined when no worker answered in time.
 */
export async function runConnectorAction(
  deps: ApiDeps,
  input: ConnectorActionInput,
): Promise<{ workflowId: string; result?: ConnectorActionResult }> {
  const handle = await startConnectorAction(deps.workflows, input, randomUUID());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), WAIT_MS);
  });
  try {
    return { workflowId: handle.workflowId, result: await Promise.race([handle.result(), timeout]) };
  } finally {
    clearTimeout(timer);
  }
}

export const noAnswer = (workflowId: string) =>
  `no result within ${WAIT_MS / 1000}s (workflow ${workflowId}); is a worker running?`;

/** Test connection, check and template install; we wait for the remote's verdict. */
export function connectorActionsRouter(deps: ApiDeps) {
  const router = createRouter();

  for (const action of ['test', 'install-template'] as const) {
    router.openapi(
      createRoute({
        method: 'post',
        path: `/connectors/{id}/${action}`,
        summary:
          action === 'test'
            ? 'Test the connection: ITSM creates a low-severity test ticket; SIEM sends a test_connection event; Slack and Teams get a test message'
            : 'Install the Elasticsearch index template (PUT /_index_template/{prefix})',
        request: { params: idParam },
        responses: {
          200: jsonContent(ActionResultSchema, 'The remote verdict (ok false carries the remote error)'),
          400: errorResponse('Not applicable to this connector kind'),
          404: errorResponse('Unknown connector'),
          409: errorResponse("The connector's secrets cannot be decrypted (secrets_undecryptable)"),
          504: errorResponse('No worker answered in time'),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const row = await getConnectorRow(deps.database.db, id);
        if (!row) return apiError(c, 404, 'not_found', 'no such connector');
        if (action === 'install-template' && row.kind !== 'elasticsearch') {
          return apiError(
            c,
            400,
            'not_applicable',
            `install-template applies to elasticsearch connectors, not ${row.kind}`,
          );
        }
        requireReadableSecrets(row, deps.box);
        const { workflowId, result } = await runConnectorAction(deps, {
          connectorId: id,
          action,
          requestedBy: c.get('actor'),
        });
        if (!result) return apiError(c, 504, 'timeout', noAnswer(workflowId));
        const { request: _, ...verdict } = result;
        return c.json({ ...verdict, action }, 200);
      },
    );
  }

  router.openapi(
    createRoute({
      method: 'post',
      path: '/connectors/{id}/check',
      summary:
        'Check a connector without side effects: credentials, permissions, project/table or index; nothing is written',
      description:
        'Jira: /myself, the project permissions escalate uses, the issue type in the project. ServiceNow: ' +
        'the credentials, reading the table, the assignment group. Splunk: HEC health and the token (an empty ' +
        'request, answered "No data"). Datadog: the API key (/api/v1/validate). Elasticsearch: ' +
        '_security/_authenticate and create_doc on the indices. Webhook: reachability only (receivers ' +
        "authenticate deliveries). Runs as a workflow on the worker; the verdict is kept as the connector's last check.",
      request: { params: idParam },
      responses: {
        200: jsonContent(CheckResultSchema, 'Each step with its verdict; ok is true when every step passed'),
        404: errorResponse('Unknown connector'),
        504: errorResponse('No worker answered in time'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await getConnectorRow(deps.database.db, id)))
        return apiError(c, 404, 'not_found', 'no such connector');
      const { workflowId, result } = await runConnectorAction(deps, {
        connectorId: id,
        action: 'check',
        requestedBy: c.get('actor'),
      });
      if (!result) return apiError(c, 504, 'timeout', noAnswer(workflowId));
      return c.json({ ok: result.ok, connector_id: result.connector_id, checks: result.checks ?? [] }, 200);
    },
  );
  return router;
}
