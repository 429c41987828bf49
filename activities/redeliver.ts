import { getDelivery, recordDeliveryFailed, reopenDelivery } from '../db/repos/deliveries.js';
import { getTicket } from '../db/repos/tickets.js';
import { getViolation, refreshViolationStatus, storedCompactEvent } from '../db/repos/violations.js';
import type { CompactEvent } from '../domain/event.js';
import type { Target, TargetOutcome } from '../domain/plan.js';
import type { Severity } from '../domain/severity.js';
import { countDelivery, replays } from '../infra/metrics.js';
import { deliveryInFlight } from '../infra/workflow-client.js';
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
        const ticket = delivery.ticketId ? await getTicket(deps.db, delivery.ticketId) : undefined;
        return {
          kind: 'skip',
          reason: 'already delivered',
          outcome: { ...base, ok: true, ticketId: ticket?.id, externalId: ticket?.externalId ?? undefined },
        };
      }
      const inFlight = await deliveryInFlight(deps.workflows, delivery, { fromItsOwnWorkflow: true });
      if (inFlight) {
        replays.inc({ reason: input.reason, result: 'skipped' });
        const reason = `in flight: workflow ${inFlight} is attempting it`;
        return { kind: 'skip', reason, outcome: { ...base, ok: false, error: reason } };
      }
      const connector = await loadConnector(deps, delivery.connectorId).catch((err: Error) => err);
      if (connector instanceof Error) {
        // Nothing to attempt with (connector gone, secrets that cannot be decrypted): failed, saying why.
        replays.inc({ reason: input.reason, result: 'skipped' });
        const error = `not attempted: ${connector.message}`;
        if (delivery.status !== 'failed') countDelivery(delivery.connectorId, delivery.kind, 'failed');
        await recordDeliveryFailed(deps.db, { ...base, eventId: delivery.eventId, error });
        await refreshViolationStatus(deps.db, delivery.eventId);
        return { kind: 'skip', reason: error, outcome: { ...base, ok: false, error } };
      }
      const violation = await getViolation(deps.db, delivery.eventId);
      if (!violation) throw connectorUnavailable(`violation ${delivery.eventId} is not stored`);
      await reopenDelivery(deps.db, delivery, input);
      replays.inc({ reason: input.reason, result: 'started' });
      const event = storedCompactEvent(violation);
      // The ticket planning decided (rule labels, priority, correlation): the same on every attempt.
      const priority = (delivery.priority as Severity | null) ?? event.severity;
      const target = toTarget(connector, delivery, deps.settings, priority);
      return {
        kind: 'run',
        event,
        target: delivery.ticketSpec ? { ...target, ticket: delivery.ticketSpec } : target,
      };
    },

    /** Recomputes a violation's overall status from its deliveries after a manual push or replay. */
    refreshViolationStatus(input: { eventId: string }): Promise<void> {
      return refreshViolationStatus(deps.db, input.eventId);
    },
  };
}
