import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { TargetOutcome } from '../domain/plan.js';
import { EscalateConnectors, EscalateTicketKeys } from '../domain/search-attributes.js';
import type { DeliveryWorkflowInput } from './contract.js';
import { tellOutcome } from './notify.js';
import { bookkeepingActivities, runTarget } from './targets.js';

/**
 * One delivery run again or for the first time (manual push, replay): same delivery row, same
 * idempotency key, new attempts appended. A delivery that has since succeeded is left alone. A
 * ticket it opens, or its failing again, is told like the violation's own.
 */
export async function deliveryWorkflow(
  input: DeliveryWorkflowInput,
): Promise<TargetOutcome & { skipped?: boolean }> {
  const bk = bookkeepingActivities();
  const prepared = await bk(`prepare the ${input.reason} delivery`).prepareDelivery(input);
  if (prepared.kind === 'skip') {
    setCurrentDetails(`skipped: ${prepared.reason}`);
    return { ...prepared.outcome, skipped: true };
  }
  const { event, target } = prepared;
  upsertSearchAttributes([{ key: EscalateConnectors, value: [target.connectorId] }]);
  const outcome = await runTarget(event, target, bk);
  if (outcome.externalId) upsertSearchAttributes([{ key: EscalateTicketKeys, value: [outcome.externalId] }]);
  await bk('refresh the violation status').refreshViolationStatus({ eventId: event.event_id });
  await tellOutcome(bk, target, outcome);
  setCurrentDetails(outcome.ok ? 'delivered' : `failed: ${outcome.error}`);
  return outcome;
}
