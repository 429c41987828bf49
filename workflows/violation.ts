import { patched, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { overallStatus, type TargetOutcome, type ViolationStatus } from '../domain/plan.js';
import { EscalateConnectors, EscalateTicketKeys } from '../domain/search-attributes.js';
import type { ViolationWorkflowInput } from './contract.js';
import { NOT_ATTEMPTED_PATCH, NOTIFY_PATCH, tellNotAttempted, tellOutcome } from './notify.js';
import {
  bookkeepingActivities,
  FIRST_ATTEMPT_LOCAL_PATCH,
  LOCAL_BOOKKEEPING_PATCH,
  type Patched,
  runTarget,
  SYNC_START_CONFIRMED_PATCH,
  SYNC_STARTED_BY_CREATE_PATCH,
} from './targets.js';

/** EscalateConnectors and EscalateTicketKeys in one upsert at the end (earlier runs: two). */
export const ONE_UPSERT_PATCH = 'one-search-attribute-upsert';

export interface ViolationWorkflowResult {
  status: ViolationStatus;
  outcomes: TargetOutcome[];
}

/** The changes `violationWorkflowV2` was created with: built in, never marked in its history. */
const BUILT_INTO_V2 = new Set([
  LOCAL_BOOKKEEPING_PATCH,
  ONE_UPSERT_PATCH,
  FIRST_ATTEMPT_LOCAL_PATCH,
  SYNC_STARTED_BY_CREATE_PATCH,
  SYNC_START_CONFIRMED_PATCH,
  NOTIFY_PATCH,
  NOT_ATTEMPTED_PATCH,
]);

/**
 * One run per violation (ID `violation-{event_id}`): plan the targets, then create tickets and
 * deliver events to every target in parallel; one target's failure never blocks another. A ticket
 * opened or a delivery failed for good is told to the connectors listening (Slack, Teams,
 * webhooks) as soon as it happens; the violation's status is recorded before the telling ends.
 *
 * Every violation starts this type. Its code is `violationWorkflow`'s with the changes that type
 * guards by patches built in: each patch costs a run a marker and an upsert of
 * `TemporalChangeVersion` (half of its history, and a visibility write each). A change made after
 * it is guarded by `patched` as usual.
 */
export async function violationWorkflowV2(input: ViolationWorkflowInput): Promise<ViolationWorkflowResult> {
  return violationRun(input, (id) => BUILT_INTO_V2.has(id) || patched(id));
}

/**
 * The type violations started before `violationWorkflowV2` existed: kept so that those runs (and
 * their recorded histories) replay. Remove it once no run of it is open
 * (`WorkflowType = "violationWorkflow" AND ExecutionStatus = "Running"` lists none).
 */
export async function violationWorkflow(input: ViolationWorkflowInput): Promise<ViolationWorkflowResult> {
  return violationRun(input, patched);
}

async function violationRun(input: ViolationWorkflowInput, has: Patched): Promise<ViolationWorkflowResult> {
  const { event } = input;
  const run = { patched: has };
  const bk = bookkeepingActivities(has);
  setCurrentDetails('planning targets');
  const plan = await bk('plan targets (rules, SIEM filters)').planViolation(event, input.acceptedBy ?? 'api');
  const connectors = { key: EscalateConnectors, value: plan.targets.map((t) => t.connectorId) };
  // One upsert (each is a visibility write), once the ticket keys are known too.
  const oneUpsert = has(ONE_UPSERT_PATCH);
  if (!oneUpsert) upsertSearchAttributes([connectors]);
  setCurrentDetails(`delivering to ${plan.targets.map((t) => t.connectorName).join(', ') || 'no target'}`);

  const telling: Promise<void>[] = [];
  const attempted = await Promise.all(
    plan.targets.map(async (t) => {
      const outcome = await runTarget(event, t, bk, run);
      telling.push(tellOutcome(bk, t, outcome, { listening: plan.notifyOn ?? [], run }));
      return outcome;
    }),
  );
  // Targets planning could not attempt (unavailable connector) failed; older plans have none.
  const notAttempted = plan.unavailable ?? [];
  for (const o of notAttempted) telling.push(tellNotAttempted(bk, o, plan.notifyOn ?? [], run));
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
