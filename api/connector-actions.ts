import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { ConnectorActionResult } from '../activities/connector-actions.js';
import { getConnectorRow } from '../db/repos/connectors.js';
import type { connectorActionWorkflow } from '../workflows/connector-action.js';
import type { ApiDeps } from './deps.js';
import { apiError } from './errors.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent } from './schemas.js';

const ActionResultSchema = z
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

const WAIT_MS = 90_000;

/** Test connection and template install run as a workflow (no SaaS call from the API); we wait for the verdict. */
export function connectorActionsRouter(deps: ApiDeps) {
  const router = createRouter();

  const runAction = async (connectorId: string, action: 'test' | 'install-template', requestedBy: string) => {
    const handle = await deps.temporal.workflow.start<typeof connectorActionWorkflow>(
      'connectorActionWorkflow',
      {
        workflowId: `connector-${action}-${connectorId}-${randomUUID()}`,
        taskQueue: deps.taskQueue,
        args: [{ connectorId, action, requestedBy }],
        staticSummary: `${action} connector ${connectorId}`,
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), WAIT_MS);
    });
    try {
      return {
        workflowId: handle.workflowId,
        result: (await Promise.race([handle.result(), timeout])) as ConnectorActionResult | undefined,
      };
    } finally {
      clearTimeout(timer);
    }
  };

  for (const action of ['test', 'install-template'] as const) {
    router.openapi(
      createRoute({
        method: 'post',
        path: `/connectors/{id}/${action}`,
        summary:
          action === 'test'
            ? 'Test the connection: ITSM creates a low-severity test ticket; SIEM sends a test_connection event'
            : 'Install the Elasticsearch index template (PUT /_index_template/{prefix})',
        request: { params: z.object({ id: z.string().min(1).max(64) }) },
        responses: {
          200: jsonContent(ActionResultSchema, 'The remote verdict (ok false carries the remote error)'),
          400: errorResponse('Not applicable to this connector kind'),
          404: errorResponse('Unknown connector'),
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
        const { workflowId, result } = await runAction(id, action, c.get('actor'));
        if (!result)
          return apiError(
            c,
            504,
            'timeout',
            `no result within ${WAIT_MS / 1000}s (workflow ${workflowId}); is a worker running?`,
          );
        return c.json(result, 200);
      },
    );
  }
  return router;
}
