import { eq } from 'drizzle-orm';
import { audit } from '../db/repos/audit.js';
import { toConnector } from '../db/repos/connectors.js';
import { ensureDelivery } from '../db/repos/deliveries.js';
import { connectors, violations } from '../db/schema.js';
import { type Connector, connectorTimeoutMs, retryPolicyFor } from '../domain/connector.js';
import type { CompactEvent } from '../domain/event.js';
import type { Plan, Target } from '../domain/plan.js';
import { routeEvent } from '../domain/routing.js';
import type { Settings } from '../domain/settings.js';
import type { Severity } from '../domain/severity.js';
import type { ActivityDeps } from './deps.js';

const containerOf = (config: Record<string, unknown>): string | undefined =>
  (config.project_key as string | undefined) ?? (config.table as string | undefined);

/** How the workflow should carry out one delivery to one connector. */
export function toTarget(
  c: Connector,
  delivery: { id: string; purpose: string },
  settings: Settings,
  priority?: Severity,
): Target {
  return {
    deliveryId: delivery.id,
    connectorId: c.id,
    connectorName: c.name,
    kind: c.kind,
    purpose: delivery.purpose as Target['purpose'],
    retry: retryPolicyFor(c.kind, c.retry, settings.retry[c.kind]),
    timeoutMs: connectorTimeoutMs(c.config),
    priority,
    container: containerOf(c.config as Record<string, unknown>),
  };
}

/** Loads connectors and settings, decides the targets and opens a pending delivery for each. */
export function planActivities(deps: ActivityDeps) {
  return {
    async planViolation(event: CompactEvent): Promise<Plan> {
      const rows = await deps.db.select().from(connectors);
      const all = rows.map((r) => toConnector(r, deps.box));
      const { routes, decisions } = routeEvent(event, all, deps.settings);
      const targets: Target[] = [];
      for (const route of routes) {
        const c = all.find((x) => x.id === route.connector.id)!;
        const delivery = await ensureDelivery(deps.db, {
          eventId: event.event_id,
          connectorId: c.id,
          kind: c.kind,
          purpose: route.purpose,
        });
        targets.push(toTarget(c, delivery, deps.settings, route.priority));
      }
      await deps.db
        .update(violations)
        .set({ decisions, updatedAt: new Date() })
        .where(eq(violations.eventId, event.event_id));
      await audit(deps.db, {
        actor: 'system',
        action: 'violation.decided',
        subjectType: 'violation',
        subjectId: event.event_id,
        details: { decisions },
      });
      return { targets, decisions };
    },
  };
}
