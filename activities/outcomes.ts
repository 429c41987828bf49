import { recordDeliveryFailed } from '../db/repos/deliveries.js';
import { completeViolation } from '../db/repos/violations.js';
import type { ViolationStatus } from '../domain/plan.js';
import type { ActivityDeps } from './deps.js';

export function outcomeActivities(deps: ActivityDeps) {
  return {
    markDeliveryFailed(input: {
      deliveryId: string;
      eventId: string;
      connectorId: string;
      error: string;
    }): Promise<void> {
      return recordDeliveryFailed(deps.db, input);
    },

    completeViolation(input: { eventId: string; status: ViolationStatus }): Promise<void> {
      return completeViolation(deps.db, input.eventId, input.status);
    },
  };
}
