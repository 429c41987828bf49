// biome-ignore-all lint/suspicious/noThenProperty: rules have a `then` field; it is a plain object.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CORRELATABLE_FIELDS, correlationKey } from '../../domain/correlation.js';
import { type CompactEvent, EVENT_TYPES } from '../../domain/event.js';
import { evaluateRules, type RuleConnector } from '../../domain/rule-evaluation.js';
import { type Rule, type RuleInput, rulePatchSchema, ruleSchema } from '../../domain/rule-schema.js';
import { SEVERITIES } from '../../domain/severity.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

const event = (over: Partial<CompactEvent> = {}): CompactEvent => ({
  event_id: '6f1d3c1e-1b7a-4a43-9a51-3c3f0d1e2a10',
  event_type: 'policy_violation',
  severity: 'high',
  occurred_at: '2026-03-20T14:32:00Z',
  summary: 'High-risk interaction blocked',
  ...over,
});

let nextId = 0;
const rule = (input: RuleInput, id = `r${++nextId}`): Rule => ({ ...ruleSchema.parse(input), id });

const SECURITY = 'jira-security';
const CISO = 'snow-ciso';
const FINANCE = 'jira-finance';
const DEFAULT_A = 'jira-default';
const OFF = 'jira-off';
const SPLUNK = 'splunk-main';

const connectors: RuleConnector[] = [
  { id: SECURITY, name: 'Security team', kind: 'jira', enabled: true, auto_push: false },
  { id: CISO, name: 'CISO', kind: 'servicenow', enabled: true, auto_push: false },
  { id: FINANCE, name: 'Finance security', kind: 'jira', enabled: true, auto_push: false },
  { id: DEFAULT_A, name: 'Default Jira', kind: 'jira', enabled: true, auto_push: true },
  { id: OFF, name: 'Disabled Jira', kind: 'jira', enabled: false, auto_push: true },
  { id: SPLUNK, name: 'Splunk', kind: 'splunk', enabled: true, auto_push: true },
];
const settings = { auto_push: { min_severity: 'critical' as const } };

const ids = (e: { targets: { connectorId: string }[] }) => e.targets.map((t) => t.connectorId);
const decisionFor = (e: ReturnType<typeof evaluateRules>, id: string) =>
  e.decisions.find((d) => d.connector_id === id);

// ---------------------------------------------------------------------------------------------
// Schemas

