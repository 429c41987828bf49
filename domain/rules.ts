/**
 * Escalation rules (SPEC §5): which ITSM connectors turn an event into a ticket, and how.
 *
 * Pure: runs inside Temporal workflows and in the API's dry-run, so no Node APIs, no clock, no I/O.
 * Every rule and every condition is explained, so an admin can see why an event did or did not
 * open a ticket.
 */
// biome-ignore-all lint/suspicious/noThenProperty: SPEC §5 names the field `then`; it holds a plain object, never a function, so nothing treats a rule as a thenable.
import { z } from 'zod';
import { type ConnectorKind, durationSchema, isItsmKind } from './connector.js';
import { tryParseDuration } from './duration.js';
import { type CompactEvent, EVENT_TYPES } from './event.js';
import type { Decision } from './plan.js';
import { atLeast, SEVERITIES, type Severity } from './severity.js';

// ---------------------------------------------------------------------------------------------
// Correlation fields

/** Top-level event fields a correlation key may use (besides `policy.*` and `tags.<key>`). */
export const CORRELATABLE_FIELDS = [
  'event_type',
  'severity',
  'risk_score',
  'summary',
  'source',
  'user_email',
  'model',
  'provider',
  'platform_id',
  'classifications',
  'policy.id',
  'policy.name',
  'policy.action',
] as const;

export const DEFAULT_CORRELATE_BY: readonly string[] = ['event_type', 'policy.id', 'user_email'];

/** `tags.<key>` (the key may itself contain dots) or one of CORRELATABLE_FIELDS. */
export function isCorrelatableField(path: string): boolean {
  if (path.startsWith('tags.')) return path.length > 'tags.'.length;
  return (CORRELATABLE_FIELDS as readonly string[]).includes(path);
}

// ---------------------------------------------------------------------------------------------
// Schemas

const text = (max: number) => z.string().trim().min(1).max(max);
const nonEmptyList = <T extends z.ZodType>(item: T, max = 100) => z.array(item).min(1).max(max);

export const ruleWhenSchema = z.strictObject({
  event_types: nonEmptyList(z.enum(EVENT_TYPES), EVENT_TYPES.length).optional(),
  min_severity: z.enum(SEVERITIES).optional(),
  min_risk_score: z.number().min(0).max(1).optional(),
  /** Any of; compared case-insensitively (`BLOCK` matches `block`). */
  policy_actions: nonEmptyList(text(256)).optional(),
  /** Any of the event's classification types; compared case-insensitively. */
  classifications: nonEmptyList(text(256)).optional(),
  /** Any of; exact compare. */
  platform_ids: nonEmptyList(text(256)).optional(),
  /** Every given tag must be present with exactly this value. */
  tags: z
    .record(z.string().min(1).max(128), z.string().max(512))
    .refine((t) => Object.keys(t).length > 0, { message: 'give at least one tag or leave tags out' })
    .optional(),
});

export const ruleThenSchema = z.strictObject({
  /** ITSM connector ids. */
  targets: nonEmptyList(text(128), 50).refine((ids) => new Set(ids).size === ids.length, {
    message: 'targets must not repeat a connector id',
  }),
  /** The severity word the ticket's priority comes from (default: the event's severity). */
  priority: z.enum(SEVERITIES).optional(),
  assignee: text(256).optional(),
  assignment_group: text(256).optional(),
  project_key: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,49}$/, 'Jira project keys are upper-case letters/digits')
    .optional(),
  issue_type: text(128).optional(),
  labels: z
    .array(z.string().min(1).max(255).regex(/^\S+$/, 'labels cannot contain whitespace'))
    .max(50)
    .optional(),
  auto_resolve_after: durationSchema.optional(),
  sla: durationSchema.optional(),
  correlate_by: nonEmptyList(
    z.string().refine(isCorrelatableField, {
      message: `unknown field path: use tags.<key> or one of ${CORRELATABLE_FIELDS.join(', ')}`,
    }),
    20,
  ).optional(),
  reopen_within: durationSchema.optional(),
});

