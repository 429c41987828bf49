// biome-ignore-all lint/suspicious/noThenProperty: rules have a `then` field; plain data.
/**
 * Rules over HTTP: CRUD with validation, 409s and audit; dry-run explaining every rule
 * with the seeds' examples declared by API and by ESCALATE_CONFIG; and one violation end to end
 * that a rule sends to the CISO's Jira.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyConfigFile, parseConfigFile } from '../../infra/config-file.js';
import { violationWorkflowId } from '../../workflows/contract.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, INGEST_KEY, type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
/** Security team, CISO, finance security: rule targets only. Default: the auto_push fallback. */
let security: FakeJira;
let ciso: FakeJira;
let finance: FakeJira;
let fallback: FakeJira;
const ids = {
  security: 'jira-security',
  ciso: 'jira-ciso',
  finance: 'jira-finance',
  fallback: 'jira-default',
};
const ADMIN_ACTOR = `key…${ADMIN_KEY.slice(-4)}`;

type Json = Record<string, unknown>;
type PublicRule = {
  id: string;
  name: string;
  enabled: boolean;
  order: number;
  when: Json;
  then: Json;
  stop: boolean;
  origin: string;
  created_at: string;
  updated_at: string;
  warnings?: string[];
};
type ErrorBody = { error: { code: string; message: string; details?: { path: string; message: string }[] } };
type Condition = { condition: string; matched: boolean; detail: string };
type Explanation = {
  rule_id: string;
  rule_name: string;
  status: string;
  conditions: Condition[];
  targets: { connector_id: string; outcome: string; detail: string }[];
  notify: { connector_id: string; outcome: string; detail: string }[];
  stopped: boolean;
  summary: string;
};
type DryRun = {
  event_id: string;
  severity: string;
  risk_score: number | null;
  default_routing: { applied: boolean; min_severity: string };
  decisions: { connector_id: string; action: string; reason: string }[];
  explanations: Explanation[];
  tickets: {
    connector_id: string;
    source: string;
    rule_id: string | null;
    rule_name: string | null;
    priority: string;
    correlation_key: string;
    labels: string[];
    auto_resolve_after_ms: number | null;
  }[];
  siem: string[];
  notify: { connector_id: string; notify_on: string[] }[];
};

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : undefined) as T;
}

const post = (path: string, body: unknown) => stack.api(path, { method: 'POST', json: body });
const patch = (path: string, body: unknown) => stack.api(path, { method: 'PATCH', json: body });
const del = (path: string) => stack.api(path, { method: 'DELETE' });

/** The seeds' examples as rule bodies. */
const seedRules = () => [
  {
    id: 'ciso-critical',
    name: 'Risk ≥ 0.95 to the CISO',
    order: 10,
    when: { min_risk_score: 0.95 },
    then: { targets: [ids.ciso], priority: 'critical', labels: ['ciso'] },
  },
  {
    id: 'block-high-risk',
    name: 'Blocked and risky to the security team',
    order: 20,
    when: { policy_actions: ['block'], min_risk_score: 0.8 },
    then: { targets: [ids.security], priority: 'high' },
  },
  {
    id: 'finance-pii',
    name: 'Card numbers and IBANs to finance security',
    order: 30,
    when: { classifications: ['CREDIT_CARD', 'IBAN'] },
    then: { targets: [ids.finance], priority: 'critical', assignment_group: 'finance-sec' },
  },
  {
    id: 'coach-auto-resolve',
    name: 'Coaching auto-resolves after a quiet day',
    order: 40,
    when: { policy_actions: ['coach'] },
    then: { targets: [ids.security], auto_resolve_after: '24h' },
  },
];

const seedYaml = () => `
rules:
  - id: ciso-critical
    name: Risk ≥ 0.95 to the CISO
    order: 10
    when: { min_risk_score: 0.95 }
    then: { targets: [${ids.ciso}], priority: critical, labels: [ciso] }
  - id: block-high-risk
    name: Blocked and risky to the security team
    order: 20
    when:
      policy_actions: [block]
      min_risk_score: 0.8
    then:
      targets: [${ids.security}]
      priority: high
  - id: finance-pii
    name: Card numbers and IBANs to finance security
    order: 30
    when: { classifications: [CREDIT_CARD, IBAN] }
    then: { targets: [${ids.finance}], priority: critical, assignment_group: finance-sec }
  - id: coach-auto-resolve
    name: Coaching auto-resolves after a quiet day
    order: 40
    when: { policy_actions: [coach] }
    then: { targets: [${ids.security}], auto_resolve_after: 24h }
`;

