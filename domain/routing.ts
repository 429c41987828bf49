import { type ConnectorFilters, type ConnectorKind, isSiemKind, passesFilters } from './connector.js';
import type { CompactEvent } from './event.js';
import type { Decision } from './plan.js';
import { evaluateRules, type Rule, type RuleExplanation, type RuleTarget } from './rules.js';
import type { Settings } from './settings.js';

export interface RoutableConnector {
  id: string;
  name: string;
  kind: ConnectorKind;
  enabled: boolean;
  auto_push: boolean;
  filters: ConnectorFilters;
}

export interface Routing {
  /** ITSM tickets to open (or correlate), from the rules or the auto_push default. */
  tickets: RuleTarget[];
  /** SIEM connectors whose own filters pass. */
  siem: string[];
  /** One per connector considered, with the reason. */
  decisions: Decision[];
  explanations: RuleExplanation[];
}

/**
 * Where an event goes. Pure: the workflow's plan and the API's dry-run use the same function.
 * ITSM: the rules (first matching rule per target; `stop` ends evaluation), else the default
 * connectors when severity ≥ auto_push.min_severity. SIEM: every enabled connector whose own
 * filters pass, rules or not.
 */
export function routeEvent(
  event: CompactEvent,
  connectors: RoutableConnector[],
  rules: Rule[],
  settings: Pick<Settings, 'auto_push'>,
): Routing {
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
  return { tickets: evaluation.targets, siem, decisions, explanations: evaluation.explanations };
}
