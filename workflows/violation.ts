import {
  ActivityFailure,
  ApplicationFailure,
  log,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { CompactEvent } from '../domain/event.js';
import { overallStatus, type Target, type TargetOutcome, type ViolationStatus } from '../domain/plan.js';
import { EscalateConnectors, EscalateTicketKeys } from '../domain/search-attributes.js';

export interface ViolationWorkflowInput {
  event: CompactEvent;
}

export interface ViolationWorkflowResult {
  status: ViolationStatus;
  outcomes: TargetOutcome[];
}

/** Bookkeeping activities: short, retried until the database answers. */
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

const KIND_LABEL: Record<string, string> = { jira: 'Jira issue', servicenow: 'ServiceNow incident' };

function targetActivities(target: Target, summary: string) {
  return proxyActivities<Activities>({
    // The HTTP timeout fires first; the margin covers the bookkeeping around it.
    startToCloseTimeout: target.timeoutMs + 15_000,
    summary,
    retry: {
      maximumAttempts: target.retry.maximumAttempts,
      initialInterval: target.retry.initialIntervalMs,
      backoffCoefficient: target.retry.backoffCoefficient,
      maximumInterval: target.retry.maximumIntervalMs,
    },
  });
}

/** The message of the failure a remote gave, without Temporal's wrapping. */
function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return failureMessage(err.cause);
  if (err instanceof ApplicationFailure) return err.message;
  return err instanceof Error ? err.message : String(err);
}

async function runTarget(event: CompactEvent, target: Target): Promise<TargetOutcome> {
  const base = { deliveryId: target.deliveryId, connectorId: target.connectorId, purpose: target.purpose };
  try {
    if (target.purpose === 'ticket') {
      const where = target.container ? ` in ${target.container}` : '';
      const acts = targetActivities(
        target,
        `create ${KIND_LABEL[target.kind] ?? 'ticket'}${where} (${target.connectorName})`,
      );
      const ticket = await acts.createTicket({
        deliveryId: target.deliveryId,
        connectorId: target.connectorId,
        eventId: event.event_id,
        priority: target.priority ?? event.severity,
        timeoutMs: target.timeoutMs,
        maxRetryDelayMs: target.retry.maximumIntervalMs,
      });
      return { ...base, ok: true, ticketId: ticket.ticketId, externalId: ticket.externalId };
    }
    const acts = targetActivities(target, `deliver to ${target.kind} ${target.connectorName}`);
    await acts.deliverToSiem({
      deliveryId: target.deliveryId,
      connectorId: target.connectorId,
      eventId: event.event_id,
      maxRetryDelayMs: target.retry.maximumIntervalMs,
    });
    return { ...base, ok: true };
  } catch (err) {
    const error = failureMessage(err);
    log.warn('target failed', { connectorId: target.connectorId, error });
    await bookkeeping.markDeliveryFailed({
      deliveryId: target.deliveryId,
      eventId: event.event_id,
      connectorId: target.connectorId,
      error,
    });
    return { ...base, ok: false, error };
  }
}

/**
 * One run per violation (ID `violation-{event_id}`): plan the targets, then create tickets and
 * deliver events to every target in parallel; one target's failure never blocks another.
 */
export async function violationWorkflow(input: ViolationWorkflowInput): Promise<ViolationWorkflowResult> {
  const { event } = input;
  setCurrentDetails('planning targets');
  const plan = await bookkeeping.planViolation(event);
  upsertSearchAttributes([{ key: EscalateConnectors, value: plan.targets.map((t) => t.connectorId) }]);
  setCurrentDetails(`delivering to ${plan.targets.map((t) => t.connectorName).join(', ') || 'no target'}`);

  const outcomes = await Promise.all(plan.targets.map((t) => runTarget(event, t)));

  const keys = outcomes.flatMap((o) => (o.externalId ? [o.externalId] : []));
  if (keys.length) upsertSearchAttributes([{ key: EscalateTicketKeys, value: keys }]);
  const status = overallStatus(outcomes);
  await bookkeeping.completeViolation({ eventId: event.event_id, status });
  setCurrentDetails(`${status}: ${outcomes.filter((o) => o.ok).length}/${outcomes.length} targets done`);
  return { status, outcomes };
}
