/**
 * Where an event goes, and why: the one planning function behind both the violation workflow's
 * plan (activities/plan.ts) and the rules dry-run (api/rules.ts), so the explanation an admin
 * reads is what really happens. Pure.
 */
import { type ConnectorFilters, type ConnectorKind, isSiemKind, passesFilters } from './connector.js';
import type { CompactEvent } from './event.js';
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
  /** Why the connector cannot be used now (its secrets cannot be decrypted); absent when it can. */
  unavailable?: string;
}

/** A ticket or event the routing chose for a connector that cannot be used now. */
export interface UnavailableTarget {
  connectorId: string;
  purpose: 'ticket' | 'event';
  /** The ticket the plan wanted (ITSM only). */
  ticket?: TicketTarget;
  reason: string;
}

export interface EventPlan {
  /** ITSM tickets to open (or correlate), from the rules or the auto_push default. */
  tickets: TicketTarget[];
  /** SIEM connectors whose own filters pass. */
  siem: string[];
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
 * filters pass, rules or not. A chosen connector that is unavailable (secrets that cannot be
 * decrypted) is skipped with a decision saying why; the other targets are unaffected.
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
  const decisions = evaluation.decisions.map((d) => {
    const reason = why.get(d.connector_id);
    return d.action === 'ticket' && reason
      ? { ...d, action: 'skip' as const, reason: `${d.reason}; skipped: ${reason}` }
      : d;
  });
  const siem: string[] = [];
  for (const c of connectors) {
    if (!isSiemKind(c.kind)) continue;
    const decide = (action: Decision['action'], reason: string) =>
      decisions.push({ connector_id: c.id, connector_name: c.name, action, reason });
    if (!c.enabled) decide('skip', 'connector disabled');
    else if (!passesFilters(c.filters, event))
      decide('skip', `SIEM filters exclude ${event.event_type}/${event.severity}`);
    else if (c.unavailable) {
      decide('skip', `SIEM filters pass; skipped: ${c.unavailable}`);
      unavailable.push({ connectorId: c.id, purpose: 'event', reason: c.unavailable });
    } else {
      decide('deliver', 'SIEM filters pass');
      siem.push(c.id);
    }
  }
  return {
    tickets,
    siem,
    decisions,
    explanations: evaluation.explanations,
    unavailable,
    defaultRouting: !evaluation.explanations.some((e) => e.status === 'matched'),
  };
}
