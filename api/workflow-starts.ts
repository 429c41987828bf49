import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { CompactEvent } from '../domain/event.js';
import { EscalateEventType, EscalateSeverity } from '../domain/search-attributes.js';
import { encryptsPayloads } from '../infra/payload-codec.js';
import type { deliveryWorkflow } from '../workflows/delivery.js';
import type { violationWorkflow } from '../workflows/violation.js';

/** How long a request waits for Temporal to acknowledge a start before answering 503. */
const START_DEADLINE_MS = 5_000;

export const violationWorkflowId = (eventId: string) => `violation-${eventId}`;

const oneLine = (s: string, max: number) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/**
 * "critical policy_violation — max-tokens exceeded — alice@example.com". With payload encryption
 * on (`redacted`), no free text and no personal data: "critical policy_violation — policy
 * pol-max-tokens (block)".
 */
export function violationSummary(e: CompactEvent, redacted = false): string {
  if (redacted) {
    const policy = e.policy?.id ? `policy ${e.policy.id} (${e.policy.action ?? 'no action'})` : undefined;
    return [`${e.severity} ${e.event_type}`, policy].filter(Boolean).join(' — ');
  }
  return [`${e.severity} ${e.event_type}`, oneLine(e.summary, 120), e.user_email].filter(Boolean).join(' — ');
}

/** The run's details in the Web UI; `redacted` as for the summary (ids, no text, no user). */
export function violationDetails(e: CompactEvent, redacted = false): string {
  const lines = [
    redacted
      ? `**${e.severity}** ${e.event_type}`
      : `**${e.severity}** ${e.event_type}: ${oneLine(e.summary, 400)}`,
    '',
  ];
  const policy = redacted ? e.policy?.id : (e.policy?.name ?? e.policy?.id);
  if (policy) lines.push(`- policy: ${policy} (${e.policy?.action ?? 'no action'})`);
  if (e.user_email && !redacted) lines.push(`- user: ${e.user_email}`);
  if (e.model) lines.push(`- model: ${e.provider ? `${e.provider}/` : ''}${e.model}`);
  if (e.risk_score !== undefined) lines.push(`- risk score: ${e.risk_score}`);
  lines.push(`- event id: ${e.event_id}`, `- occurred at: ${e.occurred_at}`);
  return lines.join('\n');
}

/**
 * Starts `violation-{event_id}` and resolves once Temporal has acknowledged it. Idempotent: a run
 * that exists (running or finished) is never started twice.
 */
export async function startViolationWorkflow(
  client: Client,
  taskQueue: string,
  event: CompactEvent,
  acceptedBy: string,
): Promise<string> {
  const workflowId = violationWorkflowId(event.event_id);
  const redacted = encryptsPayloads(client);
  try {
    // Answer 503 within seconds when Temporal is down, instead of the client's long retry loop.
    await client.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      client.workflow.start<typeof violationWorkflow>('violationWorkflow', {
        workflowId,
        taskQueue,
        args: [{ event, acceptedBy }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: EscalateEventType, value: event.event_type },
          { key: EscalateSeverity, value: event.severity },
        ],
        staticSummary: violationSummary(event, redacted),
        staticDetails: violationDetails(event, redacted),
      }),
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return workflowId;
}

export const deliveryWorkflowId = (deliveryId: string) => `delivery-${deliveryId}`;

/** Runs (or joins the running) manual push / replay of one delivery. */
export async function startDeliveryWorkflow(
  client: Client,
  taskQueue: string,
  input: { deliveryId: string; requestedBy: string; reason: 'manual' | 'replay' },
  summary: string,
): Promise<string> {
  const workflowId = deliveryWorkflowId(input.deliveryId);
  await client.workflow.start<typeof deliveryWorkflow>('deliveryWorkflow', {
    workflowId,
    taskQueue,
    args: [input],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: summary,
  });
  return workflowId;
}
