// biome-ignore-all lint/suspicious/noThenProperty: SPEC §5 names the rule field `then`; plain data, never a thenable.
/**
 * A fake escalate API for the CLI tests: the contracts the CLI talks to, in memory, with
 * every request recorded. Not the real API (that is tested with Temporal and PostgreSQL elsewhere).
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import type { Rule } from '../../cli/types.js';
import { replayWorkflowId, violationWorkflowId } from '../../workflows/contract.js';

export const API_KEY = 'test-key';

export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  body: unknown;
}

export interface FakeDelivery {
  id: string;
  connector_id: string;
  kind: string;
  purpose: string;
  event_id: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_error: string | null;
  last_attempt_at: string | null;
}

export interface FakeReplay {
  id: string;
  /** Outcome each selected delivery ends with (in order); one more is finished per poll. */
  outcomes: { delivery: FakeDelivery; outcome: 'delivered' | 'failed' | 'skipped'; error?: string }[];
  polls: number;
}

export interface FakeApiState {
  requests: Recorded[];
  deliveries: FakeDelivery[];
  /** event_id → body of accepted violations. */
  violations: Map<string, unknown>;
  replays: Map<string, FakeReplay>;
  /** Deliveries whose replay fails again. */
  failOnReplay: Set<string>;
  /** What `POST /v1/connectors:reencrypt` reports as not decryptable. */
  unreadableSecrets: { id: string; reason: string }[];
  /** Answer rules dry-run with camelCase explanations (as `domain/rules.ts` names them). */
  camelCaseDryRun: boolean;
  /** Rules as the API stores them (PATCH replaces `when`/`then` whole). */
  rules: FakeRule[];
  /** Connectors created through POST /v1/connectors (bodies as received). */
  createdConnectors: Record<string, unknown>[];
}

/** A rule as the API answers it (what the CLI reads). */
export type FakeRule = Required<Omit<Rule, 'warnings'>>;

export function makeRules(): FakeRule[] {
  return [
    {
      id: 'critical-to-sec',
      name: 'Critical to SEC',
      enabled: true,
      order: 10,
      when: { min_severity: 'critical' },
      then: { targets: ['jira-sec'], priority: 'critical' },
      stop: false,
      origin: 'api',
    },
    {
      id: 'coach',
      name: 'coaching resolves itself',
      enabled: true,
      order: 20,
      when: { policy_actions: ['coach'] },
      then: { targets: ['jira-sec'], priority: 'low', auto_resolve_after: '24h' },
      stop: true,
      origin: 'config',
    },
    {
      id: 'old-rule',
      name: 'Old rule',
      enabled: false,
      order: 30,
      when: {},
      then: { targets: ['jira-sec'] },
      stop: false,
      origin: 'api',
    },
  ];
}

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

export function makeDeliveries(): FakeDelivery[] {
  const out: FakeDelivery[] = [];
  for (let i = 1; i <= 7; i++) {
    out.push({
      id: uuid(100 + i),
      connector_id: i <= 5 ? 'splunk-prod' : 'jira-sec',
      kind: i <= 5 ? 'splunk' : 'jira',
      purpose: i <= 5 ? 'siem' : 'ticket',
      event_id: uuid(200 + i),
      status: 'failed',
      attempts: 5,
      last_error:
        i === 6 ? 'HTTP 503 from https://jira.example.com/rest/api/3/issue' : 'connect ECONNREFUSED',
      last_attempt_at: '2026-11-20T10:20:00.000Z',
    });
  }
  out.push({ ...out[0]!, id: uuid(108), status: 'delivered', attempts: 1, last_error: null });
  return out;
}

const err = (c: Context, status: 400 | 401 | 404 | 409, code: string, message: string, details?: unknown) =>
  c.json({ error: { code, message, ...(details === undefined ? {} : { details }) } }, status);

type Check = { ok: true } | { ok: false; code: string; message: string; details: unknown };

function checkEvent(event: unknown): Check {
  const e = (event ?? {}) as Record<string, unknown>;
  const missing = ['event_id', 'event_type', 'severity'].filter((k) => typeof e[k] !== 'string');
  if (missing.length === 0) return { ok: true };
  return {
    ok: false,
    code: 'validation_failed',
    message: `invalid request: ${missing.join(', ')}`,
    details: missing.map((path) => ({ path, message: 'Required' })),
  };
}

