/**
 * Prometheus metrics (prom-client). One registry per process: when the API and the worker run
 * in one process (`npm start`, the tests) the API's `GET /metrics` serves both; a standalone
 * worker serves its own on `ESCALATE_WORKER_METRICS_PORT` (see `serveMetrics`).
 *
 * Labels are bounded: event types, severities, connector ids and kinds, matched route patterns
 * (never raw paths), fixed outcome names.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The registry every escalate metric lives in (not prom-client's global one). */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Violations posted (single and batch), by what the API answered. */
export const violationsReceived = new Counter({
  name: 'escalate_violations_received_total',
  help: 'Violations received by the API, by event type, severity and result (accepted|duplicate|conflict)',
  labelNames: ['event_type', 'severity', 'result'] as const,
  registers: [registry],
});

/** Tickets recorded after a successful create on an ITSM (created, or adopted after a lost answer). */
export const ticketsCreated = new Counter({
  name: 'escalate_tickets_created_total',
  help: 'ITSM tickets created, by connector and kind',
  labelNames: ['connector_id', 'kind'] as const,
  registers: [registry],
});

/**
 * Delivery outcomes. Per attempt: `attempt_succeeded` | `attempt_failed`; final: `delivered` |
 * `failed` (no retry left, or the remote refused for good).
 */
export const deliveries = new Counter({
  name: 'escalate_deliveries_total',
  help: 'Delivery outcomes by connector and kind: per attempt (attempt_succeeded|attempt_failed) and final (delivered|failed)',
  labelNames: ['connector_id', 'kind', 'outcome'] as const,
  registers: [registry],
});

export type DeliveryOutcome = 'attempt_succeeded' | 'attempt_failed' | 'delivered' | 'failed';

export const deliveryAttemptDuration = new Histogram({
  name: 'escalate_delivery_attempt_duration_seconds',
  help: 'Duration of one delivery attempt (the remote call), by connector kind',
  labelNames: ['kind'] as const,
  buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

/** Tickets whose SLA passed while open (counted once per ticket, when the breach is recorded). */
export const slaBreaches = new Counter({
  name: 'escalate_sla_breaches_total',
  help: 'Tickets whose SLA passed while still open, by connector and kind',
  labelNames: ['connector_id', 'kind'] as const,
  registers: [registry],
});

/**
 * Violations stored whose workflow start Temporal has not acknowledged for longer than the sweep's
 * grace period (the API's sweep starts them); set at each sweep. Above 0 for long: Temporal refuses
 * or cannot be reached.
 */
export const violationsUnstarted = new Gauge({
  name: 'escalate_violations_unstarted',
  help: 'Violations stored whose workflow start is still pending after the grace period, as of the last sweep (at most 500)',
  registers: [registry],
});

/** Inbound ITSM webhooks, by source (itsm|jira|servicenow) and outcome. */
export const webhooks = new Counter({
  name: 'escalate_webhooks_total',
  help: 'Inbound ITSM webhooks by source (itsm|jira|servicenow) and outcome (applied|noop|ignored|duplicate|unauthorized|invalid|not_found|refused|error)',
  labelNames: ['source', 'outcome'] as const,
  registers: [registry],
});

/** Redeliveries asked for: `reason` manual (push) | replay; `result` started | skipped (already delivered). */
export const replays = new Counter({
  name: 'escalate_replays_total',
  help: 'Deliveries replayed or pushed again, by reason (replay|manual) and result (started|skipped)',
  labelNames: ['reason', 'result'] as const,
  registers: [registry],
});

/** Warnings and errors logged by the Temporal SDK (slow workflow tasks, failed activities...). */
export const workerLogEntries = new Counter({
  name: 'escalate_temporal_sdk_log_entries_total',
  help: 'Warnings and errors logged by the Temporal SDK, by level and component (worker|core|workflow|activity)',
  labelNames: ['level', 'component'] as const,
  registers: [registry],
});

export const httpRequests = new Counter({
  name: 'escalate_http_requests_total',
  help: 'HTTP requests by method, matched route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: 'escalate_http_request_duration_seconds',
  help: 'HTTP request duration by method, matched route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/** Counts one delivery outcome; never throws (metrics must not break a delivery). */
export function countDelivery(connectorId: string, kind: string, outcome: DeliveryOutcome): void {
  deliveries.inc({ connector_id: connectorId, kind, outcome });
}

/** The exposition text and its content type, for `GET /metrics` handlers. */
export async function metricsText(): Promise<{ body: string; contentType: string }> {
  return { body: await registry.metrics(), contentType: registry.contentType };
}

/** Fetches another exporter's text (e.g. the Temporal SDK's); empty when it does not answer. */
export async function scrapeText(url: string, timeoutMs = 2000): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** What `GET /healthz` answers: 200 when `ok`, else 503; `status` names the state. */
export type HealthCheck = () => { ok: boolean; status: string };

/**
 * A minimal HTTP listener serving this process's registry on `GET /metrics` (plus `extra`, e.g.
 * the Temporal SDK's exporter text, so one scrape target has both), and `GET /healthz` from
 * `health`. For a standalone worker.
 */
export function serveMetrics(opts: {
  port: number;
  host?: string;
  extra?: () => Promise<string>;
  health?: HealthCheck;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz' && opts.health) {
      const { ok, status } = opts.health();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
      return;
    }
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    void Promise.all([registry.metrics(), opts.extra?.() ?? Promise.resolve('')])
      .then(([ours, extra]) => {
        const body = extra ? `${ours.endsWith('\n') ? ours : `${ours}\n`}${extra}` : ours;
        res.writeHead(200, { 'content-type': registry.contentType }).end(body);
      })
      .catch((err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`);
      });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/**
 * Parses `ESCALATE_WORKER_METRICS_PORT`-style values: unset/empty → `fallback`; `0`, `off`,
 * `false` → disabled (undefined); otherwise a TCP port.
 */
export function metricsPortFromEnv(value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined || value.trim() === '') return fallback;
  if (/^(0|off|false|no)$/i.test(value.trim())) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error(`invalid metrics port ${JSON.stringify(value)}: expected 1-65535, or off`);
  return port;
}