export const ruleSchema = z.strictObject({
  name: text(200),
  enabled: z.boolean().default(true),
  order: z.number().int().min(-1_000_000).max(1_000_000).default(0),
  /** All given conditions must hold; no condition at all matches every event. */
  when: ruleWhenSchema.prefault({}),
  then: ruleThenSchema,
  stop: z.boolean().default(false),
});

/** PATCH body: every field optional, no defaults; `when` / `then` replace the stored ones whole. */
export const rulePatchSchema = z
  .strictObject({
    name: text(200).optional(),
    enabled: z.boolean().optional(),
    order: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    when: ruleWhenSchema.optional(),
    then: ruleThenSchema.optional(),
    stop: z.boolean().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, { message: 'nothing to change' });

export type RuleWhen = z.output<typeof ruleWhenSchema>;
export type RuleThen = z.output<typeof ruleThenSchema>;
export type RuleInput = z.input<typeof ruleSchema>;
export type RulePatch = z.output<typeof rulePatchSchema>;
export type Rule = z.output<typeof ruleSchema> & { id: string };

// ---------------------------------------------------------------------------------------------
// Evaluation types

/** A connector as rule evaluation needs it (non-ITSM connectors passed in are ignored). */
export interface RuleConnector {
  id: string;
  name: string;
  kind: ConnectorKind;
  enabled: boolean;
  auto_push: boolean;
}

export interface RuleSettings {
  auto_push?: { min_severity?: Severity };
}

/** One ticket the workflow must open (or correlate) on one ITSM connector. */
export interface RuleTarget {
  connectorId: string;
  /** Absent when the default (auto_push) routing chose the connector. */
  ruleId?: string;
  ruleName?: string;
  priority: Severity;
  assignee?: string;
  assignmentGroup?: string;
  projectKey?: string;
  issueType?: string;
  labels: string[];
  autoResolveAfterMs?: number;
  slaMs?: number;
  correlateBy: string[];
  reopenWithinMs?: number;
}

export interface ConditionResult {
  /** The `when` key, e.g. `min_severity` (`always` for a rule without conditions). */
  condition: string;
  matched: boolean;
  /** e.g. "min_severity high: event is critical ✓". */
  detail: string;
}

export type RuleStatus = 'matched' | 'not_matched' | 'disabled' | 'not_evaluated';

export interface TargetNote {
  connectorId: string;
  /** `claimed` means this rule gives the connector its ticket. */
  outcome: 'claimed' | 'already_claimed' | 'unknown_connector' | 'not_itsm' | 'connector_disabled';
  detail: string;
}

export interface RuleExplanation {
  ruleId: string;
  ruleName: string;
  order: number;
  status: RuleStatus;
  /** Only evaluated rules have conditions. */
  conditions: ConditionResult[];
  /** What happened to each of the rule's targets (matched rules only). */
  targets: TargetNote[];
  /** This rule matched and has `stop: true`: later rules were not evaluated. */
  stopped: boolean;
  summary: string;
}

export interface Evaluation {
  targets: RuleTarget[];
  explanations: RuleExplanation[];
  /** One per ITSM connector given, in the order given. */
  decisions: Decision[];
}

// ---------------------------------------------------------------------------------------------
// Conditions

const OK = '✓';
const NO = '✗';
const mark = (b: boolean) => (b ? OK : NO);
const list = (xs: readonly string[]) => `[${xs.join(', ')}]`;
const lower = (s: string) => s.toLowerCase();

function checkConditions(event: CompactEvent, when: RuleWhen): ConditionResult[] {
  const results: ConditionResult[] = [];
  const add = (condition: string, matched: boolean, detail: string) =>
    results.push({ condition, matched, detail: `${detail} ${mark(matched)}` });

  if (when.event_types?.length) {
    const ok = (when.event_types as readonly string[]).includes(event.event_type);
    add('event_types', ok, `event_types ${list(when.event_types)}: event is ${event.event_type}`);
  }
  if (when.min_severity !== undefined) {
    const ok = atLeast(event.severity, when.min_severity);
    add('min_severity', ok, `min_severity ${when.min_severity}: event is ${event.severity}`);
  }
  if (when.min_risk_score !== undefined) {
    const risk = event.risk_score;
    const ok = typeof risk === 'number' && risk >= when.min_risk_score;
    add(
      'min_risk_score',
      ok,
      `min_risk_score ${when.min_risk_score}: ${typeof risk === 'number' ? `event risk ${risk}` : 'event has no risk_score'}`,
    );
  }
  if (when.policy_actions?.length) {
    const action = event.policy?.action;
    const wanted = when.policy_actions.map(lower);
    const ok = action !== undefined && wanted.includes(lower(action));
    add(
      'policy_actions',
      ok,
      `policy_actions ${list(when.policy_actions)}: ${action !== undefined ? `event action ${action}` : 'event has no policy action'}`,
    );
  }
  if (when.classifications?.length) {
    const types = (event.classifications ?? []).map((c) => c.type);
    const wanted = new Set(when.classifications.map(lower));
    const hits = types.filter((t) => wanted.has(lower(t)));
    const ok = hits.length > 0;
    const has = types.length ? `event has ${list(types)}` : 'event has no classifications';
    add(
      'classifications',
      ok,
      `classifications ${list(when.classifications)}: ${has}${ok ? ` (matched ${list([...new Set(hits)])})` : ''}`,
    );
  }
  if (when.platform_ids?.length) {
    const platform = event.platform_id;
    const ok = platform !== undefined && when.platform_ids.includes(platform);
    add(
      'platform_ids',
      ok,
      `platform_ids ${list(when.platform_ids)}: ${platform !== undefined ? `event platform ${platform}` : 'event has no platform_id'}`,
    );
  }
  const wantedTags = Object.entries(when.tags ?? {});
  if (wantedTags.length) {
    const tags = event.tags ?? {};
    const parts = wantedTags.map(([k, v]) => {
      const actual = Object.hasOwn(tags, k) ? tags[k] : undefined;
      const ok = actual === v;
      const got = actual === undefined ? 'missing' : `is ${JSON.stringify(actual)}`;
      return { ok, text: ok ? `${k}=${JSON.stringify(v)} ${OK}` : `${k} ${got} ${NO}` };
    });
    const ok = parts.every((p) => p.ok);
    const want = wantedTags.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
    results.push({
      condition: 'tags',
      matched: ok,
      detail: `tags {${want}}: ${parts.map((p) => p.text).join(', ')}`,
    });
  }
  if (results.length === 0) {
    results.push({ condition: 'always', matched: true, detail: `no conditions: matches every event ${OK}` });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

const byOrderThenName = (a: Rule, b: Rule): number => {
  if (a.order !== b.order) return a.order - b.order;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
};

const optionalMs = (d: string | number | undefined): number | undefined =>
  d === undefined ? undefined : tryParseDuration(d);

function targetFromRule(event: CompactEvent, rule: Rule, connectorId: string): RuleTarget {
  const t = rule.then;
  const target: RuleTarget = {
    connectorId,
    ruleId: rule.id,
    ruleName: rule.name,
    priority: t.priority ?? event.severity,
    labels: [...(t.labels ?? [])],
    correlateBy: [...(t.correlate_by?.length ? t.correlate_by : DEFAULT_CORRELATE_BY)],
  };
  if (t.assignee !== undefined) target.assignee = t.assignee;
  if (t.assignment_group !== undefined) target.assignmentGroup = t.assignment_group;
  if (t.project_key !== undefined) target.projectKey = t.project_key;
  if (t.issue_type !== undefined) target.issueType = t.issue_type;
  const autoResolve = optionalMs(t.auto_resolve_after);
  if (autoResolve !== undefined) target.autoResolveAfterMs = autoResolve;
  const sla = optionalMs(t.sla);
  if (sla !== undefined) target.slaMs = sla;
  const reopen = optionalMs(t.reopen_within);
  if (reopen !== undefined) target.reopenWithinMs = reopen;
  return target;
}

const quote = (name: string) => `'${name}'`;

/**
 * Which ITSM connectors get a ticket for this event, and why.
 *
 * Rules run by `order`, then name. A matching rule claims each of its targets that no earlier
 * matching rule claimed (first match per target wins); `stop: true` on a matching rule ends
 * evaluation. Only when no rule matches do the default connectors (enabled, `auto_push`) get the
 * event, and only if its severity ≥ `auto_push.min_severity` (default `critical`).
 */
export function evaluateRules(
  event: CompactEvent,
  rules: readonly Rule[],
  connectors: readonly RuleConnector[],
  settings: RuleSettings = {},
): Evaluation {
  const minSeverity: Severity = settings.auto_push?.min_severity ?? 'critical';
  const byId = new Map<string, RuleConnector>();
  for (const c of connectors) if (!byId.has(c.id)) byId.set(c.id, c);
  const itsm = [...byId.values()].filter((c) => isItsmKind(c.kind));

  const claimedBy = new Map<string, Rule>();
  /** Enabled, matching rules that named a connector but could not give it a ticket. */
  const targetedDisabled = new Map<string, Rule>();
  const targets: RuleTarget[] = [];
  const explanations: RuleExplanation[] = [];
  const matchedRules: Rule[] = [];
  let stoppedBy: Rule | undefined;

  for (const rule of [...rules].sort(byOrderThenName)) {
    const base = { ruleId: rule.id, ruleName: rule.name, order: rule.order };
    if (stoppedBy) {
      explanations.push({
        ...base,
        status: 'not_evaluated',
        conditions: [],
        targets: [],
        stopped: false,
        summary: `not evaluated: rule ${quote(stoppedBy.name)} matched with stop`,
      });
      continue;
    }
    if (!rule.enabled) {
      explanations.push({
        ...base,
        status: 'disabled',
        conditions: [],
        targets: [],
        stopped: false,
        summary: 'skipped: rule disabled',
      });
      continue;
    }
    const conditions = checkConditions(event, rule.when ?? {});
    const failed = conditions.filter((c) => !c.matched);
    if (failed.length > 0) {
      explanations.push({
        ...base,
        status: 'not_matched',
        conditions,
        targets: [],
        stopped: false,
        summary: `not matched: ${failed.map((c) => c.condition).join(', ')} failed`,
      });
      continue;
    }

    matchedRules.push(rule);
    const notes: TargetNote[] = [];
    for (const connectorId of new Set(rule.then?.targets ?? [])) {
      const connector = byId.get(connectorId);
      const earlier = claimedBy.get(connectorId);
      if (!connector) {
        notes.push({
          connectorId,
          outcome: 'unknown_connector',
          detail: `no connector with id ${connectorId}`,
        });
      } else if (!isItsmKind(connector.kind)) {
        notes.push({
          connectorId,
          outcome: 'not_itsm',
          detail: `${connector.name} is a ${connector.kind} connector, not an ITSM connector`,
        });
      } else if (!connector.enabled) {
        if (!targetedDisabled.has(connectorId)) targetedDisabled.set(connectorId, rule);
        notes.push({ connectorId, outcome: 'connector_disabled', detail: `${connector.name} is disabled` });
      } else if (earlier) {
        notes.push({
          connectorId,
          outcome: 'already_claimed',
          detail: `${connector.name} already claimed by earlier rule ${quote(earlier.name)}`,
        });
      } else {
        claimedBy.set(connectorId, rule);
        const target = targetFromRule(event, rule, connectorId);
        targets.push(target);
        notes.push({
          connectorId,
          outcome: 'claimed',
          detail: `${connector.name}: ticket with priority ${target.priority}`,
        });
      }
    }
    // Stored rules are validated; this only guards hand-built ones (never throw in a workflow).
    const invalid = (['auto_resolve_after', 'sla', 'reopen_within'] as const).filter((key) => {
      const value = rule.then?.[key];
      return value !== undefined && tryParseDuration(value) === undefined;
    });
    const claimed = notes.filter((n) => n.outcome === 'claimed').length;
    if (rule.stop) stoppedBy = rule;
    explanations.push({
      ...base,
      status: 'matched',
      conditions,
      targets: notes,
      stopped: rule.stop === true,
      summary:
        `matched: ${claimed} of ${notes.length} target(s) claimed` +
        (rule.stop ? '; stop: later rules not evaluated' : '') +
        (invalid.length ? `; invalid duration(s) ignored: ${invalid.join(', ')}` : ''),
    });
  }

  const ruleMatched = matchedRules.length > 0;
  const decisions: Decision[] = [];
  const targetByConnector = new Map(targets.map((t) => [t.connectorId, t]));

  for (const c of itsm) {
    const decide = (action: Decision['action'], reason: string) =>
      decisions.push({ connector_id: c.id, connector_name: c.name, action, reason });
    const target = targetByConnector.get(c.id);
    const rule = claimedBy.get(c.id);
    if (target && rule) {
      decide('ticket', `rule ${quote(rule.name)} matched: ticket with priority ${target.priority}`);
      continue;
    }
    if (!c.enabled) {
      const named = targetedDisabled.get(c.id);
      decide(
        'skip',
        named ? `connector disabled (targeted by rule ${quote(named.name)})` : 'connector disabled',
      );
      continue;
    }
    if (ruleMatched) {
      const names = matchedRules.map((r) => quote(r.name)).join(', ');
      decide(
        'skip',
        `not a target of the matching rule(s) ${names}; default routing applies only without a match`,
      );
      continue;
    }
    if (!c.auto_push) {
      decide('skip', 'no rule matched and not a default connector (auto_push off)');
    } else if (!atLeast(event.severity, minSeverity)) {
      decide(
        'skip',
        `no rule matched; severity ${event.severity} below auto_push.min_severity ${minSeverity}`,
      );
    } else {
      const fallback: RuleTarget = {
        connectorId: c.id,
        priority: event.severity,
        labels: [],
        correlateBy: [...DEFAULT_CORRELATE_BY],
      };
      targets.push(fallback);
      decide(
        'ticket',
        `no rule matched; default connector: severity ${event.severity} ≥ auto_push.min_severity ${minSeverity}`,
      );
    }
  }

  return { targets, explanations, decisions };
}

// ---------------------------------------------------------------------------------------------
// Correlation

/** `%`, `|` and `=` are escaped so distinct field values can never produce the same key. */
const escapeKeyPart = (s: string) => s.replace(/%/g, '%25').replace(/\|/g, '%7C').replace(/=/g, '%3D');

function fieldValue(event: CompactEvent, path: string): string {
  if (path.startsWith('tags.')) {
    const key = path.slice('tags.'.length);
    const tags = event.tags ?? {};
    return Object.hasOwn(tags, key) ? (tags[key] ?? '') : '';
  }
  switch (path) {
    case 'policy.id':
      return event.policy?.id ?? '';
    case 'policy.name':
      return event.policy?.name ?? '';
    case 'policy.action':
      return lower(event.policy?.action ?? '');
    case 'user_email':
      // Mailbox names are case-insensitive in practice: Alice@x and alice@x are one person.
      return lower(event.user_email ?? '');
    case 'classifications':
      return [...new Set((event.classifications ?? []).map((c) => c.type.toUpperCase()))].sort().join(',');
    case 'risk_score':
      return event.risk_score === undefined ? '' : String(event.risk_score);
    case 'event_type':
    case 'severity':
    case 'summary':
    case 'source':
    case 'model':
    case 'provider':
    case 'platform_id': {
      const v = event[path];
      return v === undefined ? '' : String(v);
    }
    default:
      return '';
  }
}

/**
 * The key a ticket is correlated by, e.g. `event_type=policy_violation|policy.id=p1|user_email=a@x`.
 * Fields are sorted and de-duplicated (so their order in a rule does not matter); missing fields
 * are empty. Deterministic and pure; callers scope it per connector.
 */
export function correlationKey(
  event: CompactEvent,
  fields: readonly string[] = DEFAULT_CORRELATE_BY,
): string {
  const paths = [...new Set(fields.length ? fields : DEFAULT_CORRELATE_BY)].sort();
  return paths.map((p) => `${escapeKeyPart(p)}=${escapeKeyPart(fieldValue(event, p))}`).join('|');
}
