import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { overallStatus, type TargetOutcome, type ViolationStatus } from '../domain/plan.js';
import { EscalateConnectors, EscalateTicketKeys } from '../domain/search-attributes.js';
import type { ViolationWorkflowInput } from './contract.js';
import { bookkeepingActivities, runTarget } from './targets.js';

export interface ViolationWorkflowResult {
  status: ViolationStatus;
  outcomes: TargetOutcome[];
}

/**
 * One run per violation (ID `violation-{event_id}`): plan the targets, then create tickets and
 * deliver events to every target in parallel; one target's failure never blocks another.
 */
export async function violationWorkflow(input: ViolationWorkflowInput): Promise<ViolationWorkflowResult> {
  const { event } = input;
  const bk = bookkeepingActivities();
  setCurrentDetails('planning targets');
  const plan = await bk('plan targets (rules, SIEM filters)').planViolation(event, input.acceptedBy ?? 'api');
  upsertSearchAttributes([{ key: EscalateConnectors, value: plan.targets.map((t) => t.connectorId) }]);
  setCurrentDetails(`delivering to ${plan.targets.map((t) => t.connectorName).join(', ') || 'no target'}`);

  const outcomes = await Promise.all(plan.targets.map((t) => runTarget(event, t, bk)));

  const keys = outcomes.flatMap((o) => (o.externalId ? [o.externalId] : []));
  if (keys.length) upsertSearchAttributes([{ key: EscalateTicketKeys, value: keys }]);
  const status = overallStatus(outcomes);
  await bk(`record the outcome: ${status}`).completeViolation({ eventId: event.event_id, status });
  setCurrentDetails(`${status}: ${outcomes.filter((o) => o.ok).length}/${outcomes.length} targets done`);
  return { status, outcomes };
}
