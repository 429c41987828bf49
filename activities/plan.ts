import { eq } from 'drizzle-orm';
import { audit } from '../db/repos/audit.js';
import { toRoutableConnector } from '../db/repos/connectors.js';
import { ensureDelivery, markFailed } from '../db/repos/deliveries.js';
import { listRules } from '../db/repos/rules.js';
import { connectors, violations } from '../db/schema.js';
import { type Connector, connectorTimeoutMs, retryPolicyFor } from '../domain/connector.js';
import type { CompactEvent } from '../domain/event.js';
import type { Plan, Target, TargetOutcome, TicketSpec } from '../domain/plan.js';
import { routeEvent } from '../domain/routing.js';
import { correlationKey, type RuleTarget } from '../domain/rules.js';
import type { Settings } from '../domain/settings.js';
import type { Severity } from '../domain/severity.js';
import type { ActivityDeps } from './deps.js';

/** The ticket a routing target asks for, as the workflow carries it. */
export const ticketSpecOf = (event: CompactEvent, t: RuleTarget): TicketSpec => ({
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
});

const containerOf = (config: Record<string, unknown>): string | undefined =>
  (config.project_key as string | undefined) ?? (config.table as string | undefined);

/** How the workflow should carry out one delivery to one connector (secrets not needed). */
export function toTarget(
  c: Pick<Connector, 'id' | 'name' | 'kind' | 'retry'> & { config: object },
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
      // Routing needs no secrets; a connector whose secrets cannot be decrypted is skipped, visibly.
      const all = rows.map((r) => toRoutableConnector(r, deps.box));
      const byId = new Map(all.map((c) => [c.id, c]));
      const routing = routeEvent(event, all, rules, deps.settings);
      const open = (connectorId: string, purpose: 'ticket' | 'event') => {
        const c = byId.get(connectorId)!;
        return ensureDelivery(deps.db, { eventId: event.event_id, connectorId, kind: c.kind, purpose });
      };
      const targets: Target[] = [];
      for (const t of routing.tickets) {
        const delivery = await open(t.connectorId, 'ticket');
        targets.push({
          ...toTarget(byId.get(t.connectorId)!, delivery, deps.settings, t.priority),
          ticket: ticketSpecOf(event, t),
        });
      }
      for (const id of routing.siem)
        targets.push(toTarget(byId.get(id)!, await open(id, 'event'), deps.settings));
      const unavailable: TargetOutcome[] = [];
      for (const u of routing.unavailable) {
        const c = byId.get(u.connectorId)!;
        const delivery = await open(c.id, u.purpose);
        const error = `not attempted: ${u.reason}`;
        await deps.db.transaction(async (tx) => {
          await markFailed(tx, delivery.id, error);
          await audit(tx, {
            actor: 'system',
            action: 'delivery.failed',
            subjectType: 'delivery',
            subjectId: delivery.id,
            details: { event_id: event.event_id, connector_id: c.id, error },
          });
        });
        unavailable.push({
          deliveryId: delivery.id,
          connectorId: c.id,
          purpose: u.purpose,
          ok: false,
          error,
        });
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
      return { targets, decisions, unavailable };
    },
  };
}
