import { eq } from 'drizzle-orm';
import { audit } from '../db/repos/audit.js';
import { getDelivery } from '../db/repos/deliveries.js';
import { getViolation, storedCompactEvent } from '../db/repos/violations.js';
import { deliveries, tickets, violations } from '../db/schema.js';
import type { CompactEvent } from '../domain/event.js';
import { overallStatus, type Target, type TargetOutcome } from '../domain/plan.js';
import { replays } from '../infra/metrics.js';
import type { ActivityDeps } from './deps.js';
import { connectorUnavailable } from './failures.js';
import { toTarget } from './plan.js';
import { loadConnector } from './tickets.js';

export type PreparedDelivery =
  | { kind: 'skip'; reason: string; outcome: TargetOutcome }
  | { kind: 'run'; event: CompactEvent; target: Target };

export function redeliveryActivities(deps: ActivityDeps) {
  return {
    /** Loads a delivery for a manual push or replay; one that has since succeeded is skipped. */
    async prepareDelivery(input: {
      deliveryId: string;
      requestedBy: string;
      reason: 'manual' | 'replay';
    }): Promise<PreparedDelivery> {
      const delivery = await getDelivery(deps.db, input.deliveryId);
      if (!delivery) throw connectorUnavailable(`delivery ${input.deliveryId} does not exist`);
      const base = {
        deliveryId: delivery.id,
        connectorId: delivery.connectorId,
        purpose: delivery.purpose as Target['purpose'],
      };
      if (delivery.status === 'delivered') {
        replays.inc({ reason: input.reason, result: 'skipped' });
        const [ticket] = delivery.ticketId
          ? await deps.db.select().from(tickets).where(eq(tickets.id, delivery.ticketId))
          : [];
        return {
          kind: 'skip',
          reason: 'already delivered',
          outcome: { ...base, ok: true, ticketId: ticket?.id, externalId: ticket?.externalId ?? undefined },
        };
      }
      const connector = await loadConnector(deps, delivery.connectorId);
      const violation = await getViolation(deps.db, delivery.eventId);
      if (!violation) throw connectorUnavailable(`violation ${delivery.eventId} is not stored`);
      await deps.db
        .update(deliveries)
        .set({ status: 'pending', updatedAt: new Date() })
        .where(eq(deliveries.id, delivery.id));
      await audit(deps.db, {
        actor: input.requestedBy,
        action: input.reason === 'replay' ? 'delivery.replayed' : 'ticket.pushed',
        subjectType: 'delivery',
        subjectId: delivery.id,
        details: { event_id: delivery.eventId, connector_id: delivery.connectorId },
      });
      replays.inc({ reason: input.reason, result: 'started' });
      const event = storedCompactEvent(violation);
      return { kind: 'run', event, target: toTarget(connector, delivery, deps.settings, event.severity) };
    },

    /** Recomputes a violation's overall status from its deliveries after a manual push or replay. */
    async refreshViolationStatus(input: { eventId: string }): Promise<void> {
      const rows = await deps.db.select().from(deliveries).where(eq(deliveries.eventId, input.eventId));
      if (rows.some((d) => d.status === 'pending')) return;
      const status = overallStatus(
        rows.map((d) => ({
          deliveryId: d.id,
          connectorId: d.connectorId,
          purpose: d.purpose as Target['purpose'],
          ok: d.status === 'delivered',
        })),
      );
      await deps.db
        .update(violations)
        .set({ status, updatedAt: new Date() })
        .where(eq(violations.eventId, input.eventId));
    },
  };
}
