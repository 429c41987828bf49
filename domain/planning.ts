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
}

export interface EventPlan {
  /** ITSM tickets to open (or correlate), from the rules or the auto_push default. */
  tickets: TicketTarget[];
  /** SIEM connectors whose own filters pass. */
  siem: string[];
  /** One per connector considered, with the reason. */
  decisions: Decision[];
  explanations: RuleExplanation[];
  /** No rule matched, so the default (auto_push) connectors were considered. */
  defaultRouting: boolean;
}

/**
 * ITSM: the rules (first matching rule per target; `stop` ends evaluation), else the default
 * connectors when severity ≥ auto_push.min_severity. SIEM: every enabled connector whose own
 * filters pass, rules or not.
 */
export function planEvent(
  event: CompactEvent,
  connectors: readonly PlanningConnector[],
  rules: readonly Rule[],
  settings: Pick<Settings, 'auto_push'>,
): EventPlan {
  const evaluation = evaluateRules(event, rules, connectors, settings);
  const siem: string[] = [];
  const decisions = [...evaluation.decisions];
  for (const c of connectors) {
    if (!isSiemKind(c.kind)) continue;
    const decide = (action: Decision['action'], reason: string) =>
      decisions.push({ connector_id: c.id, connector_name: c.name, action, reason });
    if (!c.enabled) decide('skip', 'connector disabled');
    else if (passesFilters(c.filters, event)) {
      decide('deliver', 'SIEM filters pass');
      siem.push(c.id);
    } else decide('skip', `SIEM filters exclude ${event.event_type}/${event.severity}`);
  }
  return {
    tickets: evaluation.targets,
    siem,
    decisions,
    explanations: evaluation.explanations,
    defaultRouting: !evaluation.explanations.some((e) => e.status === 'matched'),
  };
}
