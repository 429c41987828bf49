import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import { createApp } from '../../api/app.js';
import { metricsRouter } from '../../api/metrics.js';
import { defaultSettings } from '../../domain/settings.js';
import { createLogger } from '../../infra/logger.js';
import { violationWorkflowId } from '../../workflows/contract.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, INGEST_KEY, type Stack, startStack } from '../helpers/stack.js';
import { jiraIssueUpdated, jiraWebhookRequest } from '../helpers/webhooks.js';

const JIRA_HOOK_SECRET = 'obs-jira-hook-secret';
const CONNECTOR_ID = 'jira-obs';
let stack: Stack;
let jira: FakeJira;
let connectorName: string;

beforeAll(async () => {
  [stack, jira] = await Promise.all([startStack(), startFakeJira()]);
  const connector = jiraConnector(jira.url, {
    id: CONNECTOR_ID,
    config: { ...jiraConnector(jira.url).config, webhook_secret: JIRA_HOOK_SECRET },
  });
  connectorName = connector.name;
  const res = await stack.api('/v1/connectors', { method: 'POST', json: connector });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await stack?.close();
  await jira?.close();
});
beforeEach(() => jira.faults.clear());

// ---------------------------------------------------------------------------------------------
// Prometheus text helpers

const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when none). */
const metricValue = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${stack.url}/metrics`);
  expect(res.status).toBe(200);
  return parseMetrics(await res.text());
}

// ---------------------------------------------------------------------------------------------

type ViolationView = {
  status: string;
  tickets: { id: string; external_id: string }[];
  deliveries: { id: string; status: string; attempts: number }[];
};

const post = (event: Record<string, unknown>) => stack.api('/v1/violations', { method: 'POST', json: event });

const finished = (eventId: string) =>
  eventually(
    async () => {
      const body = (await (await stack.api(`/v1/violations/${eventId}`)).json()) as ViolationView;
      return body.status !== 'processing' ? body : undefined;
    },
    // Generous: the Temporal server is shared with the other test files on a small machine.
    90_000,
    `violation ${eventId} to finish`,
  );

describe('/metrics', () => {
  it('counts violations, tickets, deliveries, attempts, webhooks, replays and HTTP requests', async () => {
    const before = await scrape();
    const jiraLabels = { connector_id: CONNECTOR_ID, kind: 'jira' };

    // A: accepted, then a duplicate and a conflict; its first create attempt gets a 503.
    jira.faults.status(503, { path: '/rest/api/3/issue' });
    const a = makeEvent({ event_type: 'policy_violation', severity: 'critical' });
    expect((await post(a)).status).toBe(202);
    expect((await post(a)).status).toBe(200);
    expect((await post({ ...a, summary: 'another body' })).status).toBe(409);
    const va = await finished(a.event_id as string);
    expect(va.status).toBe('completed');
    expect(va.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 2 });

    // B: Jira refuses the create for good (400): one failed attempt, a final failure.
    jira.faults.status(400, { path: '/rest/api/3/issue' });
    const b = makeEvent({ event_type: 'anomaly', severity: 'critical' });
    expect((await post(b)).status).toBe(202);
    const vb = await finished(b.event_id as string);
    expect(vb.status).toBe('failed');
    expect(vb.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1 });

    let after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      metricValue(after, name, labels) - metricValue(before, name, labels);

    const received = 'escalate_violations_received_total';
    const aLabels = { event_type: 'policy_violation', severity: 'critical' };
    expect(delta(received, { ...aLabels, result: 'accepted' })).toBe(1);
    expect(delta(received, { ...aLabels, result: 'duplicate' })).toBe(1);
    expect(delta(received, { ...aLabels, result: 'conflict' })).toBe(1);
    expect(delta(received, { event_type: 'anomaly', severity: 'critical', result: 'accepted' })).toBe(1);

    expect(delta('escalate_tickets_created_total', jiraLabels)).toBe(1);
    const deliveries = 'escalate_deliveries_total';
    expect(delta(deliveries, { ...jiraLabels, outcome: 'attempt_failed' })).toBe(2);
    expect(delta(deliveries, { ...jiraLabels, outcome: 'attempt_succeeded' })).toBe(1);
    expect(delta(deliveries, { ...jiraLabels, outcome: 'delivered' })).toBe(1);
    expect(delta(deliveries, { ...jiraLabels, outcome: 'failed' })).toBe(1);
    expect(delta('escalate_delivery_attempt_duration_seconds_count', { kind: 'jira' })).toBe(3);
    expect(delta('escalate_delivery_attempt_duration_seconds_bucket', { kind: 'jira', le: '+Inf' })).toBe(3);
    expect(delta('escalate_delivery_attempt_duration_seconds_sum', { kind: 'jira' })).toBeGreaterThan(0);

    // HTTP: labelled by the matched route pattern, never the raw path.
    const http = 'escalate_http_requests_total';
    expect(delta(http, { method: 'POST', route: '/v1/violations', status: '202' })).toBe(2);
    expect(delta(http, { method: 'POST', route: '/v1/violations', status: '200' })).toBe(1);
    expect(delta(http, { method: 'POST', route: '/v1/violations', status: '409' })).toBe(1);
    expect(delta(http, { method: 'GET', route: '/v1/violations/:event_id', status: '200' })).toBeGreaterThan(
      0,
    );
    expect(
      delta('escalate_http_request_duration_seconds_count', { method: 'POST', route: '/v1/violations' }),
    ).toBe(4);
    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
    const routes = after.filter((s) => s.name === http).map((s) => s.labels.route!);
    expect(routes.filter((r) => uuid.test(r))).toEqual([]);

    // Webhooks by source and outcome.
    const key = va.tickets[0]!.external_id;
    const hook = (secret: string) =>
      stack.api(`/v1/webhooks/jira/${CONNECTOR_ID}`, {
        key: null,
        ...jiraWebhookRequest(jiraIssueUpdated(key, 'done'), secret),
      });
    expect((await hook(JIRA_HOOK_SECRET)).status).toBe(200);
    expect((await hook('wrong-secret')).status).toBe(401);
    // Replay of B's failed delivery (Jira accepts it now).
    const replay = await stack.api(`/v1/deliveries/${vb.deliveries[0]!.id}/replay`, { method: 'POST' });
    expect(replay.status).toBe(202);
    await eventually(
      async () => ((await finished(b.event_id as string)).status === 'completed' ? true : undefined),
      90_000,
      'replayed delivery to succeed',
    );
    // Unmatched paths and refused keys.
    expect((await stack.api('/no/such/path')).status).toBe(404);
    expect((await stack.api('/v1/reports/summary', { key: null })).status).toBe(401);

    after = await eventually(async () => {
      const s = await scrape();
      return metricValue(s, 'escalate_tickets_created_total', jiraLabels) -
        metricValue(before, 'escalate_tickets_created_total', jiraLabels) ===
        2
        ? s
        : undefined;
    });
    expect(delta('escalate_webhooks_total', { source: 'jira', outcome: 'applied' })).toBe(1);
    expect(delta('escalate_webhooks_total', { source: 'jira', outcome: 'unauthorized' })).toBe(1);
    expect(delta('escalate_replays_total', { reason: 'replay', result: 'started' })).toBe(1);
    expect(delta(deliveries, { ...jiraLabels, outcome: 'delivered' })).toBe(2);
    expect(delta(http, { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(delta(http, { method: 'GET', route: '/v1/reports/summary', status: '401' })).toBe(1);
    expect(delta(http, { method: 'POST', route: '/v1/webhooks/jira/:connector_id', status: '200' })).toBe(1);

    // Default process metrics.
    expect(metricValue(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(metricValue(after, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  }, 300_000);

  it('serves the text exposition format, without an API key', async () => {
    const res = await fetch(`${stack.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE escalate_violations_received_total counter');
    expect(text).toContain('# TYPE escalate_delivery_attempt_duration_seconds histogram');
    expect(text).toContain('# TYPE escalate_http_request_duration_seconds histogram');
  });

  it('asks for ESCALATE_METRICS_TOKEN when one is set', async () => {
    const router = metricsRouter({ token: 'scrape-token' });
    expect((await router.request('/metrics')).status).toBe(401);
    expect((await router.request('/metrics', { headers: { authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
    const ok = await router.request('/metrics', { headers: { authorization: 'Bearer scrape-token' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('escalate_violations_received_total');
  });
});

// ---------------------------------------------------------------------------------------------

describe('GET /v1/reports/summary', () => {
  const SINCE = '2020-03-01T00:00:00.000Z';
  const UNTIL = '2020-03-02T00:00:00.000Z';
  const at = (iso: string) => new Date(iso).toISOString();
  const plus = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();

  /** A stored violation received at `receivedAt` (rows straight into PostgreSQL). */
  const violation = (receivedAt: string, eventType: string, severity: string, platformId: string | null) => {
    const eventId = randomUUID();
    const sql = stack.database.sql;
    return sql`
      insert into violations (event_id, payload, body_hash, event_type, severity, platform_id,
                              occurred_at, received_at, workflow_id, status)
      values (${eventId}, ${JSON.stringify({ event_id: eventId })}::jsonb, ${'h'}, ${eventType}, ${severity},
              ${platformId}, ${at(receivedAt)}, ${at(receivedAt)}, ${violationWorkflowId(eventId)}, 'completed')`;
  };

  beforeAll(async () => {
    const sql = stack.database.sql;
    await Promise.all([
      violation('2020-03-01T00:00:00Z', 'policy_violation', 'critical', 'prod-eu'),
      violation('2020-03-01T08:00:00Z', 'anomaly', 'critical', 'prod-eu'),
      violation('2020-03-01T12:00:00Z', 'policy_violation', 'high', 'prod-us'),
      violation('2020-03-01T23:59:59Z', 'budget_alert', 'low', null),
      // Outside [since, until): until is exclusive.
      violation('2020-03-02T00:00:00Z', 'policy_violation', 'critical', 'prod-eu'),
      violation('2020-02-29T23:59:59Z', 'lockout', 'medium', 'prod-eu'),
    ]);

    const ticket = (t: {
      connector: string;
      kind?: string;
      created: string;
      status: string;
      resolvedAfterS?: number;
      closedAfterS?: number;
      slaBreached?: boolean;
      externalId?: string | null;
    }) => {
      const id = randomUUID();
      return sql`
        insert into tickets (id, connector_id, kind, event_id, idempotency_key, external_id, status,
                             severity, priority, sla_breached, resolved_at, closed_at, created_at, updated_at)
        values (${id}, ${t.connector}, ${t.kind ?? 'jira'}, ${randomUUID()}, ${`report-${id}`},
                ${t.externalId === undefined ? `SEC-${id.slice(0, 6)}` : t.externalId}, ${t.status},
                'critical', 'critical', ${t.slaBreached ?? false},
                ${t.resolvedAfterS === undefined ? null : plus(t.created, t.resolvedAfterS)},
                ${t.closedAfterS === undefined ? null : plus(t.created, t.closedAfterS)},
                ${at(t.created)}, ${at(t.created)})`;
    };
    await Promise.all([
      ticket({
        connector: CONNECTOR_ID,
        created: '2020-03-01T10:00:00Z',
        status: 'resolved',
        resolvedAfterS: 60,
      }),
      ticket({
        connector: CONNECTOR_ID,
        created: '2020-03-01T11:00:00Z',
        status: 'closed',
        resolvedAfterS: 120,
        closedAfterS: 3600,
      }),
      ticket({
        connector: 'deleted-snow',
        kind: 'servicenow',
        created: '2020-03-01T12:00:00Z',
        status: 'resolved',
        resolvedAfterS: 600,
      }),
      ticket({
        connector: CONNECTOR_ID,
        created: '2020-03-01T13:00:00Z',
        status: 'in_progress',
        slaBreached: true,
      }),
      // Closed straight from open (canceled): resolved share yes, time to resolve no.
      ticket({
        connector: CONNECTOR_ID,
        created: '2020-03-01T14:00:00Z',
        status: 'closed',
        closedAfterS: 30,
        slaBreached: true,
      }),
      // A correlation claim whose create is still in flight: not a ticket yet.
      ticket({ connector: CONNECTOR_ID, created: '2020-03-01T15:00:00Z', status: 'open', externalId: null }),
      // Outside the range.
      ticket({
        connector: CONNECTOR_ID,
        created: '2020-03-03T10:00:00Z',
        status: 'resolved',
        resolvedAfterS: 5,
      }),
    ]);

    const delivery = (connector: string, kind: string, status: string, created: string) =>
      sql`
        insert into deliveries (event_id, connector_id, kind, purpose, status, created_at, updated_at)
        values (${randomUUID()}, ${connector}, ${kind}, 'ticket', ${status}, ${at(created)}, ${at(created)})`;
    await Promise.all([
      delivery(CONNECTOR_ID, 'jira', 'failed', '2020-03-01T01:00:00Z'),
      delivery(CONNECTOR_ID, 'jira', 'failed', '2020-03-01T02:00:00Z'),
      delivery('deleted-snow', 'servicenow', 'failed', '2020-03-01T03:00:00Z'),
      delivery(CONNECTOR_ID, 'jira', 'delivered', '2020-03-01T04:00:00Z'),
      delivery(CONNECTOR_ID, 'jira', 'failed', '2020-02-01T04:00:00Z'),
    ]);
  });

  it('sums a controlled set of violations, tickets and deliveries', async () => {
    const res = await stack.api(`/v1/reports/summary?since=${SINCE}&until=${UNTIL}`);
    expect(res.status).toBe(200);
    const report = (await res.json()) as Record<string, unknown> & {
      tickets: { time_to_resolve: { mean_seconds: number; median_seconds: number } };
    };
    expect(report).toEqual({
      since: SINCE,
      until: UNTIL,
      violations: {
        total: 4,
        by_severity: { critical: 2, high: 1, low: 1 },
        by_event_type: { policy_violation: 2, anomaly: 1, budget_alert: 1 },
        by_platform: { 'prod-eu': 2, 'prod-us': 1, '(none)': 1 },
      },
      tickets: {
        total: 5,
        resolved: 4,
        resolved_share: 0.8,
        sla_breaches: 2,
        time_to_resolve: { count: 3, mean_seconds: expect.any(Number), median_seconds: expect.any(Number) },
        by_connector: [
          {
            connector_id: CONNECTOR_ID,
            name: connectorName,
            kind: 'jira',
            tickets: 4,
            resolved: 3,
            sla_breaches: 2,
            time_to_resolve: { count: 2, mean_seconds: 90, median_seconds: 90 },
          },
          {
            connector_id: 'deleted-snow',
            name: null,
            kind: 'servicenow',
            tickets: 1,
            resolved: 1,
            sla_breaches: 0,
            time_to_resolve: { count: 1, mean_seconds: 600, median_seconds: 600 },
          },
        ],
      },
      deliveries: {
        failed: 3,
        failed_by_connector: [
          { connector_id: CONNECTOR_ID, name: connectorName, kind: 'jira', count: 2 },
          { connector_id: 'deleted-snow', name: null, kind: 'servicenow', count: 1 },
        ],
      },
    });
    // Resolve times 60 s, 120 s and 600 s.
    expect(report.tickets.time_to_resolve.mean_seconds).toBeCloseTo(260, 6);
    expect(report.tickets.time_to_resolve.median_seconds).toBeCloseTo(120, 6);
  });

  it('answers zeros and nulls for an empty range', async () => {
    const res = await stack.api('/v1/reports/summary?since=2001-01-01T00:00:00Z&until=2001-01-02T00:00:00Z');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      violations: { total: 0, by_severity: {}, by_event_type: {}, by_platform: {} },
      tickets: {
        total: 0,
        resolved: 0,
        resolved_share: null,
        sla_breaches: 0,
        time_to_resolve: { count: 0, mean_seconds: null, median_seconds: null },
        by_connector: [],
      },
      deliveries: { failed: 0, failed_by_connector: [] },
    });
  });

  it('defaults to the last 30 days', async () => {
    const day = 24 * 3600 * 1000;
    await violation(new Date(Date.now() - day).toISOString(), 'lockout', 'medium', 'recent-platform');
    await violation(new Date(Date.now() - 31 * day).toISOString(), 'lockout', 'medium', 'old-platform');
    const before = Date.now();
    const res = await stack.api('/v1/reports/summary');
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      since: string;
      until: string;
      violations: { total: number; by_platform: Record<string, number> };
    };
    const until = Date.parse(report.until);
    expect(until).toBeGreaterThanOrEqual(before - 1000);
    expect(until).toBeLessThanOrEqual(Date.now() + 1000);
    expect(until - Date.parse(report.since)).toBe(30 * 24 * 3600 * 1000);
    expect(report.violations.by_platform['recent-platform']).toBe(1);
    expect(report.violations.by_platform).not.toHaveProperty('old-platform');
    expect(report.violations.by_platform).not.toHaveProperty('prod-us'); // the 2020 rows
  });

  it('rejects bad ranges and non-admin keys', async () => {
    const inverted = await stack.api(`/v1/reports/summary?since=${UNTIL}&until=${SINCE}`);
    expect(inverted.status).toBe(400);
    expect(((await inverted.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    const garbage = await stack.api('/v1/reports/summary?since=yesterday');
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { error: { details: { path: string }[] } }).error.details).toEqual([
      expect.objectContaining({ path: 'since' }),
    ]);
    expect((await stack.api('/v1/reports/summary', { key: INGEST_KEY })).status).toBe(403);
    expect((await stack.api('/v1/reports/summary', { key: null })).status).toBe(401);
  });
});

// ---------------------------------------------------------------------------------------------

describe('OpenAPI', () => {
  /** Served by the spec and the docs page themselves, and the operator console (HTML, not API). */
  const EXEMPT = new Set(['GET /openapi.json', 'GET /docs', 'GET /docs/assets/:file']);
  const exempt = (route: string) => EXEMPT.has(route) || / \/ui(\/|$)/.test(route);

  it('documents every route the app registers, and nothing else', async () => {
    const app = createApp({
      database: stack.database,
      workflows: { client: stack.client, taskQueue: stack.taskQueue },
      box: stack.box,
      settings: defaultSettings(),
      apiKeys: parseApiKeys(`${ADMIN_KEY}:admin`),
      logger: createLogger({ level: 'silent' }),
    });
    const registered = new Set(
      app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toUpperCase()} ${r.path}`),
    );

    const res = await fetch(`${stack.url}/openapi.json`);
    expect(res.status).toBe(200);
    const spec = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(spec.openapi).toBe('3.1.0');
    const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const method of Object.keys(item)) {
        if (HTTP_METHODS.has(method))
          documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
      }
    }

    const undocumented = [...registered].filter((r) => !documented.has(r) && !exempt(r)).sort();
    expect(undocumented).toEqual([]);
    const phantom = [...documented].filter((r) => !registered.has(r)).sort();
    expect(phantom).toEqual([]);
    // The ones this work added.
    for (const r of ['GET /metrics', 'GET /healthz', 'GET /readyz', 'GET /v1/reports/summary'])
      expect(documented).toContain(r);
    expect(registered.size).toBeGreaterThan(20);
  });

  it('registers the report schema as a component', async () => {
    const spec = (await (await fetch(`${stack.url}/openapi.json`)).json()) as {
      components: { schemas: Record<string, unknown> };
      paths: Record<string, { get?: { security?: unknown[] } }>;
    };
    expect(spec.components.schemas).toHaveProperty('SummaryReport');
    expect(spec.paths['/metrics']?.get?.security).toEqual([]);
  });

  it('serves the interactive docs as HTML', async () => {
    const res = await fetch(`${stack.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('/docs/assets/swagger-ui-bundle.js');
    const init = await (await fetch(`${stack.url}/docs/assets/init.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
  });
});
