/**
 * Rule evaluation: which ITSM connectors turn an event into a ticket, and how, with every rule and
 * every condition explained, so an admin can see why an event did or did not open a ticket.
 * Pure: no I/O, no clock.
 */
import { type ConnectorKind, isItsmKind, NOTIFY_ON_DEFAULTS } from './connector.js';
import { correlationKey, DEFAULT_CORRELATE_BY } from './correlation.js';
import { tryParseDuration } from './duration.js';
import type { CompactEvent } from './event.js';
import type { Decision, TicketSpec, TicketTarget } from './plan.js';
import type { Rule, RuleWhen } from './rule-schema.js';
import { atLeast, type Severity } from './severity.js';

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
  /** `claimed`: this rule gives the connector its ticket; `notified`: it tells the connector (then.notify). */
  outcome:
    | 'claimed'
    | 'already_claimed'
    | 'unknown_connector'
    | 'not_itsm'
    | 'connector_disabled'
    | 'notified'
    | 'not_notification';
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
  /** What happened to each connector of the rule's `then.notify` (matched rules only). */
  notify: TargetNote[];
  /** This rule matched and has `stop: true`: later rules were not evaluated. */
  stopped: boolean;
  summary: string;
}

export interface Evaluation {
  targets: TicketTarget[];
  /** Notification connectors named by matching rules (`then.notify`), with the first rule naming each. */
  notify: { connectorId: string; ruleName: string }[];
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

function targetFromRule(event: CompactEvent, rule: Rule, connectorId: string): TicketTarget {
  const t = rule.then;
  const correlateBy = [...(t.correlate_by?.length ? t.correlate_by : DEFAULT_CORRELATE_BY)];
  const spec: TicketSpec = {
    ruleId: rule.id,
    ruleName: rule.name,
    correlateBy,
    correlationKey: correlationKey(event, correlateBy),
    labels: [...(t.labels ?? [])],
  };
  if (t.assignee !== undefined) spec.assignee = t.assignee;
  if (t.assignment_group !== undefined) spec.assignmentGroup = t.assignment_group;
  if (t.project_key !== undefined) spec.projectKey = t.project_key;
  if (t.issue_type !== undefined) spec.issueType = t.issue_type;
  const autoResolve = optionalMs(t.auto_resolve_after);
  if (autoResolve !== undefined) spec.autoResolveAfterMs = autoResolve;
  const sla = optionalMs(t.sla);
  if (sla !== undefined) spec.slaMs = sla;
  const reopen = optionalMs(t.reopen_within);
  if (reopen !== undefined) spec.reopenWithinMs = reopen;
  return { connectorId, priority: t.priority ?? event.severity, spec };
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
  const targets: TicketTarget[] = [];
  const notify = new Map<string, string>();
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
        notify: [],
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
        notify: [],
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
        notify: [],
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
    const notifyNotes = (rule.then?.notify ?? []).map((connectorId): TargetNote => {
      const connector = byId.get(connectorId);
      if (!connector)
        return { connectorId, outcome: 'unknown_connector', detail: `no connector with id ${connectorId}` };
      if (!NOTIFY_ON_DEFAULTS[connector.kind])
        return {
          connectorId,
          outcome: 'not_notification',
          detail: `${connector.name} is a ${connector.kind} connector: only slack, teams and webhook connectors are told`,
        };
      if (!connector.enabled)
        return { connectorId, outcome: 'connector_disabled', detail: `${connector.name} is disabled` };
      if (!notify.has(connectorId)) notify.set(connectorId, rule.name);
      return { connectorId, outcome: 'notified', detail: `${connector.name} is told of this event` };
    });
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
      notify: notifyNotes,
      stopped: rule.stop === true,
      summary:
        `matched: ${claimed} of ${notes.length} target(s) claimed` +
        (notifyNotes.length
          ? `; ${notifyNotes.filter((n) => n.outcome === 'notified').length} of ${notifyNotes.length} notification connector(s) told`
          : '') +
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
      const correlateBy = [...DEFAULT_CORRELATE_BY];
      targets.push({
        connectorId: c.id,
        priority: event.severity,
        spec: { correlateBy, correlationKey: correlationKey(event, correlateBy), labels: [] },
      });
      decide(
        'ticket',
        `no rule matched; default connector: severity ${event.severity} ≥ auto_push.min_severity ${minSeverity}`,
      );
    }
  }

  return {
    targets,
    notify: [...notify].map(([connectorId, ruleName]) => ({ connectorId, ruleName })),
    explanations,
    decisions,
  };
}
