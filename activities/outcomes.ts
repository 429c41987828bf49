import { eq } from 'drizzle-orm';
import { audit } from '../db/repos/audit.js';
import { markFailed } from '../db/repos/deliveries.js';
import { violations } from '../db/schema.js';
import type { ViolationStatus } from '../domain/plan.js';
import type { ActivityDeps } from './deps.js';

export function outcomeActivities(deps: ActivityDeps) {
  return {
    async markDeliveryFailed(input: {
      deliveryId: string;
      eventId: string;
      connectorId: string;
      error: string;
    }): Promise<void> {
      await deps.db.transaction(async (tx) => {
        await markFailed(tx, input.deliveryId, input.error);
        await audit(tx, {
          actor: 'system',
          action: 'delivery.failed',
          subjectType: 'delivery',
          subjectId: input.deliveryId,
          details: { event_id: input.eventId, connector_id: input.connectorId, error: input.error },
        });
      });
    },

    async completeViolation(input: { eventId: string; status: ViolationStatus }): Promise<void> {
      await deps.db
        .update(violations)
        .set({ status: input.status, completedAt: new Date(), updatedAt: new Date() })
        .where(eq(violations.eventId, input.eventId));
    },
  };
}