/** A risk-scored event (no explicit severity) with the given policy action and classifications. */
const riskEvent = (risk: number, action: string, classifications: string[] = [], extra: Json = {}) =>
  makeEvent({
    severity: undefined,
    risk_score: risk,
    policy: { id: `pol-${action}`, name: action, action },
    classifications: classifications.map((type) => ({ type, confidence: 0.9 })),
    ...extra,
  });

async function dryRun(event: Json): Promise<DryRun> {
  return json<DryRun>(await post('/v1/rules/dry-run', { event }), 200);
}

const explanation = (d: DryRun, ruleId: string) => d.explanations.find((e) => e.rule_id === ruleId)!;
const ticketsBy = (d: DryRun) => Object.fromEntries(d.tickets.map((t) => [t.connector_id, t]));
const decision = (d: DryRun, connectorId: string) => d.decisions.find((x) => x.connector_id === connectorId)!;

async function countRows(table: string): Promise<number> {
  const rows = await stack.database.sql.unsafe(`select count(*)::int as n from ${table}`);
  return rows[0]!.n as number;
}

/** The same expectations whether the seed rules came from the API or from the YAML file. */
async function expectSeedDryRuns() {
  // Risk 0.97, blocked, a card number: CISO (critical), security team (high), finance (critical).
  const allEvent = riskEvent(0.97, 'block', ['CREDIT_CARD']);
  const all = await dryRun(allEvent);
  expect(all.severity).toBe('critical');
  expect(all.default_routing.applied).toBe(false);
  const t = ticketsBy(all);
  expect(Object.keys(t).sort()).toEqual([ids.ciso, ids.finance, ids.security].sort());
  expect(t[ids.ciso]).toMatchObject({
    source: 'rule',
    rule_id: 'ciso-critical',
    priority: 'critical',
    labels: ['ciso'],
  });
  expect(t[ids.security]).toMatchObject({ rule_id: 'block-high-risk', priority: 'high' });
  expect(t[ids.finance]).toMatchObject({ rule_id: 'finance-pii', priority: 'critical' });
  expect(t[ids.security]!.correlation_key).toBe(
    `event_type=policy_violation|policy.id=pol-block|user_email=${String(allEvent.user_email).toLowerCase()}`,
  );
  expect(explanation(all, 'finance-pii').conditions).toEqual([
    {
      condition: 'classifications',
      matched: true,
      detail: 'classifications [CREDIT_CARD, IBAN]: event has [CREDIT_CARD] (matched [CREDIT_CARD]) ✓',
    },
  ]);
  const coach = explanation(all, 'coach-auto-resolve');
  expect(coach.status).toBe('not_matched');
  expect(coach.conditions).toEqual([
    { condition: 'policy_actions', matched: false, detail: 'policy_actions [coach]: event action block ✗' },
  ]);
  expect(decision(all, ids.fallback)).toMatchObject({ action: 'skip' });
  expect(decision(all, ids.fallback).reason).toMatch(/default routing applies only without a match/);

  // Risk 0.85, blocked: the security team only; the CISO rule explains its failed condition.
  const blocked = await dryRun(riskEvent(0.85, 'block', ['EMAIL']));
  expect(blocked.severity).toBe('high');
  expect(blocked.tickets.map((x) => [x.connector_id, x.rule_id, x.priority])).toEqual([
    [ids.security, 'block-high-risk', 'high'],
  ]);
  const cisoRule = explanation(blocked, 'ciso-critical');
  expect(cisoRule.status).toBe('not_matched');
  expect(cisoRule.conditions).toEqual([
    { condition: 'min_risk_score', matched: false, detail: 'min_risk_score 0.95: event risk 0.85 ✗' },
  ]);
  expect(cisoRule.summary).toBe('not matched: min_risk_score failed');
  const blockRule = explanation(blocked, 'block-high-risk');
  expect(blockRule.status).toBe('matched');
  expect(blockRule.conditions.map((c) => [c.condition, c.matched])).toEqual([
    ['min_risk_score', true],
    ['policy_actions', true],
  ]);
  expect(blockRule.targets).toEqual([
    expect.objectContaining({ connector_id: ids.security, outcome: 'claimed' }),
  ]);

  // An IBAN at low risk: finance security, critical whatever the event's own severity.
  const iban = await dryRun(riskEvent(0.2, 'redact', ['IBAN']));
  expect(iban.severity).toBe('low');
  expect(iban.tickets.map((x) => [x.connector_id, x.priority])).toEqual([[ids.finance, 'critical']]);

  // Coaching: the security team's ticket auto-resolves after 24 h.
  const coached = await dryRun(riskEvent(0.3, 'coach'));
  expect(coached.tickets).toEqual([
    expect.objectContaining({
      connector_id: ids.security,
      rule_id: 'coach-auto-resolve',
      priority: 'low',
      auto_resolve_after_ms: 24 * 3600_000,
    }),
  ]);

  // No rule matches: the default (auto_push) connector gets critical events only.
  const critical = await dryRun(riskEvent(0.92, 'allow'));
  expect(critical.default_routing).toEqual({ applied: true, min_severity: 'critical' });
  expect(critical.explanations.every((e) => e.status === 'not_matched')).toBe(true);
  expect(critical.tickets).toEqual([
    expect.objectContaining({
      connector_id: ids.fallback,
      source: 'default',
      rule_id: null,
      priority: 'critical',
    }),
  ]);
  expect(decision(critical, ids.fallback).reason).toMatch(/no rule matched; default connector/);
  expect(decision(critical, ids.ciso)).toMatchObject({ action: 'skip' });
  expect(decision(critical, ids.ciso).reason).toMatch(/auto_push off/);

  const high = await dryRun(riskEvent(0.75, 'allow'));
  expect(high.tickets).toEqual([]);
  expect(decision(high, ids.fallback).reason).toBe(
    'no rule matched; severity high below auto_push.min_severity critical',
  );
}

