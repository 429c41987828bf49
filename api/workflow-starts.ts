import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { CompactEvent } from '../domain/event.js';
import { EscalateEventType, EscalateSeverity } from '../domain/search-attributes.js';
import { fitJsonBytes } from '../domain/utf8.js';
import type { deliveryWorkflow } from '../workflows/delivery.js';
import type { violationWorkflow } from '../workflows/violation.js';

/** How long a request waits for Temporal to acknowledge a start before answering 503. */
const START_DEADLINE_MS = 5_000;

/**
 * Temporal servers refuse a start whose static summary payload exceeds 400 bytes
 * (`limit.userMetadataSummarySize`, counted on the serialised payload) and whose details exceed
 * 20,000 (`limit.userMetadataDetailsSize`). The text budgets leave room for the payload's own
 * metadata and for an encrypting payload codec.
 */
export const SUMMARY_MAX_BYTES = 256;
export const DETAILS_MAX_BYTES = 16_000;

export const violationWorkflowId = (eventId: string) => `violation-${eventId}`;

const oneLine = (s: string, max: number) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** "critical policy_violation — max-tokens exceeded — alice@example.com", within SUMMARY_MAX_BYTES. */
export function violationSummary(e: CompactEvent): string {
  const text = [`${e.severity} ${e.event_type}`, oneLine(e.summary, 120), e.user_email]
    .filter(Boolean)
    .join(' — ');
  return fitJsonBytes(text, SUMMARY_MAX_BYTES);
}

function violationDetails(e: CompactEvent): string {
  const lines = [`**${e.severity}** ${e.event_type}: ${oneLine(e.summary, 400)}`, ''];
  if (e.policy?.name || e.policy?.id)
    lines.push(`- policy: ${e.policy.name ?? e.policy.id} (${e.policy.action ?? 'no action'})`);
  if (e.user_email) lines.push(`- user: ${e.user_email}`);
  if (e.model) lines.push(`- model: ${e.provider ? `${e.provider}/` : ''}${e.model}`);
  if (e.risk_score !== undefined) lines.push(`- risk score: ${e.risk_score}`);
  lines.push(`- event id: ${e.event_id}`, `- occurred at: ${e.occurred_at}`);
  return fitJsonBytes(lines.join('\n'), DETAILS_MAX_BYTES);
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
        staticSummary: violationSummary(event),
        staticDetails: violationDetails(event),
      }),
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return workflowId;
}

/** gRPC INVALID_ARGUMENT: the server refused the request itself; retrying it cannot help. */
const GRPC_INVALID_ARGUMENT = 3;

/**
 * The server's reason when it refused a request as invalid (gRPC INVALID_ARGUMENT), else
 * undefined. The client's ServiceError carries the gRPC error (`code`, `details`) as its cause.
 */
export function temporalRejection(err: unknown): string | undefined {
  for (
    let e = err as { code?: unknown; details?: unknown; message?: unknown; cause?: unknown } | undefined;
    e;
  ) {
    if (e.code === GRPC_INVALID_ARGUMENT)
      return typeof e.details === 'string' && e.details ? e.details : String(e.message);
    e = e.cause as typeof e;
  }
  return undefined;
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
