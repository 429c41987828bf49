import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { overallStatus, type TargetOutcome, type ViolationStatus } from '../domain/plan.js';
import { EscalateConnectors, EscalateTicketKeys } from '../domain/search-attributes.js';
import type { ViolationWorkflowInput } from './contract.js';
import { tellNotAttempted, tellOutcome } from './notify.js';
import { bookkeepingActivities, runTarget } from './targets.js';

export interface ViolationWorkflowResult {
  status: ViolationStatus;
  outcomes: TargetOutcome[];
}

/**
 * One run per violation (ID `violation-{event_id}`): plan the targets, then create tickets and
 * deliver events to every target in parallel; one target's failure never blocks another. A ticket
 * opened or a delivery failed for good is told to the connectors listening (Slack, Teams,
 * webhooks) as soon as it happens; the violation's status is recorded before the telling ends.
 */
export async function violationWorkflow(input: ViolationWorkflowInput): Promise<ViolationWorkflowResult> {
  const { event } = input;
  const bk = bookkeepingActivities();
  setCurrentDetails('planning targets');
  const plan = await bk('plan targets (rules, SIEM filters)').planViolation(event, input.acceptedBy ?? 'api');
  upsertSearchAttributes([{ key: EscalateConnectors, value: plan.targets.map((t) => t.connectorId) }]);
  setCurrentDetails(`delivering to ${plan.targets.map((t) => t.connectorName).join(', ') || 'no target'}`);

  const telling: Promise<void>[] = [];
  const attempted = await Promise.all(
    plan.targets.map(async (t) => {
      const outcome = await runTarget(event, t, bk);
      telling.push(tellOutcome(bk, t, outcome, plan.notifyOn ?? []));
      return outcome;
    }),
  );
  // Targets planning could not attempt (unavailable connector) failed; older plans have none.
  const notAttempted = plan.unavailable ?? [];
  for (const o of notAttempted) telling.push(tellNotAttempted(bk, o, plan.notifyOn ?? []));
  const outcomes = [...notAttempted, ...attempted];

  const keys = outcomes.flatMap((o) => (o.externalId ? [o.externalId] : []));
  if (keys.length) upsertSearchAttributes([{ key: EscalateTicketKeys, value: keys }]);
  const status = overallStatus(outcomes);
  await bk(`record the outcome: ${status}`).completeViolation({ eventId: event.event_id, status });
  await Promise.all(telling);
  setCurrentDetails(`${status}: ${outcomes.filter((o) => o.ok).length}/${outcomes.length} targets done`);
  return { status, outcomes };
}
