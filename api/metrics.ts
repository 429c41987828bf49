import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { httpRequestDuration, httpRequests, metricsText } from '../infra/metrics.js';
import type { AppEnv } from './env.js';
import { apiError } from './errors.js';
import { createRouter } from './router.js';
import { errorResponse } from './schemas.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The route pattern a request matched (`/v1/violations/:event_id`), never the raw path: the
 * last matched handler that is not a middleware, so a request a middleware answered (401, 413)
 * is still counted under the route it was meant for; `unmatched` when no route matched.
 */
export function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i]!;
    if (r.method !== 'ALL') return r.path;
  }
  return 'unmatched';
}

/** Counts and times every request (`escalate_http_requests_total`, `..._duration_seconds`). */
export const httpMetrics = () =>
  createMiddleware(async (c, next) => {
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const labels = {
        method: METHODS.has(c.req.method) ? c.req.method : 'OTHER',
        route: routeLabel(c),
        // A thrown error reaching here (rare: onError answers first) counts as a 500.
        status: String(c.res?.status ?? 500),
      };
      httpRequests.inc(labels);
      httpRequestDuration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    }
  });

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * `GET /metrics`: the Prometheus text exposition. Open by default (as Prometheus scrapes
 * usually are; keep the port private), or behind `Authorization: Bearer <ESCALATE_METRICS_TOKEN>`
 * when that is set.
 */
export function metricsRouter(opts: { token?: string } = { token: process.env.ESCALATE_METRICS_TOKEN }) {
  const router = createRouter();
  const token = opts.token?.trim() || undefined;
  router.openapi(
    createRoute({
      method: 'get',
      path: '/metrics',
      tags: ['operations'],
      summary: 'Prometheus metrics (text exposition format)',
      description:
        'Counters and histograms: escalate_violations_received_total{event_type,severity,result}, ' +
        'escalate_tickets_created_total{connector_id,kind}, escalate_deliveries_total{connector_id,kind,outcome}, ' +
        'escalate_delivery_attempt_duration_seconds{kind}, escalate_webhooks_total{source,outcome}, ' +
        'escalate_replays_total{reason,result}, escalate_http_requests_total{method,route,status}, ' +
        'escalate_http_request_duration_seconds{method,route,status}, plus process_* and nodejs_* ' +
        'metrics. No API key: open unless ESCALATE_METRICS_TOKEN is set, then ' +
        '`Authorization: Bearer <ESCALATE_METRICS_TOKEN>` is required.',
      security: [],
      responses: {
        200: {
          description: 'Prometheus text format 0.0.4',
          content: { 'text/plain': { schema: z.string() } },
        },
        401: errorResponse('ESCALATE_METRICS_TOKEN is set and the bearer token is missing or wrong'),
      },
    }),
    async (c) => {
      if (token) {
        const presented = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim() ?? '';
        if (!timingSafeEqual(digest(presented), digest(token))) {
          c.header('WWW-Authenticate', 'Bearer realm="escalate-metrics"');
          return apiError(c, 401, 'unauthorized', 'missing or wrong metrics bearer token');
        }
      }
      const { body, contentType } = await metricsText();
      return c.text(body, 200, { 'content-type': contentType });
    },
  );
  return router;
}

const HealthSchema = z.object({ status: z.literal('ok') }).openapi('Health');
const CheckSchema = z.object({ ok: z.boolean(), error: z.string().optional() });
const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    checks: z.object({ postgres: CheckSchema, temporal: CheckSchema }),
  })
  .openapi('Readiness');

/**
 * Documents the probes served by the health router (plain Hono routes, so not generated there).
 * Keep in step with api/health.ts.
 */
export function documentHealthRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/healthz',
    tags: ['operations'],
    summary: 'Liveness: the process answers',
    security: [],
    responses: {
      200: { description: 'Alive', content: { 'application/json': { schema: HealthSchema } } },
    },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/readyz',
    tags: ['operations'],
    summary: 'Readiness: PostgreSQL and Temporal answer (within 3 s each)',
    security: [],
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: ReadinessSchema } } },
      503: {
        description: 'A dependency is unavailable',
        content: { 'application/json': { schema: ReadinessSchema } },
      },
    },
  });
}
