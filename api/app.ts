import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { audit } from '../db/repos/audit.js';
import { MAX_EVENT_BYTES } from '../domain/event.js';
import { SecretsUnreadableError } from '../domain/secrets.js';
import { temporalRejection } from '../infra/workflow-client.js';
import { accessLog } from './access-log.js';
import { auditRouter } from './audit.js';
import { bearerAuth } from './auth.js';
import { connectorActionsRouter } from './connector-actions.js';
import { connectorsRouter } from './connectors.js';
import { deliveriesRouter } from './deliveries.js';
import type { ApiDeps } from './deps.js';
import { docsRouter } from './docs.js';
import type { AppEnv } from './env.js';
import { ApiProblem, apiError, validationError } from './errors.js';
import { healthRouter } from './health.js';
import { jsonBody, MAX_BATCH_VALUES, MAX_EVENT_VALUES } from './json-body.js';
import { documentHealthRoutes, httpMetrics, metricsRouter } from './metrics.js';
import { serveOpenApi } from './openapi.js';
import { overviewRouter } from './overview.js';
import { replaysRouter } from './replays.js';
import { reportsRouter } from './reports.js';
import { rulesRouter } from './rules.js';
import { CODEC_PATH, temporalCodecRouter } from './temporal-codec.js';
import { ticketsRouter } from './tickets.js';
import { consoleRouter } from './ui/index.js';
import { violationTicketsRouter } from './violation-tickets.js';
import { violationsRouter } from './violations.js';
import { MAX_BATCH_BYTES, violationsBatchRouter } from './violations-batch.js';
import { violationsListRouter } from './violations-list.js';
import { webhooksRouter } from './webhooks.js';

const WEBHOOKS = '/v1/webhooks/';
/** The batch endpoint takes up to 500 events in one body (each still ≤ MAX_EVENT_BYTES). */
const BATCH_PATH = '/v1/violations:batch';

/** gRPC codes from the Temporal client that mean "try again later": deadline, rate limit, unavailable. */
const GRPC_RETRY_LATER = new Set([4, 8, 14]);

/** Errors that mean a dependency is down: the client should retry, nothing was accepted. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string | number; name?: string; message?: string; cause?: unknown };
  if (!e || typeof e !== 'object') return false;
  if (
    typeof e.code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|CONNECT_TIMEOUT|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED|57P0[1-3]|08\d\d\d)$/.test(
      e.code,
    )
  )
    return true;
  // The Temporal client: a ServiceError wraps the gRPC error; only some codes mean an outage (an
  // INVALID_ARGUMENT is the request's fault, and stays so however often it is retried).
  if (e.name === 'ServiceError') {
    const code = (e.cause as { code?: unknown } | undefined)?.code;
    return typeof code !== 'number' || GRPC_RETRY_LATER.has(code);
  }
  if (e.name === 'ConnectionError') return true;
  if (typeof e.code === 'number' && GRPC_RETRY_LATER.has(e.code)) return true;
  return e.cause ? isUnavailable(e.cause) : false;
}

function postgresCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: unknown; name?: string } | undefined;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  return postgresCode(e.cause);
}

export function createApp(deps: ApiDeps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return validationError(c, result.error);
    },
  });

  app.onError((err, c) => {
    if (err instanceof ApiProblem) return apiError(c, err.status, err.code, err.message, err.details);
    // A connector whose stored secrets no configured key opens (preview, push): say so, not 500.
    if (err instanceof SecretsUnreadableError) return apiError(c, 409, 'secrets_undecryptable', err.message);
    // PostgreSQL class 22 (data exception): a value the API let through that the database cannot
    // hold (NUL bytes, a malformed uuid, year 0). The statement failed, nothing was written.
    const pgCode = postgresCode(err);
    if (pgCode?.startsWith('22'))
      return apiError(c, 400, 'invalid_input', `a value cannot be stored or compared (PostgreSQL ${pgCode})`);
    if (err instanceof HTTPException) return apiError(c, err.status as 400, 'bad_request', err.message);
    const rejected = temporalRejection(err);
    if (rejected) return apiError(c, 400, 'temporal_rejected', `Temporal refused the request: ${rejected}`);
    if (isUnavailable(err)) {
      deps.logger.warn({ err, path: c.req.path }, 'dependency unavailable');
      c.header('Retry-After', '5');
      return apiError(
        c,
        503,
        'unavailable',
        'a dependency (PostgreSQL or Temporal) is unavailable; retry later',
      );
    }
    deps.logger.error({ err, path: c.req.path }, 'unhandled error');
    return apiError(c, 500, 'internal', 'internal error');
  });
  app.notFound((c) => apiError(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));

  // First: logs and counts every request, by matched route pattern (never the raw path).
  app.use('*', accessLog(deps.logger));
  app.use('*', httpMetrics());
  app.route('/', healthRouter(deps));
  documentHealthRoutes(app);
  // Prometheus scrape endpoint: no API key (ESCALATE_METRICS_TOKEN, if set, guards it).
  app.route('/', metricsRouter());

  const auth = bearerAuth(deps.apiKeys);
  const body = jsonBody(MAX_EVENT_BYTES, MAX_EVENT_VALUES);
  const batchBody = jsonBody(MAX_BATCH_BYTES, MAX_BATCH_VALUES);
  // Webhooks carry their own signatures; the codec has its own auth (browser session) and CORS.
  const ownAuth = (path: string) => path.startsWith(WEBHOOKS) || path.startsWith(`${CODEC_PATH}/`);
  app.use('/v1/*', (c, next) => (ownAuth(c.req.path) ? next() : auth(c, next)));
  app.use('/v1/*', (c, next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(c.req.method) || ownAuth(c.req.path)) return next();
    return c.req.path === BATCH_PATH ? batchBody(c, next) : body(c, next);
  });

  app.route('/v1', violationsBatchRouter(deps));
  app.route('/v1', violationsListRouter(deps));
  app.route('/v1', violationsRouter(deps));
  app.route('/v1', violationTicketsRouter(deps));
  app.route('/v1', ticketsRouter(deps));
  app.route('/v1', webhooksRouter(deps));
  app.route('/v1', connectorsRouter(deps));
  app.route('/v1', connectorActionsRouter(deps));
  app.route('/v1', deliveriesRouter(deps));
  app.route('/v1', replaysRouter(deps));
  app.route('/v1', rulesRouter(deps));
  app.route('/v1', auditRouter(deps));
  app.route('/v1', reportsRouter(deps));
  app.route('/v1', temporalCodecRouter(deps));
  app.route('/v1', overviewRouter(deps));

  serveOpenApi(app);
  app.route('/', docsRouter());
  app.route(
    '/ui',
    consoleRouter({
      apiKeys: deps.apiKeys,
      secret: deps.box.deriveKey('console-session'),
      fetchApi: (req) => app.fetch(req),
      temporalUi: deps.temporalUiUrl
        ? { url: deps.temporalUiUrl, namespace: deps.workflows.client.options?.namespace ?? 'default' }
        : undefined,
      audit: (entry) => audit(deps.database.db, entry),
      logger: deps.logger,
    }),
  );
  return app;
}
