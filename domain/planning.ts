/**
 * Where an event goes, and why: the one planning function behind both the violation workflow's
 * plan (activities/plan.ts) and the rules dry-run (api/rules.ts), so the explanation an admin
 * reads is what really happens. Pure.
 */
import {
  type ConnectorFilters,
  type ConnectorKind,
  isNotifyKind,
  isSiemKind,
  NOTIFY_ON_DEFAULTS,
  passesFilters,
} from './connector.js';
import type { CompactEvent } from './event.js';
import type { NoticeType } from './notification.js';
import type { Decision, TicketTarget } from './plan.js';
import { evaluateRules, type RuleExplanation } from './rule-evaluation.js';
import type { Rule } from './rule-schema.js';
import type { Settings } from './settings.js';

/** A connector as planning sees it: no config, no secrets. */
export interface PlanningConnector {
  id: string;
  name: string;
  kind: ConnectorKind;
  enabled: boolean;
  auto_push: boolean;
  filters: ConnectorFilters;
  /** Effective: the kind's default when none is stored; empty for kinds that are never told. */
  notify_on: readonly NoticeType[];
  /** Why the connector cannot be used now (its secrets cannot be decrypted); absent when it can. */
  unavailable?: string;
}

/** A ticket or event the plan chose for a connector that cannot be used now. */
export interface UnavailableTarget {
  connectorId: string;
  purpose: 'ticket' | 'event';
  /** The ticket the plan wanted (ITSM only). */
  ticket?: TicketTarget;
  reason: string;
}

/** A connector told about this event's ticket and deliveries, and of what. */
export interface Listener {
  connectorId: string;
  notifyOn: NoticeType[];
}

export interface EventPlan {
  /** ITSM tickets to open (or correlate), from the rules or the auto_push default. */
  tickets: TicketTarget[];
  /** SIEM connectors whose own filters pass. */
  siem: string[];
  /**
   * Connectors told about this event's ticket and deliveries: notification connectors (slack,
   * teams) whose filters pass or that a matching rule names (`then.notify`), and webhook connectors
   * whose filters pass, each with its `notify_on`.
   */
  listeners: Listener[];
  /** One per connector considered, with the reason. */
  decisions: Decision[];
  explanations: RuleExplanation[];
  /** Chosen, but skipped: the connector is unavailable (never also in `tickets` or `siem`). */
  unavailable: UnavailableTarget[];
  /** No rule matched, so the default (auto_push) connectors were considered. */
  defaultRouting: boolean;
}

/**
 * ITSM: the rules (first matching rule per target; `stop` ends evaluation), else the default
 * connectors when severity ≥ auto_push.min_severity. SIEM: every enabled connector whose own
 * filters pass, rules or not. Notifications: every enabled slack/teams connector whose filters
 * pass or that a matching rule names; webhooks hear of failed deliveries of events they would get.
 * A chosen connector that is unavailable (secrets that cannot be decrypted) is skipped with a
 * decision saying why; the other targets are unaffected.
 */
export function planEvent(
  event: CompactEvent,
  connectors: readonly PlanningConnector[],
  rules: readonly Rule[],
  settings: Pick<Settings, 'auto_push'>,
): EventPlan {
  const evaluation = evaluateRules(event, rules, connectors, settings);
  const why = new Map(connectors.flatMap((c) => (c.unavailable ? [[c.id, c.unavailable] as const] : [])));
  const unavailable: UnavailableTarget[] = [];
  const tickets = evaluation.targets.filter((t) => {
    const reason = why.get(t.connectorId);
    if (reason) unavailable.push({ connectorId: t.connectorId, purpose: 'ticket', ticket: t, reason });
    return !reason;
  });
  const siem: string[] = [];
  const listeners: Listener[] = [];
  const named = new Map(evaluation.notify.map((n) => [n.connectorId, n.ruleName]));
  const decisions = evaluation.decisions.map((d) => {
    const reason = why.get(d.connector_id);
    return d.action === 'ticket' && reason
      ? { ...d, action: 'skip' as const, reason: `${d.reason}; skipped: ${reason}` }
      : d;
  });
  for (const c of connectors) {
    const decide = (action: Decision['action'], reason: string) =>
      decisions.push({ connector_id: c.id, connector_name: c.name, action, reason });
    const filtersPass = passesFilters(c.filters, event);
    if (isSiemKind(c.kind)) {
      if (!c.enabled) decide('skip', 'connector disabled');
      else if (!filtersPass) decide('skip', `SIEM filters exclude ${event.event_type}/${event.severity}`);
      else if (c.unavailable) {
        decide('skip', `SIEM filters pass; skipped: ${c.unavailable}`);
        unavailable.push({ connectorId: c.id, purpose: 'event', reason: c.unavailable });
      } else {
        decide('deliver', 'SIEM filters pass');
        siem.push(c.id);
      }
    }
    if (!NOTIFY_ON_DEFAULTS[c.kind] || !c.enabled) {
      if (isNotifyKind(c.kind)) decide('skip', 'connector disabled');
      continue;
    }
    if (c.unavailable) {
      if (isNotifyKind(c.kind)) decide('skip', `not told: ${c.unavailable}`);
      continue;
    }
    const rule = named.get(c.id);
    const listens = (rule !== undefined || filtersPass) && c.notify_on.length > 0;
    if (listens) listeners.push({ connectorId: c.id, notifyOn: [...c.notify_on] });
    if (!isNotifyKind(c.kind)) continue;
    const told = `told of ${c.notify_on.join(', ')}`;
    if (c.notify_on.length === 0) decide('skip', 'notify_on is empty: told of nothing');
    else if (rule !== undefined) decide('notify', `named by rule '${rule}' (then.notify); ${told}`);
    else if (filtersPass) decide('notify', `filters pass; ${told}`);
    else decide('skip', `filters exclude ${event.event_type}/${event.severity}`);
  }
  return {
    tickets,
    siem,
    listeners,
    decisions,
    explanations: evaluation.explanations,
    unavailable,
    defaultRouting: !evaluation.explanations.some((e) => e.status === 'matched'),
  };
}
