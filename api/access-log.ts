/**
 * One JSON line per request: method, route pattern, status, duration, the API key's label (never
 * the key) and the subject ids, from the path (`/v1/tickets/:id` → `ticket_id`) and from what
 * handlers add with `logFields` (the `event_id` of a posted violation, the ticket a webhook hit).
 * Health checks and scrapes log at debug so they do not drown the rest.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Logger } from 'pino';
import type { AppEnv } from './env.js';
import { routeLabel } from './metrics.js';

const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

const ID_NAMES: Record<string, string> = {
  violations: 'event_id',
  connectors: 'connector_id',
  tickets: 'ticket_id',
  deliveries: 'delivery_id',
  replays: 'replay_id',
  rules: 'rule_id',
};

/** `:name` segments of the matched pattern with their values; a bare `:id` is named by the segment before. */
export function pathIds(pattern: string, path: string): Record<string, string> {
  const names = pattern.split('/');
  const values = path.split('/');
  const ids: Record<string, string> = {};
  names.forEach((name, i) => {
    const value = values[i];
    if (!name.startsWith(':') || !value) return;
    const key = name === ':id' ? ID_NAMES[names[i - 1] ?? ''] : name.slice(1);
    if (key) ids[key] = decodeURIComponent(value).slice(0, 200);
  });
  return ids;
}

/** Adds fields to this request's access-log line. */
export function logFields(c: Context, fields: Record<string, string | undefined>): void {
  const ctx = c as Context<AppEnv>;
  ctx.set('logFields', { ...ctx.get('logFields'), ...fields });
}

export const accessLog = (logger: Logger) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const start = performance.now();
    await next();
    const route = routeLabel(c);
    const status = c.res.status;
    const level = QUIET_ROUTES.has(route) ? 'debug' : status >= 500 ? 'warn' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        method: c.req.method,
        route,
        status,
        duration_ms: Math.round((performance.now() - start) * 10) / 10,
        actor: c.get('actor'),
        ...(route === 'unmatched' ? {} : safePathIds(route, c.req.path)),
        ...c.get('logFields'),
      },
      'request',
    );
  });

function safePathIds(route: string, path: string): Record<string, string> {
  try {
    return pathIds(route, path);
  } catch {
    return {}; // a malformed %-escape: the route and status still tell the story
  }
}
