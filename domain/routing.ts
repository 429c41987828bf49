import { type ConnectorFilters, type ConnectorKind, isItsmKind, passesFilters } from './connector.js';
import type { CompactEvent } from './event.js';
import type { Decision } from './plan.js';
import type { Settings } from './settings.js';
import { atLeast, type Severity } from './severity.js';

export interface RoutableConnector {
  id: string;
  name: string;
  kind: ConnectorKind;
  enabled: boolean;
  auto_push: boolean;
  filters: ConnectorFilters;
}

export interface Route {
  connector: RoutableConnector;
  purpose: 'ticket' | 'event';
  priority?: Severity;
}

/**
 * Which connectors an event goes to, with a reason for every connector considered.
 * ITSM: default connectors (auto_push) when severity ≥ auto_push.min_severity.
 * SIEM: every enabled connector whose own filters pass.
 */
export function routeEvent(
  event: Pick<CompactEvent, 'event_type' | 'severity'>,
  connectors: RoutableConnector[],
  settings: Pick<Settings, 'auto_push'>,
): { routes: Route[]; decisions: Decision[] } {
  const routes: Route[] = [];
  const decisions: Decision[] = [];
  const decide = (c: RoutableConnector, action: Decision['action'], reason: string) =>
    decisions.push({ connector_id: c.id, connector_name: c.name, action, reason });

  for (const c of connectors) {
    if (!c.enabled) {
      decide(c, 'skip', 'connector disabled');
      continue;
    }
    if (isItsmKind(c.kind)) {
      const min = settings.auto_push.min_severity;
      if (!c.auto_push) decide(c, 'skip', 'not a default connector (auto_push off) and no rule targets it');
      else if (!atLeast(event.severity, min))
        decide(c, 'skip', `severity ${event.severity} below auto_push.min_severity ${min}`);
      else {
        decide(c, 'ticket', `default connector: severity ${event.severity} ≥ auto_push.min_severity ${min}`);
        routes.push({ connector: c, purpose: 'ticket', priority: event.severity });
      }
    } else if (passesFilters(c.filters, event)) {
      decide(c, 'deliver', 'SIEM filters pass');
      routes.push({ connector: c, purpose: 'event' });
    } else {
      decide(c, 'skip', `SIEM filters exclude ${event.event_type}/${event.severity}`);
    }
  }
  return { routes, decisions };
}