beforeAll(async () => {
  [stack, security, ciso, finance, fallback] = await Promise.all([
    startStack(),
    startFakeJira(),
    startFakeJira(),
    startFakeJira(),
    startFakeJira(),
  ]);
  const targets = [
    [ids.security, security, false],
    [ids.ciso, ciso, false],
    [ids.finance, finance, false],
    [ids.fallback, fallback, true],
  ] as const;
  for (const [id, fake, autoPush] of targets) {
    await json(
      await post('/v1/connectors', { ...jiraConnector(fake.url, { auto_push: autoPush }), id }),
      201,
    );
  }
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([security, ciso, finance, fallback].map((f) => f?.close()));
});

describe('rules CRUD', () => {
  it('creates, lists in evaluation order, reads, patches and deletes, auditing every change', async () => {
    const created = await json<PublicRule>(
      await post('/v1/rules', {
        id: 'crud-b',
        name: 'CRUD b',
        order: 5,
        when: { event_types: ['anomaly'], tags: { team: 'payments' } },
        then: { targets: [ids.security], correlate_by: ['event_type', 'tags.team'], sla: '4h' },
      }),
      201,
    );
    expect(created).toMatchObject({
      id: 'crud-b',
      name: 'CRUD b',
      enabled: true,
      order: 5,
      stop: false,
      origin: 'api',
      when: { event_types: ['anomaly'], tags: { team: 'payments' } },
      then: { targets: [ids.security], correlate_by: ['event_type', 'tags.team'], sla: '4h' },
      warnings: [],
    });
    expect(Date.parse(created.created_at)).not.toBeNaN();

    // Without an id: a UUID; defaults filled in (enabled, order 0, empty when, stop false).
    const generated = await json<PublicRule>(
      await post('/v1/rules', { name: 'CRUD a', then: { targets: [ids.finance] } }),
      201,
    );
    expect(generated.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated).toMatchObject({ order: 0, enabled: true, stop: false, when: {} });
    const third = await json<PublicRule>(
      await post('/v1/rules', { id: 'crud-c', name: 'CRUD c', order: 5, then: { targets: [ids.ciso] } }),
      201,
    );

    // Evaluation order: order, then name; keyset pages.
    const list = await json<{ items: PublicRule[]; next_cursor: string | null }>(
      await stack.api('/v1/rules'),
      200,
    );
    expect(list.items.map((r) => r.id)).toEqual([generated.id, 'crud-b', 'crud-c']);
    expect(list.next_cursor).toBeNull();
    const first = await json<{ items: PublicRule[]; next_cursor: string }>(
      await stack.api('/v1/rules?limit=2'),
      200,
    );
    expect(first.items.map((r) => r.id)).toEqual([generated.id, 'crud-b']);
    const second = await json<{ items: PublicRule[]; next_cursor: string | null }>(
      await stack.api(`/v1/rules?limit=2&cursor=${first.next_cursor}`),
      200,
    );
    expect(second.items.map((r) => r.id)).toEqual(['crud-c']);
    expect(second.next_cursor).toBeNull();
    expect((await json<ErrorBody>(await stack.api('/v1/rules?cursor=nope'), 400)).error.code).toBe(
      'invalid_cursor',
    );

    expect(await json<PublicRule>(await stack.api('/v1/rules/crud-b'), 200)).toMatchObject({
      id: 'crud-b',
      warnings: [],
    });
    expect((await json<ErrorBody>(await stack.api('/v1/rules/nope'), 404)).error.code).toBe('not_found');

    // PATCH: `then` replaced whole, merged rule re-validated.
    const patched = await json<PublicRule>(
      await patch('/v1/rules/crud-b', {
        order: 1,
        stop: true,
        then: { targets: [ids.ciso], priority: 'high' },
      }),
      200,
    );
    expect(patched).toMatchObject({ order: 1, stop: true, then: { targets: [ids.ciso], priority: 'high' } });
    expect(patched.when).toEqual({ event_types: ['anomaly'], tags: { team: 'payments' } });
    expect(Date.parse(patched.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));
    const reordered = await json<{ items: PublicRule[] }>(await stack.api('/v1/rules'), 200);
    expect(reordered.items.map((r) => r.id)).toEqual([generated.id, 'crud-b', 'crud-c']);

    expect((await json<ErrorBody>(await patch('/v1/rules/crud-b', {}), 400)).error.code).toBe(
      'validation_failed',
    );
    const badPatch = await json<ErrorBody>(await patch('/v1/rules/crud-b', { then: { targets: [] } }), 400);
    expect(badPatch.error.details!.map((d) => d.path)).toEqual(['then.targets']);
    const badOrder = await json<ErrorBody>(await patch('/v1/rules/crud-b', { order: 1.5 }), 400);
    expect(badOrder.error.details!.map((d) => d.path)).toEqual(['order']);
    expect((await json<ErrorBody>(await patch('/v1/rules/crud-b', { name: 'CRUD c' }), 409)).error.code).toBe(
      'conflict',
    );
    expect((await json<ErrorBody>(await patch('/v1/rules/nope', { order: 1 }), 404)).error.code).toBe(
      'not_found',
    );

    expect((await del('/v1/rules/crud-b')).status).toBe(204);
    expect((await stack.api('/v1/rules/crud-b')).status).toBe(404);
    expect((await del('/v1/rules/crud-b')).status).toBe(404);
    for (const id of [generated.id, third.id]) expect((await del(`/v1/rules/${id}`)).status).toBe(204);

    const trail = await json<{ items: { action: string; actor: string; details: Json }[] }>(
      await stack.api('/v1/audit?subject_type=rule&subject_id=crud-b'),
      200,
    );
    expect(trail.items.map((e) => e.action)).toEqual(['rule.deleted', 'rule.updated', 'rule.created']);
    expect(trail.items.every((e) => e.actor === ADMIN_ACTOR)).toBe(true);
    expect(trail.items[1]!.details).toMatchObject({ changed: ['order', 'then', 'stop'] });
  });

  it('answers 409 for a taken id or name', async () => {
    const body = { id: 'dup', name: 'Dup', then: { targets: [ids.security] } };
    await json(await post('/v1/rules', body), 201);
    expect((await json<ErrorBody>(await post('/v1/rules', body), 409)).error.code).toBe('conflict');
    await json(await post('/v1/rules', { ...body, id: 'dup-2' }), 409);
    await json(await post('/v1/rules', { ...body, name: 'Dup 2' }), 409);
    expect((await del('/v1/rules/dup')).status).toBe(204);
  });

  it('names the offending fields in validation errors', async () => {
    const cases: [Json, string[]][] = [
      [{ name: 'x' }, ['then']],
      [{ name: 'x', then: { targets: [] } }, ['then.targets']],
      [{ name: 'x', then: { targets: ['a', 'a'] } }, ['then.targets']],
      [{ name: 'x', when: { min_risk_score: 1.5 }, then: { targets: ['a'] } }, ['when.min_risk_score']],
      [{ name: 'x', when: { min_severity: 'huge' }, then: { targets: ['a'] } }, ['when.min_severity']],
      [{ name: 'x', when: { event_types: ['nope'] }, then: { targets: ['a'] } }, ['when.event_types[0]']],
      [{ name: 'x', when: { colour: 'red' }, then: { targets: ['a'] } }, ['when']],
      [{ name: 'x', then: { targets: ['a'], correlate_by: ['nope'] } }, ['then.correlate_by[0]']],
      [{ name: 'x', then: { targets: ['a'], auto_resolve_after: 'soon' } }, ['then.auto_resolve_after']],
      [{ name: 'x', then: { targets: ['a'], labels: ['has space'] } }, ['then.labels[0]']],
      [{ name: 'x', then: { targets: ['a'], project_key: 'sec' } }, ['then.project_key']],
      [{ id: 'Bad Id', name: 'x', then: { targets: ['a'] } }, ['id']],
      [{ name: '', stop: 'yes', then: { targets: ['a'] } }, ['name', 'stop']],
    ];
    for (const [body, paths] of cases) {
      const err = await json<ErrorBody>(await post('/v1/rules', body), 400);
      expect(err.error.code, JSON.stringify(body)).toBe('validation_failed');
      expect(err.error.details!.map((d) => d.path).sort(), JSON.stringify(body)).toEqual(paths);
    }
    expect(await countRows('rules')).toBe(0);
  });

  it('warns about targets that are unknown or not ITSM connectors, but stores the rule', async () => {
    await json(
      await post('/v1/connectors', {
        id: 'splunk-1',
        name: 'Splunk',
        kind: 'splunk',
        config: { hec_url: 'http://127.0.0.1:9', hec_token: 'hec' },
      }),
      201,
    );
    const rule = await json<PublicRule>(
      await post('/v1/rules', {
        id: 'warned',
        name: 'Warned',
        then: { targets: [ids.security, 'jira-later', 'splunk-1'] },
      }),
      201,
    );
    expect(rule.warnings).toEqual([
      'then.targets[1]: no connector with id jira-later (yet); the rule skips it until one exists',
      'then.targets[2]: splunk-1 (Splunk) is a splunk connector, not an ITSM connector (jira, servicenow)',
    ]);
    expect((await json<PublicRule>(await stack.api('/v1/rules/warned'), 200)).warnings).toHaveLength(2);
    const fixed = await json<PublicRule>(
      await patch('/v1/rules/warned', { then: { targets: [ids.security] } }),
      200,
    );
    expect(fixed.warnings).toEqual([]);
    const notifying = await json<PublicRule>(
      await patch('/v1/rules/warned', {
        then: { targets: [ids.security], notify: ['splunk-1', 'slack-later'] },
      }),
      200,
    );
    expect(notifying.warnings).toEqual([
      'then.notify[0]: splunk-1 (Splunk) is a splunk connector, not a notification connector (slack, teams, webhook)',
      'then.notify[1]: no connector with id slack-later (yet); the rule skips it until one exists',
    ]);
    expect((await del('/v1/rules/warned')).status).toBe(204);
    expect((await del('/v1/connectors/splunk-1')).status).toBe(204);
  });

  it('dry-run names the notification connectors told of the event, and the rule that named one', async () => {
    await json(
      await post('/v1/connectors', {
        id: 'slack-dry',
        name: 'Slack (dry run)',
        kind: 'slack',
        config: { webhook_url: 'https://hooks.slack.com/services/T0/B0/dryrun000000' },
        filters: { event_types: ['lockout'] },
      }),
      201,
    );
    await json(
      await post('/v1/rules', {
        id: 'tell-slack',
        name: 'Blocked prompts to Slack',
        order: -100,
        when: { policy_actions: ['block'] },
        then: { targets: [ids.security], notify: ['slack-dry'] },
      }),
      201,
    );
    try {
      const d = await dryRun(riskEvent(0.5, 'block'));
      expect(d.notify).toEqual([
        { connector_id: 'slack-dry', notify_on: ['ticket_created', 'sla_breached', 'delivery_failed'] },
      ]);
      expect(decision(d, 'slack-dry')).toMatchObject({ action: 'notify' });
      expect(explanation(d, 'tell-slack').notify).toEqual([
        { connector_id: 'slack-dry', outcome: 'notified', detail: 'Slack (dry run) is told of this event' },
      ]);
      const quiet = await dryRun(riskEvent(0.5, 'coach'));
      expect(quiet.notify).toEqual([]);
      expect(decision(quiet, 'slack-dry')).toMatchObject({ action: 'skip' });
    } finally {
      expect((await del('/v1/rules/tell-slack')).status).toBe(204);
      expect((await del('/v1/connectors/slack-dry')).status).toBe(204);
    }
  });

  it('is admin-only and shows up in the OpenAPI document', async () => {
    expect((await stack.api('/v1/rules', { key: INGEST_KEY })).status).toBe(403);
    expect((await stack.api('/v1/rules', { key: null })).status).toBe(401);
    const doc = await json<{ paths: Record<string, unknown> }>(await stack.api('/openapi.json'), 200);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/rules',
        '/v1/rules/{id}',
        '/v1/rules/dry-run',
        '/v1/audit',
        '/v1/violations:batch',
      ]),
    );
  });
});