export async function startFakeApi() {
  const state: FakeApiState = {
    requests: [],
    deliveries: makeDeliveries(),
    violations: new Map(),
    replays: new Map(),
    failOnReplay: new Set(),
    camelCaseDryRun: false,
    rules: makeRules(),
    createdConnectors: [],
    unreadableSecrets: [],
  };
  const app = new Hono();

  app.use('*', async (c, next) => {
    const text = c.req.method === 'GET' ? '' : await c.req.raw.clone().text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    state.requests.push({
      method: c.req.method,
      path: c.req.path,
      query: c.req.query(),
      authorization: c.req.header('authorization'),
      body,
    });
    if (c.req.header('authorization') !== `Bearer ${API_KEY}`) {
      return err(c, 401, 'unauthorized', 'missing or invalid API key');
    }
    await next();
  });

  /** One event as POST /v1/violations answers it (batch items reuse it). */
  function accept(event: unknown) {
    const check = checkEvent(event);
    if (!check.ok) return { status: 400 as const, error: check };
    const e = event as { event_id: string };
    const known = state.violations.get(e.event_id);
    if (known !== undefined && JSON.stringify(known) !== JSON.stringify(event)) {
      return {
        status: 409 as const,
        error: {
          code: 'conflict',
          message: `event ${e.event_id} was accepted with another body`,
          details: [],
        },
      };
    }
    state.violations.set(e.event_id, event);
    return {
      status: known === undefined ? (202 as const) : (200 as const),
      body: {
        event_id: e.event_id,
        workflow_id: violationWorkflowId(e.event_id),
        status_url: `/v1/violations/${e.event_id}`,
      },
    };
  }

  // `violations:batch` and `deliveries:replay` are matched by hand (":" starts a param in routes).
  app.post('/v1/*', async (c, next) => {
    const path = c.req.path;
    const body = await c.req.json().catch(() => undefined);
    if (path === '/v1/violations') {
      const r = accept(body);
      if (r.status === 400 || r.status === 409)
        return err(c, r.status, r.error.code, r.error.message, r.error.details);
      return c.json(r.body, r.status);
    }
    if (path === '/v1/violations:batch') {
      const events = (body as { events?: unknown[] } | undefined)?.events ?? [];
      const items = events.map((event) => {
        const r = accept(event);
        const event_id = ((event ?? {}) as { event_id?: string }).event_id ?? null;
        if (r.status === 400 || r.status === 409) {
          const { code, message, details } = r.error;
          return {
            event_id,
            status: r.status === 400 ? 'invalid' : 'conflict',
            http_status: r.status,
            error: { code, message, details },
          };
        }
        return {
          event_id,
          status: r.status === 202 ? 'accepted' : 'duplicate',
          http_status: r.status,
          workflow_id: r.body.workflow_id,
        };
      });
      return c.json({ items }, 200);
    }
    if (path === '/v1/deliveries:replay') return replay(c, body);
    if (path === '/v1/rules/dry-run') return dryRun(c, body);
    if (path === '/v1/connectors:reencrypt')
      return c.json({ reencrypted: ['jira-sec'], current: 1, unreadable: state.unreadableSecrets }, 200);
    const test = /^\/v1\/connectors\/([^/]+)\/test$/.exec(path);
    if (test) return connectorTest(c, decodeURIComponent(test[1]!));
    const check = /^\/v1\/connectors\/([^/]+)\/check$/.exec(path);
    if (check) return connectorCheck(c, decodeURIComponent(check[1]!));
    if (path === '/v1/connectors') return createConnector(c, body);
    if (path === '/v1/rules') return createRule(c, body);
    return next();
  });

  function createConnector(c: Context, body: unknown) {
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b['kind'] !== 'string' || typeof b['name'] !== 'string') {
      return err(c, 400, 'validation_failed', 'invalid request: kind, name', [
        { path: 'kind', message: 'Invalid input' },
      ]);
    }
    state.createdConnectors.push(b);
    const config = Object.fromEntries(
      Object.entries((b['config'] ?? {}) as Record<string, unknown>).map(([k, v]) => [
        k,
        /token|password|secret|key/.test(k) ? '********' : v,
      ]),
    );
    return c.json(
      { id: b['id'] ?? 'generated-id', name: b['name'], kind: b['kind'], enabled: true, config },
      201,
    );
  }

  function createRule(c: Context, body: unknown) {
    const b = body as Partial<FakeRule> & { id: string; name: string; then: Record<string, unknown> };
    if (state.rules.some((r) => r.id === b.id))
      return err(c, 409, 'conflict', `a rule with id ${b.id} exists`);
    const rule: FakeRule = {
      id: b.id,
      name: b.name,
      enabled: b.enabled ?? true,
      order: b.order ?? 0,
      when: b.when ?? {},
      stop: b.stop ?? false,
      then: b.then,
      origin: 'api',
    };
    state.rules.push(rule);
    return c.json({ ...rule, warnings: [] }, 201);
  }

  app.get('/v1/rules', (c) =>
    page(
      c,
      [...state.rules].sort((a, b) => a.order - b.order),
    ),
  );
  app.patch('/v1/rules/:id', async (c) => {
    const rule = state.rules.find((r) => r.id === c.req.param('id'));
    if (!rule) return err(c, 404, 'not_found', 'no such rule');
    const patch = (await c.req.json()) as Partial<FakeRule>;
    Object.assign(rule, patch);
    return c.json({ ...rule, warnings: [] });
  });
  app.delete('/v1/rules/:id', (c) => {
    const i = state.rules.findIndex((r) => r.id === c.req.param('id'));
    if (i < 0) return err(c, 404, 'not_found', 'no such rule');
    state.rules.splice(i, 1);
    return c.body(null, 204);
  });

  function connectorCheck(c: Context, id: string) {
    if (id === 'jira-sec') {
      return c.json({
        ok: true,
        connector_id: id,
        checks: [
          { name: 'authenticate', ok: true, message: 'authenticated as escalate bot (bot@example.com)' },
          { name: 'permissions', ok: true, message: 'in SEC: BROWSE_PROJECTS, CREATE_ISSUES' },
        ],
      });
    }
    if (id === 'splunk-prod') {
      return c.json({
        ok: false,
        connector_id: id,
        checks: [
          { name: 'reachable', ok: true, message: 'HEC answers: HEC is healthy' },
          { name: 'authenticate', ok: false, message: 'HTTP 403: Invalid token (code 4)' },
        ],
      });
    }
    return err(c, 404, 'not_found', 'no such connector');
  }

  function selected(filter: Record<string, unknown>) {
    return state.deliveries.filter(
      (d) =>
        (filter['status'] === undefined || d.status === filter['status']) &&
        (filter['connector_id'] === undefined || d.connector_id === filter['connector_id']) &&
        (!Array.isArray(filter['event_ids']) || filter['event_ids'].includes(d.event_id)),
    );
  }

  function replay(c: Context, body: unknown) {
    const { filter = {}, dry_run } = (body ?? {}) as { filter?: Record<string, unknown>; dry_run?: boolean };
    for (const key of ['since', 'until'] as const) {
      const value = filter[key];
      if (value !== undefined && (typeof value !== 'string' || Number.isNaN(Date.parse(value)))) {
        return err(c, 400, 'validation_failed', `invalid request: filter.${key}`, [
          { path: `filter.${key}`, message: 'Invalid ISO datetime' },
        ]);
      }
    }
    const chosen = selected(filter);
    if (dry_run) {
      return c.json(
        {
          dry_run: true,
          total: chosen.length,
          deliveries: chosen.map(({ purpose: _p, last_attempt_at: _l, ...d }) => d),
        },
        200,
      );
    }
    const id = `rep-${state.replays.size + 1}`;
    state.replays.set(id, {
      id,
      polls: 0,
      outcomes: chosen.map((delivery) =>
        state.failOnReplay.has(delivery.id)
          ? { delivery, outcome: 'failed', error: `HTTP 503 from ${delivery.connector_id}: still down` }
          : { delivery, outcome: 'delivered' },
      ),
    });
    return c.json(
      { replay_id: id, workflow_id: replayWorkflowId(id), total: chosen.length, dry_run: false },
      202,
    );
  }

  app.get('/v1/replays/:id', (c) => {
    const r = state.replays.get(c.req.param('id'));
    if (!r) return err(c, 404, 'not_found', `no replay ${c.req.param('id')}`);
    const done = Math.min(r.polls, r.outcomes.length);
    r.polls += 1;
    const items = r.outcomes.map((o, i) => ({
      delivery_id: o.delivery.id,
      connector_id: o.delivery.connector_id,
      event_id: o.delivery.event_id,
      outcome: i < done ? o.outcome : 'pending',
      ...(i < done && o.error ? { error: o.error } : {}),
    }));
    const count = (outcome: string) => items.filter((i) => i.outcome === outcome).length;
    return c.json({
      id: r.id,
      status: done >= r.outcomes.length ? 'completed' : 'running',
      total: r.outcomes.length,
      done,
      succeeded: count('delivered'),
      failed: count('failed'),
      skipped: count('skipped'),
      items,
    });
  });

  function page<T>(c: Context, all: T[]) {
    const limit = Number(c.req.query('limit') ?? 50);
    const offset = Number(c.req.query('cursor') ?? 0);
    const items = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? String(offset + limit) : null;
    return c.json({ items, next_cursor: next });
  }

  app.get('/v1/deliveries/:id', (c) => {
    const d = state.deliveries.find((x) => x.id === c.req.param('id'));
    if (!d) return err(c, 404, 'not_found', 'no such delivery');
    const attempt_log = Array.from({ length: d.attempts }, (_, i) => ({
      attempt: i + 1,
      outcome: d.status === 'delivered' && i === d.attempts - 1 ? 'succeeded' : 'failed',
      started_at: `2026-11-20T10:1${i}:00.000Z`,
      finished_at: `2026-11-20T10:1${i}:00.250Z`,
      duration_ms: 250,
      http_status: d.status === 'delivered' && i === d.attempts - 1 ? 200 : 503,
      remote_code: d.status === 'delivered' && i === d.attempts - 1 ? '0' : '9',
      message:
        d.status === 'delivered' && i === d.attempts - 1 ? 'Success' : 'HTTP 503: Server is busy (code 9)',
      retryable: !(d.status === 'delivered' && i === d.attempts - 1),
    }));
    return c.json({ ...d, ticket_id: null, created_at: '2026-11-20T10:09:59.000Z', attempt_log });
  });

  app.get('/v1/deliveries', (c) =>
    page(c, selected({ status: c.req.query('status'), connector_id: c.req.query('connector_id') })),
  );

  const ticket = {
    id: uuid(301),
    connector_id: 'jira-sec',
    kind: 'jira',
    event_id: uuid(201),
    external_id: 'SEC-42',
    external_url: 'https://jira.example.com/browse/SEC-42',
    status: 'open',
    severity: 'critical',
    priority: 'critical',
    correlation_key: null,
    recurrence_count: 2,
    sla_due_at: '2026-11-21T10:15:00.000Z',
    sla_breached: true,
    created_at: '2026-11-20T10:15:02.000Z',
    updated_at: '2026-11-20T10:15:02.000Z',
  };

  app.get('/v1/tickets', (c) => page(c, [ticket]));

  app.get('/v1/violations/:id', (c) => {
    const id = c.req.param('id');
    if (id !== uuid(201)) return err(c, 404, 'not_found', `no violation with event_id ${id}`);
    return c.json({
      event_id: id,
      workflow_id: violationWorkflowId(id),
      status: 'partially_failed',
      severity: 'critical',
      payload: {
        event_type: 'policy_violation',
        summary: 'max-tokens exceeded',
        user_email: 'alice@example.com',
      },
      decisions: [
        { connector_id: 'jira-sec', connector_name: 'Jira SEC', action: 'ticket', reason: 'rule "critical"' },
        {
          connector_id: 'splunk-prod',
          connector_name: 'Splunk',
          action: 'deliver',
          reason: 'SIEM filters match',
        },
      ],
      tickets: [ticket],
      deliveries: [
        { ...state.deliveries[0]!, event_id: id, purpose: 'siem' },
        {
          ...state.deliveries[5]!,
          event_id: id,
          status: 'delivered',
          attempts: 2,
          last_error: null,
          ticket_id: ticket.id,
        },
      ],
      received_at: '2026-11-20T10:15:00.500Z',
      completed_at: null,
    });
  });

  app.get('/v1/connectors', (c) =>
    page(c, [
      {
        id: 'jira-sec',
        name: 'Jira SEC',
        kind: 'jira',
        enabled: true,
        auto_push: true,
        status: {
          configured: true,
          enabled: true,
          last_test_at: '2026-11-20T09:00:00.000Z',
          last_test_ok: true,
          last_test_result: 'authenticated as bot@example.com',
        },
      },
      {
        id: 'splunk-prod',
        name: 'Splunk',
        kind: 'splunk',
        enabled: true,
        auto_push: false,
        status: {
          configured: true,
          enabled: true,
          last_test_at: null,
          last_test_ok: null,
          last_test_result: null,
        },
      },
    ]),
  );

  function connectorTest(c: Context, id: string) {
    if (id === 'jira-sec') {
      return c.json({
        ok: true,
        action: 'authenticate',
        connector_id: id,
        http_status: 200,
        message: 'authenticated as bot@example.com',
      });
    }
    if (id === 'splunk-prod') {
      return c.json({
        ok: false,
        action: 'send_test_event',
        connector_id: id,
        http_status: 403,
        remote_code: 'invalid_token',
        message: 'HEC rejected the token',
      });
    }
    return err(c, 404, 'not_found', `no connector ${id}`);
  }

  function dryRun(c: Context, body: unknown) {
    const event = (body as { event?: unknown } | undefined)?.event;
    const check = checkEvent(event);
    if (!check.ok) {
      const details = (check.details as { path: string; message: string }[]).map((d) => ({
        ...d,
        path: `event.${d.path}`,
      }));
      return err(c, 400, check.code, check.message, details);
    }
    const severity = (event as { severity: string }).severity;
    const critical = severity === 'critical';
    const explanations = [
      {
        rule_id: 'r1',
        rule_name: 'Critical to SEC',
        order: 1,
        status: critical ? 'matched' : 'not_matched',
        conditions: [
          {
            condition: 'min_severity',
            matched: critical,
            detail: `min_severity critical: event is ${severity} ${critical ? '✓' : '✗'}`,
          },
        ],
        targets: critical
          ? [{ connector_id: 'jira-sec', outcome: 'claimed', detail: 'Jira SEC: ticket' }]
          : [],
        stopped: false,
        summary: critical ? 'matched: 1 of 1 target(s) claimed' : 'not matched: min_severity failed',
      },
      {
        rule_id: 'r2',
        rule_name: 'Old rule',
        order: 2,
        status: 'disabled',
        conditions: [],
        targets: [],
        stopped: false,
        summary: 'skipped: rule disabled',
      },
    ];
    const jira = { connector_id: 'jira-sec', connector_name: 'Jira SEC' };
    const result = {
      event_id: (event as { event_id: string }).event_id,
      severity,
      risk_score: null,
      default_routing: { applied: !critical, min_severity: 'high' },
      decisions: [
        critical
          ? { ...jira, action: 'ticket', reason: 'rule "Critical to SEC"' }
          : { ...jira, action: 'ticket', reason: 'default routing (auto_push)' },
      ],
      explanations,
      tickets: [
        {
          ...jira,
          source: critical ? 'rule' : 'default',
          rule_id: critical ? 'r1' : null,
          rule_name: critical ? 'Critical to SEC' : null,
          priority: severity,
          correlate_by: ['policy.id'],
          correlation_key: 'k',
          assignee: null,
          assignment_group: critical ? 'secops' : null,
          project_key: 'SEC',
          issue_type: null,
          labels: [],
          auto_resolve_after_ms: null,
          sla_ms: critical ? 14_400_000 : null,
          reopen_within_ms: null,
        },
      ],
      siem: ['splunk-prod'],
    };
    if (!state.camelCaseDryRun) return c.json(result);
    // The shape of domain/rules.ts (camelCase explanations), without the planned tickets.
    return c.json({
      severity,
      decisions: result.decisions,
      explanations: explanations.map(({ rule_id, rule_name, targets, ...rest }) => ({
        ...rest,
        ruleId: rule_id,
        ruleName: rule_name,
        targets: targets.map(({ connector_id, ...t }) => ({ ...t, connectorId: connector_id })),
      })),
    });
  }

  let address: AddressInfo | undefined;
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      address = info;
      resolve(s);
    });
  });
  return {
    url: `http://127.0.0.1:${address!.port}`,
    state,
    uuid,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
