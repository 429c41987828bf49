import { patched, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { overallStatus, type TargetOutcome, type ViolationStatus } from '../domain/plan.js';
import { EscalateConnectors, EscalateTicketKeys } from '../domain/search-attributes.js';
import type { ViolationWorkflowInput } from './contract.js';
import { tellNotAttempted, tellOutcome } from './notify.js';
import { bookkeepingActivities, runTarget } from './targets.js';

/** EscalateConnectors and EscalateTicketKeys in one upsert at the end (earlier runs: two). */
export const ONE_UPSERT_PATCH = 'one-search-attribute-upsert';

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
  const connectors = { key: EscalateConnectors, value: plan.targets.map((t) => t.connectorId) };
  // One upsert (each is a visibility write), once the ticket keys are known too.
  const oneUpsert = patched(ONE_UPSERT_PATCH);
  if (!oneUpsert) upsertSearchAttributes([connectors]);
  setCurrentDetails(`delivering to ${plan.targets.map((t) => t.connectorName).join(', ') || 'no target'}`);

  const telling: Promise<void>[] = [];
  const attempted = await Promise.all(
    plan.targets.map(async (t) => {
      const outcome = await runTarget(event, t, bk);
      telling.push(tellOutcome(bk, t, outcome, { listening: plan.notifyOn ?? [] }));
      return outcome;
    }),
  );
  // Targets planning could not attempt (unavailable connector) failed; older plans have none.
  const notAttempted = plan.unavailable ?? [];
  for (const o of notAttempted) telling.push(tellNotAttempted(bk, o, plan.notifyOn ?? []));
  const outcomes = [...notAttempted, ...attempted];

  const keys = outcomes.flatMap((o) => (o.externalId ? [o.externalId] : []));
  const ticketKeys = keys.length ? [{ key: EscalateTicketKeys, value: keys }] : [];
  if (oneUpsert) upsertSearchAttributes([connectors, ...ticketKeys]);
  else if (ticketKeys.length) upsertSearchAttributes(ticketKeys);
  const status = overallStatus(outcomes);
  await bk(`record the outcome: ${status}`).completeViolation({ eventId: event.event_id, status });
  await Promise.all(telling);
  setCurrentDetails(`${status}: ${outcomes.filter((o) => o.ok).length}/${outcomes.length} targets done`);
  return { status, outcomes };
}