describe('dry-run with the seeds’ rules', () => {
  it('declared by API: explains every rule, the fallback, and has no side effects', async () => {
    for (const rule of seedRules()) {
      const created = await json<PublicRule>(await post('/v1/rules', rule), 201);
      expect(created.warnings).toEqual([]);
    }
    const before = await Promise.all(['violations', 'deliveries', 'tickets', 'audit_entries'].map(countRows));
    await expectSeedDryRuns();
    expect(
      await Promise.all(['violations', 'deliveries', 'tickets', 'audit_entries'].map(countRows)),
    ).toEqual(before);
    // No workflow either.
    const event = riskEvent(0.99, 'block');
    await dryRun(event);
    await expect(
      stack.client.workflow.getHandle(violationWorkflowId(event.event_id as string)).describe(),
    ).rejects.toThrow();
    expect([security, ciso, finance, fallback].map((f) => f.issues.size)).toEqual([0, 0, 0, 0]);
  });

  it('validates the event like POST /v1/violations, defaulting occurred_at', async () => {
    const err = await json<ErrorBody>(
      await post('/v1/rules/dry-run', { event: { event_id: 'x', event_type: 'nope' } }),
      400,
    );
    expect(err.error.details!.map((d) => d.path).sort()).toEqual(
      ['event.event_id', 'event.event_type', 'event.severity', 'event.summary'].sort(),
    );
    expect((await json<ErrorBody>(await post('/v1/rules/dry-run', {}), 400)).error.details![0]!.path).toBe(
      'event',
    );
    const noTime = await dryRun(riskEvent(0.5, 'allow', [], { occurred_at: undefined }));
    expect(noTime.severity).toBe('medium');
  });

  it('a stop rule ends evaluation and a disabled rule is skipped', async () => {
    await json(
      await post('/v1/rules', {
        id: 'stop-all-blocks',
        name: 'Blocks stop here',
        order: 1,
        when: { policy_actions: ['BLOCK'] },
        then: { targets: [ids.finance], priority: 'low' },
        stop: true,
      }),
      201,
    );
    await json(await patch('/v1/rules/coach-auto-resolve', { enabled: false }), 200);
    const d = await dryRun(riskEvent(0.97, 'block', ['CREDIT_CARD']));
    expect(d.tickets.map((t) => [t.connector_id, t.rule_id, t.priority])).toEqual([
      [ids.finance, 'stop-all-blocks', 'low'],
    ]);
    expect(explanation(d, 'stop-all-blocks')).toMatchObject({ status: 'matched', stopped: true });
    expect(explanation(d, 'ciso-critical')).toMatchObject({
      status: 'not_evaluated',
      conditions: [],
      summary: "not evaluated: rule 'Blocks stop here' matched with stop",
    });
    expect(explanation(d, 'coach-auto-resolve').status).toBe('not_evaluated');
    const coached = await dryRun(riskEvent(0.3, 'coach'));
    expect(explanation(coached, 'coach-auto-resolve')).toMatchObject({
      status: 'disabled',
      summary: 'skipped: rule disabled',
    });
    expect(coached.tickets).toEqual([]);
    await json(await patch('/v1/rules/coach-auto-resolve', { enabled: true }), 200);
    expect((await del('/v1/rules/stop-all-blocks')).status).toBe(204);
  });

  it('end to end: a violation the CISO rule matches becomes a Highest ticket in the CISO’s Jira', async () => {
    const event = riskEvent(0.97, 'redact', ['EMAIL'], { summary: 'prompt with secrets' });
    const plan = await dryRun(event);
    expect(plan.tickets.map((t) => t.connector_id)).toEqual([ids.ciso]);

    expect((await post('/v1/violations', event)).status).toBe(202);
    type View = {
      status: string;
      severity: string;
      decisions: { connector_id: string; action: string; reason: string }[];
      tickets: { connector_id: string; external_id: string | null; priority: string }[];
    };
    const v = await eventually(
      async () => {
        const body = await json<View>(await stack.api(`/v1/violations/${event.event_id}`), 200);
        return body.status !== 'processing' ? body : undefined;
      },
      45_000,
      'the violation to finish',
    );
    expect(v.status).toBe('completed');
    expect(v.severity).toBe('critical');
    expect(v.tickets).toEqual([expect.objectContaining({ connector_id: ids.ciso, priority: 'critical' })]);
    const issue = ciso.issues.get(v.tickets[0]!.external_id!)!;
    expect(issue.fields.priority).toEqual({ name: 'Highest' });
    expect([security, finance, fallback].map((f) => f.issues.size)).toEqual([0, 0, 0]);
    const cisoDecision = v.decisions.find((d) => d.connector_id === ids.ciso)!;
    expect(cisoDecision).toMatchObject({ action: 'ticket' });
    expect(cisoDecision.reason).toContain("rule 'Risk ≥ 0.95 to the CISO' matched");
    expect(v.decisions.find((d) => d.connector_id === ids.fallback)).toMatchObject({ action: 'skip' });
  });

  it('declared in ESCALATE_CONFIG: same rules, same answers; applied idempotently and audited', async () => {
    for (const rule of seedRules()) expect((await del(`/v1/rules/${rule.id}`)).status).toBe(204);
    expect((await json<{ items: unknown[] }>(await stack.api('/v1/rules'), 200)).items).toEqual([]);

    const file = parseConfigFile(seedYaml());
    expect(file.rules.map((r) => r.id)).toEqual(seedRules().map((r) => r.id));
    await applyConfigFile(stack.database.db, stack.box, file);
    const first = await json<{ items: PublicRule[] }>(await stack.api('/v1/rules'), 200);
    await applyConfigFile(stack.database.db, stack.box, file);
    const second = await json<{ items: PublicRule[] }>(await stack.api('/v1/rules'), 200);
    expect(second.items).toEqual(first.items); // updated_at untouched: nothing changed
    expect(first.items.map((r) => [r.id, r.origin])).toEqual(seedRules().map((r) => [r.id, 'config']));
    for (const [i, rule] of seedRules().entries()) {
      const { id: _id, ...body } = rule;
      expect(first.items[i]).toMatchObject(body);
    }
    await expectSeedDryRuns();

    const created = await json<{ items: { actor: string; subject_id: string }[] }>(
      await stack.api('/v1/audit?action=rule.created&actor=config'),
      200,
    );
    expect(created.items.map((e) => e.subject_id).sort()).toEqual(
      seedRules()
        .map((r) => r.id)
        .sort(),
    );

    // Changing the file updates the rule in place (audited once), and only that rule.
    const changed = parseConfigFile(seedYaml().replace('order: 40', 'order: 41'));
    await applyConfigFile(stack.database.db, stack.box, changed);
    await applyConfigFile(stack.database.db, stack.box, changed);
    const updates = await json<{ items: { subject_id: string }[] }>(
      await stack.api('/v1/audit?action=rule.updated&actor=config'),
      200,
    );
    expect(updates.items.map((e) => e.subject_id)).toEqual(['coach-auto-resolve']);
    const coach = await json<PublicRule>(await stack.api('/v1/rules/coach-auto-resolve'), 200);
    expect(coach.order).toBe(41);

    // A rule removed from the file is deleted (audited); a rule made through the API stays.
    const apiRule = await stack.api('/v1/rules', {
      method: 'POST',
      json: {
        id: 'api-made',
        name: 'made through the API',
        order: 99,
        when: {},
        then: { targets: [ids.security] },
      },
    });
    expect(apiRule.status, await apiRule.clone().text()).toBe(201);
    const trimmed = seedYaml().replace(/\n {2}- id: coach-auto-resolve[\s\S]*$/, '\n');
    expect(trimmed).not.toContain('coach-auto-resolve');
    await applyConfigFile(stack.database.db, stack.box, parseConfigFile(trimmed));
    expect((await stack.api('/v1/rules/coach-auto-resolve')).status).toBe(404);
    expect((await stack.api('/v1/rules/api-made')).status).toBe(200);
    expect((await stack.api('/v1/rules/finance-pii')).status).toBe(200);
    const deleted = await json<{ items: { subject_id: string }[] }>(
      await stack.api('/v1/audit?action=rule.deleted&actor=config'),
      200,
    );
    expect(deleted.items.map((e) => e.subject_id)).toEqual(['coach-auto-resolve']);
    expect((await del('/v1/rules/api-made')).status).toBe(204);
    // Restore the seed rules for the tests after this one.
    await applyConfigFile(stack.database.db, stack.box, parseConfigFile(seedYaml()));
  });

  it('YAML rule errors name rules[i].field; ids are required and unique', () => {
    const bad = (yaml: string) => () => parseConfigFile(yaml, {});
    expect(bad('rules:\n  - name: x\n    then: { targets: [a] }\n')).toThrow(
      /rules\[0\]\.id: id is required/,
    );
    expect(bad('rules:\n  - id: a\n    name: x\n    then: { targets: [] }\n')).toThrow(
      /rules\[0\]\.then\.targets: /,
    );
    expect(
      bad(
        'rules:\n  - id: a\n    name: x\n    then: { targets: [a] }\n' +
          '  - id: b\n    name: y\n    when: { min_risk_score: 2 }\n    then: { targets: [a] }\n',
      ),
    ).toThrow(/rules\[1\]\.when\.min_risk_score: /);
    expect(
      bad('rules:\n  - id: a\n    name: x\n    then: { targets: [a], correlate_by: [event_type, nope] }\n'),
    ).toThrow(/rules\[0\]\.then\.correlate_by\[1\]: unknown field path/);
    expect(
      bad(
        'rules:\n  - id: a\n    name: x\n    then: { targets: [a] }\n  - id: a\n    name: y\n    then: { targets: [a] }\n',
      ),
    ).toThrow(/rules\[1\]\.id: a is also the id of rules\[0\]/);
    expect(
      bad(
        'rules:\n  - id: a\n    name: x\n    then: { targets: [a] }\n  - id: b\n    name: x\n    then: { targets: [a] }\n',
      ),
    ).toThrow(/rules\[1\]\.name: "x" is also the name of rules\[0\]/);
    expect(bad('rules:\n  - id: Not OK\n    name: x\n    then: { targets: [a] }\n')).toThrow(
      /rules\[0\]\.id: ids are/,
    );
  });

  it('a YAML rule whose name another rule already has is refused with its path', async () => {
    await json(
      await post('/v1/rules', { id: 'api-owned', name: 'Owned by the API', then: { targets: [ids.ciso] } }),
      201,
    );
    const file = parseConfigFile(
      `rules:\n  - id: yaml-owned\n    name: Owned by the API\n    then: { targets: [${ids.ciso}] }\n`,
    );
    await expect(applyConfigFile(stack.database.db, stack.box, file)).rejects.toThrow(
      /rules\[0\]\.name: a rule named "Owned by the API" with another id exists/,
    );
    // Refused as a whole: the declared rules it would have retired are all still there.
    expect((await stack.api('/v1/rules/ciso-critical')).status).toBe(200);
    expect((await del('/v1/rules/api-owned')).status).toBe(204);
  });
});