describe('ruleSchema', () => {
  it('applies defaults', () => {
    const r = ruleSchema.parse({ name: 'x', then: { targets: [SECURITY] } });
    expect(r).toEqual({
      name: 'x',
      enabled: true,
      order: 0,
      when: {},
      then: { targets: [SECURITY] },
      stop: false,
    });
  });

  it('accepts every documented field', () => {
    const r = ruleSchema.parse({
      name: 'full',
      enabled: false,
      order: 3,
      when: {
        event_types: ['policy_violation', 'anomaly'],
        min_severity: 'high',
        min_risk_score: 0.8,
        policy_actions: ['block'],
        classifications: ['IBAN'],
        platform_ids: ['chatgpt'],
        tags: { team: 'payments' },
      },
      then: {
        targets: [SECURITY, CISO],
        priority: 'critical',
        assignee: 'alice',
        assignment_group: 'SOC',
        project_key: 'SEC',
        issue_type: 'Bug',
        labels: ['ai-security'],
        auto_resolve_after: '24h',
        sla: 3_600_000,
        correlate_by: ['policy.id', 'tags.team', 'classifications'],
        reopen_within: '7d',
      },
      stop: true,
    });
    expect(r.then.sla).toBe(3_600_000);
    expect(r.when.tags).toEqual({ team: 'payments' });
  });

  const invalid: [string, unknown, string][] = [
    ['unknown top-level key', { name: 'x', then: { targets: ['a'] }, bogus: 1 }, ''],
    ['unknown when key', { name: 'x', when: { severity: 'high' }, then: { targets: ['a'] } }, 'when'],
    ['unknown then key', { name: 'x', then: { targets: ['a'], prio: 'high' } }, 'then'],
    ['empty name', { name: '', then: { targets: ['a'] } }, 'name'],
    ['long name', { name: 'n'.repeat(201), then: { targets: ['a'] } }, 'name'],
    ['missing then', { name: 'x' }, 'then'],
    ['no targets', { name: 'x', then: { targets: [] } }, 'then.targets'],
    ['repeated target', { name: 'x', then: { targets: ['a', 'a'] } }, 'then.targets'],
    ['fractional order', { name: 'x', order: 1.5, then: { targets: ['a'] } }, 'order'],
    [
      'bad event type',
      { name: 'x', when: { event_types: ['nope'] }, then: { targets: ['a'] } },
      'when.event_types.0',
    ],
    [
      'bad severity',
      { name: 'x', when: { min_severity: 'urgent' }, then: { targets: ['a'] } },
      'when.min_severity',
    ],
    [
      'risk > 1',
      { name: 'x', when: { min_risk_score: 1.2 }, then: { targets: ['a'] } },
      'when.min_risk_score',
    ],
    [
      'empty any-of',
      { name: 'x', when: { policy_actions: [] }, then: { targets: ['a'] } },
      'when.policy_actions',
    ],
    ['empty tags', { name: 'x', when: { tags: {} }, then: { targets: ['a'] } }, 'when.tags'],
    ['bad priority', { name: 'x', then: { targets: ['a'], priority: 'P1' } }, 'then.priority'],
    [
      'bad duration',
      { name: 'x', then: { targets: ['a'], auto_resolve_after: '1 day' } },
      'then.auto_resolve_after',
    ],
    ['bad sla', { name: 'x', then: { targets: ['a'], sla: -5 } }, 'then.sla'],
    [
      'bad correlate path',
      { name: 'x', then: { targets: ['a'], correlate_by: ['details.x'] } },
      'then.correlate_by.0',
    ],
    [
      'bare tags path',
      { name: 'x', then: { targets: ['a'], correlate_by: ['tags.'] } },
      'then.correlate_by.0',
    ],
    ['bad project key', { name: 'x', then: { targets: ['a'], project_key: 'sec' } }, 'then.project_key'],
    ['label with space', { name: 'x', then: { targets: ['a'], labels: ['a b'] } }, 'then.labels.0'],
  ];
  it.each(invalid)('rejects %s and names the field', (_label, input, path) => {
    const result = ruleSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('accepts every correlatable field and any tags.<key>', () => {
    for (const f of [...CORRELATABLE_FIELDS, 'tags.team', 'tags.app.name']) {
      expect(ruleSchema.safeParse({ name: 'x', then: { targets: ['a'], correlate_by: [f] } }).success).toBe(
        true,
      );
    }
  });
});

describe('rulePatchSchema', () => {
  it('accepts a partial patch without injecting defaults', () => {
    expect(rulePatchSchema.parse({ enabled: false })).toEqual({ enabled: false });
    expect(rulePatchSchema.parse({ when: { min_severity: 'low' } })).toEqual({
      when: { min_severity: 'low' },
    });
  });
  it('rejects an empty patch, unknown keys and invalid values', () => {
    expect(rulePatchSchema.safeParse({}).success).toBe(false);
    expect(rulePatchSchema.safeParse({ colour: 'red' }).success).toBe(false);
    const bad = rulePatchSchema.safeParse({ then: { targets: [] } });
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toContain('then.targets');
  });
});

// ---------------------------------------------------------------------------------------------
// Conditions

describe('conditions', () => {
  type Row = [string, RuleInput['when'], Partial<CompactEvent>, boolean, string];
  const rows: Row[] = [
    [
      'event_types hit',
      { event_types: ['anomaly', 'lockout'] },
      { event_type: 'lockout' },
      true,
      'event_types [anomaly, lockout]: event is lockout ✓',
    ],
    [
      'event_types miss',
      { event_types: ['anomaly'] },
      { event_type: 'budget_alert' },
      false,
      'event_types [anomaly]: event is budget_alert ✗',
    ],
    [
      'min_severity above',
      { min_severity: 'high' },
      { severity: 'critical' },
      true,
      'min_severity high: event is critical ✓',
    ],
    [
      'min_severity equal',
      { min_severity: 'high' },
      { severity: 'high' },
      true,
      'min_severity high: event is high ✓',
    ],
    [
      'min_severity below',
      { min_severity: 'high' },
      { severity: 'medium' },
      false,
      'min_severity high: event is medium ✗',
    ],
    [
      'min_risk_score equal',
      { min_risk_score: 0.8 },
      { risk_score: 0.8 },
      true,
      'min_risk_score 0.8: event risk 0.8 ✓',
    ],
    [
      'min_risk_score below',
      { min_risk_score: 0.8 },
      { risk_score: 0.79 },
      false,
      'min_risk_score 0.8: event risk 0.79 ✗',
    ],
    [
      'min_risk_score no risk',
      { min_risk_score: 0 },
      {},
      false,
      'min_risk_score 0: event has no risk_score ✗',
    ],
    [
      'policy_actions hit',
      { policy_actions: ['block'] },
      { policy: { action: 'block' } },
      true,
      'policy_actions [block]: event action block ✓',
    ],
    [
      'policy_actions case',
      { policy_actions: ['BLOCK'] },
      { policy: { action: 'block' } },
      true,
      'policy_actions [BLOCK]: event action block ✓',
    ],
    [
      'policy_actions miss',
      { policy_actions: ['block'] },
      { policy: { action: 'coach' } },
      false,
      'policy_actions [block]: event action coach ✗',
    ],
    [
      'policy_actions none',
      { policy_actions: ['block'] },
      { policy: { id: 'p1' } },
      false,
      'policy_actions [block]: event has no policy action ✗',
    ],
    [
      'classifications any-of',
      { classifications: ['CREDIT_CARD', 'IBAN'] },
      { classifications: [{ type: 'EMAIL' }, { type: 'iban', confidence: 0.9 }] },
      true,
      'classifications [CREDIT_CARD, IBAN]: event has [EMAIL, iban] (matched [iban]) ✓',
    ],
    [
      'classifications miss',
      { classifications: ['IBAN'] },
      { classifications: [{ type: 'EMAIL' }] },
      false,
      'classifications [IBAN]: event has [EMAIL] ✗',
    ],
    [
      'classifications none',
      { classifications: ['IBAN'] },
      {},
      false,
      'classifications [IBAN]: event has no classifications ✗',
    ],
    [
      'platform_ids hit',
      { platform_ids: ['chatgpt', 'claude'] },
      { platform_id: 'claude' },
      true,
      'platform_ids [chatgpt, claude]: event platform claude ✓',
    ],
    [
      'platform_ids miss',
      { platform_ids: ['chatgpt'] },
      { platform_id: 'gemini' },
      false,
      'platform_ids [chatgpt]: event platform gemini ✗',
    ],
    [
      'platform_ids none',
      { platform_ids: ['chatgpt'] },
      {},
      false,
      'platform_ids [chatgpt]: event has no platform_id ✗',
    ],
    [
      'tags all equal',
      { tags: { team: 'pay', env: 'prod' } },
      { tags: { team: 'pay', env: 'prod', x: 'y' } },
      true,
      'tags {team="pay", env="prod"}: team="pay" ✓, env="prod" ✓',
    ],
    [
      'tags one differs',
      { tags: { team: 'pay', env: 'prod' } },
      { tags: { team: 'pay', env: 'dev' } },
      false,
      'tags {team="pay", env="prod"}: team="pay" ✓, env is "dev" ✗',
    ],
    ['tags missing', { tags: { team: 'pay' } }, {}, false, 'tags {team="pay"}: team missing ✗'],
    [
      'tags inherited key',
      { tags: { toString: 'x' } },
      { tags: {} },
      false,
      'tags {toString="x"}: toString missing ✗',
    ],
    ['no conditions', {}, {}, true, 'no conditions: matches every event ✓'],
  ];

  it.each(rows)('%s', (_label, when, over, matched, detail) => {
    const r = rule({ name: 'r', when, then: { targets: [SECURITY] } });
    const e = evaluateRules(event(over), [r], connectors, settings);
    const [explanation] = e.explanations;
    expect(explanation!.status).toBe(matched ? 'matched' : 'not_matched');
    expect(explanation!.conditions).toHaveLength(1);
    expect(explanation!.conditions[0]).toMatchObject({ matched, detail });
    expect(ids(e).includes(SECURITY)).toBe(matched);
  });

  it('requires every given condition (AND) and reports each one', () => {
    const r = rule({
      name: 'all',
      when: { event_types: ['policy_violation'], min_severity: 'high', policy_actions: ['block'] },
      then: { targets: [SECURITY] },
    });
    const e = evaluateRules(
      event({ severity: 'critical', policy: { action: 'coach' } }),
      [r],
      connectors,
      settings,
    );
    const [x] = e.explanations;
    expect(x!.status).toBe('not_matched');
    expect(x!.conditions.map((c) => [c.condition, c.matched])).toEqual([
      ['event_types', true],
      ['min_severity', true],
      ['policy_actions', false],
    ]);
    expect(x!.summary).toBe('not matched: policy_actions failed');
  });
});

// ---------------------------------------------------------------------------------------------
// Evaluation

describe('evaluateRules', () => {
  it('sorts by order then name, whatever the input order', () => {
    const a = rule({ name: 'b-second', order: 1, then: { targets: [SECURITY] } });
    const b = rule({ name: 'a-first', order: 1, then: { targets: [SECURITY] } });
    const c = rule({ name: 'z-zero', order: 0, then: { targets: [CISO] } });
    const e = evaluateRules(event(), [a, b, c], connectors, settings);
    expect(e.explanations.map((x) => x.ruleName)).toEqual(['z-zero', 'a-first', 'b-second']);
    expect(e.targets.find((t) => t.connectorId === SECURITY)!.spec.ruleName).toBe('a-first');
  });

  it('first matching rule per target wins; later rules still add unclaimed targets', () => {
    const first = rule({ name: 'first', order: 1, then: { targets: [SECURITY], priority: 'high' } });
    const skipped = rule({
      name: 'no-match',
      order: 2,
      when: { min_severity: 'critical' },
      then: { targets: [FINANCE] },
    });
    const second = rule({
      name: 'second',
      order: 3,
      then: { targets: [SECURITY, CISO], priority: 'critical' },
    });
    const e = evaluateRules(event({ severity: 'high' }), [second, skipped, first], connectors, settings);
    expect(e.targets.map((t) => [t.connectorId, t.spec.ruleName, t.priority])).toEqual([
      [SECURITY, 'first', 'high'],
      [CISO, 'second', 'critical'],
    ]);
    const secondX = e.explanations.find((x) => x.ruleName === 'second')!;
    expect(secondX.targets).toEqual([
      {
        connectorId: SECURITY,
        outcome: 'already_claimed',
        detail: "Security team already claimed by earlier rule 'first'",
      },
      { connectorId: CISO, outcome: 'claimed', detail: 'CISO: ticket with priority critical' },
    ]);
    expect(secondX.summary).toBe('matched: 1 of 2 target(s) claimed');
    expect(decisionFor(e, SECURITY)!.reason).toBe("rule 'first' matched: ticket with priority high");
    expect(decisionFor(e, FINANCE)).toMatchObject({ action: 'skip' });
  });

  it('stop on a matching rule ends evaluation', () => {
    const stopper = rule({ name: 'stopper', order: 1, then: { targets: [SECURITY] }, stop: true });
    const later = rule({ name: 'later', order: 2, then: { targets: [CISO] } });
    const e = evaluateRules(event(), [later, stopper], connectors, settings);
    expect(ids(e)).toEqual([SECURITY]);
    expect(e.explanations.map((x) => [x.ruleName, x.status, x.stopped])).toEqual([
      ['stopper', 'matched', true],
      ['later', 'not_evaluated', false],
    ]);
    expect(e.explanations[0]!.summary).toBe(
      'matched: 1 of 1 target(s) claimed; stop: later rules not evaluated',
    );
    expect(e.explanations[1]!.summary).toBe("not evaluated: rule 'stopper' matched with stop");
  });

  it('stop on a rule that does not match changes nothing', () => {
    const stopper = rule({
      name: 'stopper',
      order: 1,
      when: { min_severity: 'critical' },
      then: { targets: [SECURITY] },
      stop: true,
    });
    const later = rule({ name: 'later', order: 2, then: { targets: [CISO] } });
    const e = evaluateRules(event({ severity: 'high' }), [stopper, later], connectors, settings);
    expect(ids(e)).toEqual([CISO]);
  });

  it('skips disabled rules and explains why', () => {
    const off = rule({ name: 'off', enabled: false, order: 0, then: { targets: [SECURITY] }, stop: true });
    const on = rule({ name: 'on', order: 1, then: { targets: [CISO] } });
    const e = evaluateRules(event(), [off, on], connectors, settings);
    expect(ids(e)).toEqual([CISO]);
    expect(e.explanations[0]).toMatchObject({
      ruleName: 'off',
      status: 'disabled',
      conditions: [],
      summary: 'skipped: rule disabled',
    });
  });

  it('reports unknown, non-ITSM and disabled targets instead of failing', () => {
    const r = rule({ name: 'odd targets', then: { targets: ['ghost', SPLUNK, OFF, SECURITY] } });
    const e = evaluateRules(event(), [r], connectors, settings);
    expect(ids(e)).toEqual([SECURITY]);
    expect(e.explanations[0]!.targets.map((t) => [t.connectorId, t.outcome])).toEqual([
      ['ghost', 'unknown_connector'],
      [SPLUNK, 'not_itsm'],
      [OFF, 'connector_disabled'],
      [SECURITY, 'claimed'],
    ]);
    expect(e.explanations[0]!.targets[0]!.detail).toBe('no connector with id ghost');
    expect(decisionFor(e, OFF)).toMatchObject({
      action: 'skip',
      reason: "connector disabled (targeted by rule 'odd targets')",
    });
    // SIEM connectors get no ITSM decision here: their routing is separate.
    expect(decisionFor(e, SPLUNK)).toBeUndefined();
  });

  it('builds the target from the rule', () => {
    const r = rule({
      name: 'full',
      then: {
        targets: [SECURITY],
        priority: 'medium',
        assignee: 'alice',
        assignment_group: 'SOC',
        project_key: 'SEC',
        issue_type: 'Bug',
        labels: ['pii'],
        auto_resolve_after: '24h',
        sla: '4h',
        correlate_by: ['tags.team'],
        reopen_within: 60_000,
      },
    });
    const ev = event({ severity: 'critical' });
    const [t] = evaluateRules(ev, [r], connectors, settings).targets;
    expect(t).toEqual({
      connectorId: SECURITY,
      priority: 'medium',
      spec: {
        ruleId: r.id,
        ruleName: 'full',
        assignee: 'alice',
        assignmentGroup: 'SOC',
        projectKey: 'SEC',
        issueType: 'Bug',
        labels: ['pii'],
        autoResolveAfterMs: 86_400_000,
        slaMs: 4 * 3_600_000,
        correlateBy: ['tags.team'],
        correlationKey: correlationKey(ev, ['tags.team']),
        reopenWithinMs: 60_000,
      },
    });
  });

  it("defaults the priority to the event's severity and the correlation to event_type + policy.id + user_email", () => {
    const r = rule({ name: 'plain', then: { targets: [SECURITY] } });
    const ev = event({ severity: 'low' });
    const [t] = evaluateRules(ev, [r], connectors, settings).targets;
    expect(t).toEqual({
      connectorId: SECURITY,
      priority: 'low',
      spec: {
        ruleId: r.id,
        ruleName: 'plain',
        labels: [],
        correlateBy: ['event_type', 'policy.id', 'user_email'],
        correlationKey: correlationKey(ev),
      },
    });
  });

  it('does not throw on a hand-built rule with an invalid duration; it explains it', () => {
    const r: Rule = { ...rule({ name: 'x', then: { targets: [SECURITY] } }) };
    r.then = { ...r.then, sla: 'soon' };
    const e = evaluateRules(event(), [r], connectors, settings);
    expect(e.targets[0]!.spec.slaMs).toBeUndefined();
    expect(e.explanations[0]!.summary).toContain('invalid duration(s) ignored: sla');
  });

  describe('default (auto_push) routing', () => {
    it('with no matching rule, defaults get events at or above auto_push.min_severity', () => {
      const never = rule({
        name: 'never',
        when: { event_types: ['lockout'] },
        then: { targets: [SECURITY] },
      });
      const ev = event({ severity: 'critical' });
      const e = evaluateRules(ev, [never], connectors, settings);
      expect(e.targets).toEqual([
        {
          connectorId: DEFAULT_A,
          priority: 'critical',
          spec: {
            labels: [],
            correlateBy: ['event_type', 'policy.id', 'user_email'],
            correlationKey: correlationKey(ev),
          },
        },
      ]);
      expect(decisionFor(e, DEFAULT_A)).toEqual({
        connector_id: DEFAULT_A,
        connector_name: 'Default Jira',
        action: 'ticket',
        reason: 'no rule matched; default connector: severity critical ≥ auto_push.min_severity critical',
      });
      expect(decisionFor(e, SECURITY)!.reason).toBe(
        'no rule matched and not a default connector (auto_push off)',
      );
      expect(decisionFor(e, OFF)!.reason).toBe('connector disabled');
    });

    it('below the threshold nothing is ticketed', () => {
      const e = evaluateRules(event({ severity: 'high' }), [], connectors, settings);
      expect(e.targets).toEqual([]);
      expect(decisionFor(e, DEFAULT_A)!.reason).toBe(
        'no rule matched; severity high below auto_push.min_severity critical',
      );
    });

    it('honours a configured threshold and defaults to critical without one', () => {
      expect(
        ids(
          evaluateRules(event({ severity: 'high' }), [], connectors, { auto_push: { min_severity: 'high' } }),
        ),
      ).toEqual([DEFAULT_A]);
      expect(ids(evaluateRules(event({ severity: 'high' }), [], connectors))).toEqual([]);
      expect(ids(evaluateRules(event({ severity: 'critical' }), [], connectors, {}))).toEqual([DEFAULT_A]);
    });

    it('does not apply when any rule matched, even if its targets are unusable', () => {
      const matched = rule({ name: 'ghostly', then: { targets: ['ghost'] } });
      const e = evaluateRules(event({ severity: 'critical' }), [matched], connectors, settings);
      expect(e.targets).toEqual([]);
      expect(decisionFor(e, DEFAULT_A)).toMatchObject({
        action: 'skip',
        reason:
          "not a target of the matching rule(s) 'ghostly'; default routing applies only without a match",
      });
    });

    it('a disabled rule does not count as a match', () => {
      const off = rule({ name: 'off', enabled: false, then: { targets: [SECURITY] } });
      expect(ids(evaluateRules(event({ severity: 'critical' }), [off], connectors, settings))).toEqual([
        DEFAULT_A,
      ]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The seeds' examples

describe("seeds' rule examples", () => {
  const seedRules = [
    rule({
      name: 'Blocked and risky → security team',
      order: 10,
      when: { policy_actions: ['BLOCK'], min_risk_score: 0.8 },
      then: { targets: [SECURITY], priority: 'high', assignee: 'security-team' },
    }),
    rule({
      name: 'Very high risk → CISO',
      order: 20,
      when: { min_risk_score: 0.95 },
      then: { targets: [CISO], priority: 'critical', assignment_group: 'CISO' },
    }),
    rule({
      name: 'Payment data → finance security',
      order: 30,
      when: { classifications: ['CREDIT_CARD', 'IBAN'] },
      then: { targets: [FINANCE], priority: 'critical', assignee: 'finance-security' },
    }),
    rule({
      name: 'Coaching → auto-resolve',
      order: 40,
      when: { policy_actions: ['coach'] },
      then: { targets: [SECURITY], auto_resolve_after: '24h' },
    }),
  ];
  const evaluate = (over: Partial<CompactEvent>) =>
    evaluateRules(event(over), seedRules, connectors, settings);
  const summary = (e: ReturnType<typeof evaluateRules>) =>
    e.targets.map((t) => ({ to: t.connectorId, priority: t.priority, rule: t.spec.ruleName }));

  it('(a) block + risk ≥ 0.8 → High to the security team', () => {
    const e = evaluate({ severity: 'high', risk_score: 0.85, policy: { id: 'p1', action: 'block' } });
    expect(summary(e)).toEqual([
      { to: SECURITY, priority: 'high', rule: 'Blocked and risky → security team' },
    ]);
    expect(e.targets[0]!.spec.assignee).toBe('security-team');
    // Not blocked, or not risky enough: no ticket from this rule.
    expect(ids(evaluate({ risk_score: 0.85, policy: { action: 'redact' } }))).toEqual([]);
    expect(ids(evaluate({ risk_score: 0.79, policy: { action: 'block' } }))).toEqual([]);
  });

  it('(b) risk ≥ 0.95 → Critical to the CISO (alongside the security team when blocked)', () => {
    expect(summary(evaluate({ risk_score: 0.96, policy: { action: 'allow' } }))).toEqual([
      { to: CISO, priority: 'critical', rule: 'Very high risk → CISO' },
    ]);
    expect(summary(evaluate({ risk_score: 0.97, policy: { action: 'block' } }))).toEqual([
      { to: SECURITY, priority: 'high', rule: 'Blocked and risky → security team' },
      { to: CISO, priority: 'critical', rule: 'Very high risk → CISO' },
    ]);
    expect(ids(evaluate({ risk_score: 0.94 }))).toEqual([]);
  });

  it('(c) classification CREDIT_CARD or IBAN → Critical to finance security', () => {
    for (const type of ['CREDIT_CARD', 'IBAN', 'iban']) {
      const e = evaluate({ severity: 'medium', classifications: [{ type: 'EMAIL' }, { type }] });
      expect(summary(e)).toEqual([
        { to: FINANCE, priority: 'critical', rule: 'Payment data → finance security' },
      ]);
    }
    expect(ids(evaluate({ classifications: [{ type: 'EMAIL' }] }))).toEqual([]);
  });

  it('(d) coach actions auto-resolve after 24 h', () => {
    const e = evaluate({ severity: 'low', policy: { id: 'p9', action: 'coach' } });
    expect(e.targets).toHaveLength(1);
    expect(e.targets[0]).toMatchObject({
      connectorId: SECURITY,
      priority: 'low',
      spec: { autoResolveAfterMs: 24 * 3_600_000 },
    });
  });

  it('explains, for a dry-run, why an event opens no ticket', () => {
    const e = evaluate({ severity: 'medium', risk_score: 0.6, policy: { action: 'block' } });
    expect(e.targets).toEqual([]);
    expect(e.explanations.map((x) => x.conditions.map((c) => c.detail))).toEqual([
      ['min_risk_score 0.8: event risk 0.6 ✗', 'policy_actions [BLOCK]: event action block ✓'],
      ['min_risk_score 0.95: event risk 0.6 ✗'],
      ['classifications [CREDIT_CARD, IBAN]: event has no classifications ✗'],
      ['policy_actions [coach]: event action block ✗'],
    ]);
    expect(decisionFor(e, DEFAULT_A)!.reason).toBe(
      'no rule matched; severity medium below auto_push.min_severity critical',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Correlation key

describe('correlationKey', () => {
  const e = event({
    policy: { id: 'p1', action: 'block' },
    user_email: 'Alice@Example.com',
    tags: { team: 'pay', 'app.name': 'x' },
  });

  it('defaults to event_type + policy.id + user_email', () => {
    expect(correlationKey(e, ['event_type', 'policy.id', 'user_email'])).toBe(
      'event_type=policy_violation|policy.id=p1|user_email=alice@example.com',
    );
    expect(correlationKey(e)).toBe(correlationKey(e, []));
  });

  it('leaves missing fields empty and reads tags and classifications', () => {
    expect(correlationKey(event(), ['platform_id', 'tags.team'])).toBe('platform_id=|tags.team=');
    expect(correlationKey(e, ['tags.app.name', 'tags.team'])).toBe('tags.app.name=x|tags.team=pay');
    const c = event({ classifications: [{ type: 'iban' }, { type: 'EMAIL' }, { type: 'IBAN' }] });
    expect(correlationKey(c, ['classifications'])).toBe('classifications=EMAIL,IBAN');
  });

  it('does not depend on field order or repetition', () => {
    expect(correlationKey(e, ['user_email', 'policy.id', 'event_type', 'policy.id'])).toBe(
      correlationKey(e, ['event_type', 'policy.id', 'user_email']),
    );
  });

  it('escapes separators so distinct values never collide', () => {
    const a = event({ tags: { a: 'x|tags.b=y', b: '' } });
    const b = event({ tags: { a: 'x', b: 'y' } });
    expect(correlationKey(a, ['tags.a', 'tags.b'])).not.toBe(correlationKey(b, ['tags.a', 'tags.b']));
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

describe('properties', () => {
  const POOL: RuleConnector[] = [
    { id: 'j1', name: 'J1', kind: 'jira', enabled: true, auto_push: true },
    { id: 'j2', name: 'J2', kind: 'jira', enabled: true, auto_push: false },
    { id: 'j3', name: 'J3', kind: 'jira', enabled: false, auto_push: true },
    { id: 's1', name: 'S1', kind: 'servicenow', enabled: true, auto_push: true },
    { id: 's2', name: 'S2', kind: 'servicenow', enabled: false, auto_push: false },
    { id: 'sp', name: 'Splunk', kind: 'splunk', enabled: true, auto_push: true },
    { id: 'wh', name: 'Hook', kind: 'webhook', enabled: true, auto_push: false },
  ];
  const TARGET_IDS = [...POOL.map((c) => c.id), 'ghost'];
  const ACTIONS = ['block', 'coach', 'redact', 'allow', 'BLOCK'];
  const CLASSES = ['CREDIT_CARD', 'IBAN', 'EMAIL', 'iban'];
  const PLATFORMS = ['chatgpt', 'claude', 'gemini'];

  const severity = fc.constantFrom(...SEVERITIES);
  const tags = fc.dictionary(fc.constantFrom('team', 'env', 'app'), fc.constantFrom('a', 'b', ''), {
    maxKeys: 3,
  });

  const eventArb: fc.Arbitrary<CompactEvent> = fc.record(
    {
      event_id: fc.uuid(),
      event_type: fc.constantFrom(...EVENT_TYPES),
      severity,
      risk_score: fc.double({ min: 0, max: 1, noNaN: true }),
      occurred_at: fc.constant('2026-01-01T00:00:00Z'),
      summary: fc.string({ minLength: 1, maxLength: 20 }),
      user_email: fc.constantFrom('a@x.io', 'b@x.io'),
      platform_id: fc.constantFrom(...PLATFORMS),
      policy: fc.record(
        { id: fc.constantFrom('p1', 'p2'), action: fc.constantFrom(...ACTIONS) },
        { requiredKeys: [] },
      ),
      classifications: fc.array(fc.record({ type: fc.constantFrom(...CLASSES) }), { maxLength: 3 }),
      tags,
    },
    { requiredKeys: ['event_id', 'event_type', 'severity', 'occurred_at', 'summary'] },
  );

  const whenArb = fc.record(
    {
      event_types: fc.uniqueArray(fc.constantFrom(...EVENT_TYPES), { minLength: 1, maxLength: 3 }),
      min_severity: severity,
      min_risk_score: fc.double({ min: 0, max: 1, noNaN: true }),
      policy_actions: fc.uniqueArray(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 2 }),
      classifications: fc.uniqueArray(fc.constantFrom(...CLASSES), { minLength: 1, maxLength: 2 }),
      platform_ids: fc.uniqueArray(fc.constantFrom(...PLATFORMS), { minLength: 1, maxLength: 2 }),
      tags: fc.dictionary(fc.constantFrom('team', 'env'), fc.constantFrom('a', 'b', ''), {
        minKeys: 1,
        maxKeys: 2,
      }),
    },
    { requiredKeys: [] },
  );

  const rulesArb: fc.Arbitrary<Rule[]> = fc
    .array(
      fc.record({
        name: fc.constantFrom('alpha', 'beta', 'gamma', 'delta'),
        enabled: fc.boolean(),
        order: fc.integer({ min: -3, max: 3 }),
        when: whenArb,
        then: fc.record(
          {
            targets: fc.uniqueArray(fc.constantFrom(...TARGET_IDS), { minLength: 1, maxLength: 4 }),
            priority: severity,
            auto_resolve_after: fc.constantFrom('24h', 1000, '90m'),
            correlate_by: fc.constantFrom(['policy.id'], ['tags.team', 'user_email']),
          },
          { requiredKeys: ['targets'] },
        ),
        stop: fc.boolean(),
      }),
      { maxLength: 8 },
    )
    .map((inputs) => inputs.map((input, i) => ({ ...ruleSchema.parse(input), id: `rule-${i}` })));

  const settingsArb = fc.record({ auto_push: fc.record({ min_severity: severity }) });
  const itsmIds = new Set(POOL.filter((c) => c.kind === 'jira' || c.kind === 'servicenow').map((c) => c.id));
  const enabledItsm = new Set(POOL.filter((c) => itsmIds.has(c.id) && c.enabled).map((c) => c.id));

  it('never throws; targets are distinct enabled ITSM connectors; one decision per ITSM connector', () => {
    fc.assert(
      fc.property(eventArb, rulesArb, settingsArb, (ev, rules, st) => {
        const e = evaluateRules(ev, rules, POOL, st);
        for (const t of e.targets) expect(enabledItsm.has(t.connectorId)).toBe(true);
        expect(new Set(ids(e)).size).toBe(e.targets.length);
        expect(e.decisions.map((d) => d.connector_id)).toEqual([...itsmIds]);
        const ticketed = e.decisions.filter((d) => d.action === 'ticket').map((d) => d.connector_id);
        expect(new Set(ticketed)).toEqual(new Set(ids(e)));
        expect(e.explanations).toHaveLength(rules.length);
      }),
    );
  });

  it('every rule target comes from a matching rule that names it, and is the first such rule', () => {
    fc.assert(
      fc.property(eventArb, rulesArb, settingsArb, (ev, rules, st) => {
        const e = evaluateRules(ev, rules, POOL, st);
        const position = new Map(e.explanations.map((x, i) => [x.ruleId, i]));
        const matched = e.explanations.filter((x) => x.status === 'matched');
        for (const t of e.targets) {
          if (t.spec.ruleId === undefined) {
            expect(matched).toEqual([]);
            continue;
          }
          const namer = matched.filter((x) => x.targets.some((n) => n.connectorId === t.connectorId));
          expect(namer[0]!.ruleId).toBe(t.spec.ruleId);
          expect(position.get(t.spec.ruleId)).toBeDefined();
        }
      }),
    );
  });

  it('a matching rule with stop: later rules contribute nothing, as if they did not exist', () => {
    fc.assert(
      fc.property(eventArb, rulesArb, settingsArb, (ev, rules, st) => {
        const e = evaluateRules(ev, rules, POOL, st);
        const stopAt = e.explanations.findIndex((x) => x.stopped);
        if (stopAt < 0) return;
        const later = new Set(e.explanations.slice(stopAt + 1).map((x) => x.ruleId));
        for (const x of e.explanations.slice(stopAt + 1)) expect(x.status).toBe('not_evaluated');
        for (const t of e.targets) expect(later.has(t.spec.ruleId ?? '')).toBe(false);
        const without = evaluateRules(
          ev,
          rules.filter((r) => !later.has(r.id)),
          POOL,
          st,
        );
        expect(without.targets).toEqual(e.targets);
        expect(without.decisions).toEqual(e.decisions);
      }),
    );
  });

  it('is deterministic and independent of the input order of rules', () => {
    const rulesAndShuffle = rulesArb.chain((rules) =>
      fc.tuple(
        fc.constant(rules),
        fc.shuffledSubarray(rules, { minLength: rules.length, maxLength: rules.length }),
      ),
    );
    fc.assert(
      fc.property(eventArb, rulesAndShuffle, settingsArb, (ev, [rules, shuffled], st) => {
        const a = evaluateRules(ev, rules, POOL, st);
        const b = evaluateRules(ev, shuffled, POOL, st);
        expect(b).toEqual(a);
      }),
    );
  });

  it('without a matching rule, exactly the enabled auto_push ITSM connectors get events at or above the threshold', () => {
    fc.assert(
      fc.property(eventArb, settingsArb, (ev, st) => {
        const e = evaluateRules(ev, [], POOL, st);
        const rank = SEVERITIES.indexOf(ev.severity) >= SEVERITIES.indexOf(st.auto_push.min_severity);
        const expected = rank
          ? POOL.filter((c) => itsmIds.has(c.id) && c.enabled && c.auto_push).map((c) => c.id)
          : [];
        expect(ids(e)).toEqual(expected);
      }),
    );
  });

  it('correlationKey is stable under field permutation and never throws', () => {
    const fields = fc.uniqueArray(fc.constantFrom(...CORRELATABLE_FIELDS, 'tags.team', 'tags.env'), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(eventArb, fields, (ev, fs) => {
        expect(correlationKey(ev, fs)).toBe(correlationKey(ev, [...fs].reverse()));
      }),
    );
  });
});
