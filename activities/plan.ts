import { eq } from 'drizzle-orm';
import { audit } from '../db/repos/audit.js';
import { toConnector } from '../db/repos/connectors.js';
import { ensureDelivery } from '../db/repos/deliveries.js';
import { listRules } from '../db/repos/rules.js';
import { connectors, violations } from '../db/schema.js';
import { type Connector, connectorTimeoutMs, retryPolicyFor } from '../domain/connector.js';
import type { CompactEvent } from '../domain/event.js';
import type { Plan, Target, TicketSpec } from '../domain/plan.js';
import { routeEvent } from '../domain/routing.js';
import { correlationKey } from '../domain/rules.js';
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

/** Loads connectors, rules and settings, decides the targets and opens a pending delivery for each. */
export function planActivities(deps: ActivityDeps) {
  return {
    async planViolation(event: CompactEvent, acceptedBy = 'api'): Promise<Plan> {
      const [rows, rules] = await Promise.all([deps.db.select().from(connectors), listRules(deps.db)]);
      const all = rows.map((r) => toConnector(r, deps.box));
      const byId = new Map(all.map((c) => [c.id, c]));
      const routing = routeEvent(event, all, rules, deps.settings);
      const targets: Target[] = [];
      for (const t of routing.tickets) {
        const c = byId.get(t.connectorId)!;
        const delivery = await ensureDelivery(deps.db, {
          eventId: event.event_id,
          connectorId: c.id,
          kind: c.kind,
          purpose: 'ticket',
        });
        const ticket: TicketSpec = {
          ruleId: t.ruleId,
          correlationKey: correlationKey(event, t.correlateBy),
          assignee: t.assignee,
          assignmentGroup: t.assignmentGroup,
          projectKey: t.projectKey,
          issueType: t.issueType,
          labels: t.labels,
          autoResolveAfterMs: t.autoResolveAfterMs,
          slaMs: t.slaMs,
          reopenWithinMs: t.reopenWithinMs,
        };
        targets.push({ ...toTarget(c, delivery, deps.settings, t.priority), ticket });
      }
      for (const id of routing.siem) {
        const c = byId.get(id)!;
        const delivery = await ensureDelivery(deps.db, {
          eventId: event.event_id,
          connectorId: c.id,
          kind: c.kind,
          purpose: 'event',
        });
        targets.push(toTarget(c, delivery, deps.settings));
      }
      const { decisions } = routing;
      await deps.db
        .update(violations)
        .set({ decisions, updatedAt: new Date() })
        .where(eq(violations.eventId, event.event_id));
      // Written here, not in the API, to keep the accept path to one insert and one workflow start.
      await audit(deps.db, {
        actor: acceptedBy,
        action: 'violation.accepted',
        subjectType: 'violation',
        subjectId: event.event_id,
        details: { event_type: event.event_type, severity: event.severity },
      });
      await audit(deps.db, {
        actor: 'system',
        action: 'violation.decided',
        subjectType: 'violation',
        subjectId: event.event_id,
        details: {
          decisions,
          rules: routing.explanations.filter((e) => e.status === 'matched').map((e) => e.ruleName),
        },
      });
      return { targets, decisions };
    },
  };
}
