/**
 * The Temporal contract: every workflow's ID, the messages it takes and how it is started, defined
 * once. Pure, so the workflows import it too; the client side (infra/workflow-client.ts) turns
 * these specs into calls, and no caller spells a workflow, signal or update name itself.
 */
import type {
  SearchAttributePair,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CompactEvent } from '../domain/event.js';
import { fitJsonBytes } from '../domain/json-text.js';
import type { RetryPolicyMs } from '../domain/retry.js';
import {
  EscalateEventType,
  EscalateSeverity,
  EscalateTicketKeys,
  EscalateTicketStatus,
} from '../domain/search-attributes.js';
import type { Severity } from '../domain/severity.js';
import type { TicketStatus, TransitionSource } from '../domain/ticket-status.js';

// ---------------------------------------------------------------------------------------------
// Workflow IDs: the subject of each workflow is readable from its ID.

const PREFIXES = {
  violation: ['violation-', 'event_id'],
  ticket: ['ticket-', 'ticket_id'],
  delivery: ['delivery-', 'delivery_id'],
  replay: ['replay-', 'replay_id'],
  connectorAction: ['connector-', 'connector_action'],
} as const;

export const violationWorkflowId = (eventId: string) => `${PREFIXES.violation[0]}${eventId}`;
export const ticketWorkflowId = (ticketId: string) => `${PREFIXES.ticket[0]}${ticketId}`;
export const deliveryWorkflowId = (deliveryId: string) => `${PREFIXES.delivery[0]}${deliveryId}`;
export const replayWorkflowId = (replayId: string) => `${PREFIXES.replay[0]}${replayId}`;
/** One run per request: an admin may test the same connector many times. */
export const connectorActionWorkflowId = (connectorId: string, action: string, requestId: string) =>
  `${PREFIXES.connectorAction[0]}${action}-${connectorId}-${requestId}`;

/** The ids a workflow ID carries, as log fields: `violation-{id}` → `{ event_id: id }`. */
export function idsFromWorkflowId(workflowId: string): Record<string, string> {
  for (const [prefix, field] of Object.values(PREFIXES))
    if (prefix !== PREFIXES.connectorAction[0] && workflowId.startsWith(prefix))
      return { [field]: workflowId.slice(prefix.length) };
  return {};
}

// ---------------------------------------------------------------------------------------------
// Workflow inputs

export interface ViolationWorkflowInput {
  event: CompactEvent;
  /** API key label that posted it (audit trail). */
  acceptedBy?: string;
}

export interface DeliveryWorkflowInput {
  deliveryId: string;
  /** Who asked (API key label), for the audit trail. */
  requestedBy: string;
  reason: 'manual' | 'replay';
}

export interface ReplayWorkflowInput {
  replayId: string;
  requestedBy: string;
  /** Deliveries are paged by id; carried across continue-as-new. */
  after?: string;
  concurrency?: number;
}

export type ConnectorAction = 'test' | 'install-template' | 'preview' | 'check';

export interface ConnectorActionInput {
  connectorId: string;
  action: ConnectorAction;
  requestedBy: string;
  /** `preview`: the stored violation whose ticket request is rendered. */
  eventId?: string;
}

/** The remote's verdict on a connector action; `ok: false` carries its error. */
export interface ConnectorActionResult {
  ok: boolean;
  action: ConnectorAction;
  connector_id: string;
  /** test_connection event sent (SIEM) or behind the test ticket (ITSM). */
  event_id?: string;
  external_id?: string;
  external_url?: string;
  http_status?: number;
  remote_code?: string;
  message: string;
  /** `preview`: the request a ticket creation would send, secrets masked. */
  request?: { method: string; url: string; headers: Record<string, string>; body?: string };
  /** `check`: each read-only step with its verdict (`ok` is true when all passed). */
  checks?: { name: string; ok: boolean; message: string }[];
}

/** What a TicketSyncWorkflow needs to follow its ticket (loaded from PostgreSQL, carried across continue-as-new). */
export interface TicketSyncInit {
  status: TicketStatus;
  created: boolean;
  externalId: string | null;
  connectorId: string;
  connectorName: string;
  kind: string;
  priority: Severity;
  recurrenceCount: number;
  slaBreached: boolean;
  /** Epoch ms. */
  slaDueAt?: number;
  autoResolveAfterMs?: number;
  /** Epoch ms of the last recurrence (or creation): the auto-resolve window starts there. */
  lastActivityAt: number;
  resolvedAt?: number;
  autoCloseAfterMs?: number;
  /** Recurrences are told at most once per this window (settings.notifications.recurrence_window). */
  recurrenceWindowMs?: number;
  /** The ITSM policy, for pushes and comments. */
  retry: RetryPolicyMs;
  timeoutMs: number;
}

export interface TicketSyncInput {
  ticketId: string;
  /** Carried across continue-as-new. */
  carried?: { init: TicketSyncInit; state: TicketSyncState };
}

// ---------------------------------------------------------------------------------------------
// Ticket workflow messages

export interface StatusChange {
  status: TicketStatus;
  source: TransitionSource;
  /** API key label, `itsm:<connector>`, `system`. */
  actor: string;
  note?: string;
}

export interface StatusChangeResult {
  status: TicketStatus;
  changed: boolean;
}

export interface Recurrence {
  eventId: string;
  /** The ticket was resolved less than `reopen_within` ago: reopen it. */
  reopen: boolean;
}

export interface TicketComment {
  text: string;
  actor: string;
}

export interface TicketTransitionRecord {
  from: TicketStatus;
  to: TicketStatus;
  source: TransitionSource;
  at: string;
}

export interface TicketSyncState {
  ticketId: string;
  status: TicketStatus;
  created: boolean;
  recurrenceCount: number;
  slaBreached: boolean;
  /** Epoch ms of the next deadlines, if armed. */
  autoResolveAt?: number;
  slaDueAt?: number;
  autoCloseAt?: number;
  /** Recurrences not told yet, the start of their window (epoch ms) and when they are told. */
  untoldRecurrences?: number;
  recurrenceWindowStart?: number;
  recurrenceSummaryAt?: number;
  /** The most recent transitions (the full history is in PostgreSQL). */
  transitions: TicketTransitionRecord[];
}

/**
 * How long a ticket just created can sleep before its run first looks at it: until its earliest
 * deadline (SLA, auto-resolve), as the run itself would compute it (0: none, start now). Called
 * by the client that starts the run, so `now` is the real clock, not workflow time.
 */
export function firstWakeDelayMs(init: TicketSyncInit, now = Date.now()): number {
  const deadlines: number[] = [];
  const active = init.status === 'open' || init.status === 'in_progress';
  if (active && init.autoResolveAfterMs) deadlines.push(init.lastActivityAt + init.autoResolveAfterMs);
  if (init.status === 'open' && !init.slaBreached && init.slaDueAt) deadlines.push(init.slaDueAt);
  if (!init.created || !active || deadlines.length === 0) return 0;
  return Math.max(0, Math.min(...deadlines) - now);
}

/** A ticket workflow's state as loaded from `init` (what the run itself does when it loads). */
export const ticketStateFrom = (ticketId: string, init: TicketSyncInit): TicketSyncState => ({
  ticketId,
  status: init.status,
  created: init.created,
  recurrenceCount: init.recurrenceCount,
  slaBreached: init.slaBreached,
  transitions: [],
});

/** Status changes (ITSM webhook, API): the validator refuses transitions the table forbids. */
export const setStatusUpdate = defineUpdate<StatusChangeResult, [StatusChange]>('setStatus');
export const recurrenceSignal = defineSignal<[Recurrence]>('recurrence');
export const commentSignal = defineSignal<[TicketComment]>('comment');
/** The remote ticket exists (sent by the violation that created it). */
export const createdSignal = defineSignal('created');
/** Creation failed for good: the claim is released and the workflow ends. */
export const abandonedSignal = defineSignal('abandoned');
export const stateQuery = defineQuery<TicketSyncState>('state');

// ---------------------------------------------------------------------------------------------
// How each workflow is started

/**
 * A start, minus the task queue (the client adds it). `workflowType` names the exported workflow
 * function; test/unit/contract.test.ts checks every name against workflows/index.ts.
 */
export interface StartSpec<Args extends unknown[]> {
  workflowType: string;
  options: {
    workflowId: string;
    args: Args;
    workflowIdReusePolicy: WorkflowIdReusePolicy;
    workflowIdConflictPolicy?: WorkflowIdConflictPolicy;
    typedSearchAttributes?: SearchAttributePair[];
    staticSummary: string;
    staticDetails?: string;
    /** ms before the first workflow task (an Update-with-start or a signal-with-start wakes it sooner). */
    startDelay?: number;
  };
}

/**
 * Temporal servers refuse a start whose static summary payload exceeds 400 bytes
 * (`limit.userMetadataSummarySize`, counted on the serialised payload) or whose details exceed
 * 20,000 (`limit.userMetadataDetailsSize`). The budgets, in bytes of the JSON-encoded text, leave
 * room for the payload's own metadata and for an encrypting payload codec.
 */
export const SUMMARY_MAX_BYTES = 256;
export const DETAILS_MAX_BYTES = 16_000;
const summaryText = (s: string) => fitJsonBytes(s, SUMMARY_MAX_BYTES);

const oneLine = (s: string, max: number) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/**
 * "critical policy_violation — max-tokens exceeded — alice@example.com", within SUMMARY_MAX_BYTES.
 * `redacted` (payload encryption on): no free text and no personal data, "critical
 * policy_violation — policy pol-max-tokens (block)".
 */
export function violationSummary(e: CompactEvent, redacted = false): string {
  if (redacted) {
    const policy = e.policy?.id ? `policy ${e.policy.id} (${e.policy.action ?? 'no action'})` : undefined;
    return summaryText([`${e.severity} ${e.event_type}`, policy].filter(Boolean).join(' — '));
  }
  return summaryText(
    [`${e.severity} ${e.event_type}`, oneLine(e.summary, 120), e.user_email].filter(Boolean).join(' — '),
  );
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
  return fitJsonBytes(lines.join('\n'), DETAILS_MAX_BYTES);
}

/**
 * `violation-{event_id}`: never started twice, whether the first run is running or finished.
 * `redacted` summaries when the starter encrypts payloads.
 */
export const violationStart = (
  event: CompactEvent,
  acceptedBy: string,
  opts: { redacted?: boolean } = {},
): StartSpec<[ViolationWorkflowInput]> => ({
  workflowType: 'violationWorkflowV2',
  options: {
    workflowId: violationWorkflowId(event.event_id),
    args: [{ event, acceptedBy }],
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [
      { key: EscalateEventType, value: event.event_type },
      { key: EscalateSeverity, value: event.severity },
    ],
    staticSummary: violationSummary(event, opts.redacted),
    staticDetails: violationDetails(event, opts.redacted),
  },
});

/** What the ticket workflow's start shows: the same however it is started. */
export interface TicketFacts {
  id: string;
  eventId: string;
  kind: string;
  severity: string;
  priority: string;
  status: string;
  externalId: string | null;
}

/**
 * `ticket-{ticket_id}`, started by whichever comes first: the violation that created the ticket,
 * a recurrence, or a status change from the API or a webhook. A finished run is never revived.
 */
export function ticketStart(t: TicketFacts, init?: TicketSyncInit): StartSpec<[TicketSyncInput]> {
  // Started by its creator, the run has nothing to do before its first deadline (an Update or a
  // signal-with-start wakes it sooner): no workflow task until then, none queued in a storm.
  const sleepMs = init ? firstWakeDelayMs(init) : 0;
  return {
    workflowType: 'ticketSyncWorkflow',
    options: {
      ...(sleepMs > 0 ? { startDelay: sleepMs } : {}),
      workflowId: ticketWorkflowId(t.id),
      // The creator knows the ticket as just recorded: the run starts from it instead of loading it.
      args: [
        init ? { ticketId: t.id, carried: { init, state: ticketStateFrom(t.id, init) } } : { ticketId: t.id },
      ],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'USE_EXISTING',
      // The remote key too when known: the run then has no upsert of its own to make.
      typedSearchAttributes: [
        { key: EscalateSeverity, value: t.severity },
        { key: EscalateTicketStatus, value: t.status },
        ...(t.externalId ? [{ key: EscalateTicketKeys, value: [t.externalId] }] : []),
      ],
      staticSummary: summaryText(
        `${t.priority} ${t.kind} ticket ${t.externalId ?? '(being created)'} for ${t.eventId}`,
      ),
    },
  };
}

/** `delivery-{id}`: a manual push or replay; joins the run in progress, may run again later. */
export const deliveryStart = (
  input: DeliveryWorkflowInput,
  summary: string,
): StartSpec<[DeliveryWorkflowInput]> => ({
  workflowType: 'deliveryWorkflow',
  options: {
    workflowId: deliveryWorkflowId(input.deliveryId),
    args: [input],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: summaryText(summary),
  },
});

export const replayStart = (input: ReplayWorkflowInput, total: number): StartSpec<[ReplayWorkflowInput]> => ({
  workflowType: 'replayWorkflow',
  options: {
    workflowId: replayWorkflowId(input.replayId),
    args: [input],
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    staticSummary: summaryText(`bulk replay of ${total} deliveries requested by ${input.requestedBy}`),
  },
});

export const connectorActionStart = (
  input: ConnectorActionInput,
  requestId: string,
): StartSpec<[ConnectorActionInput]> => ({
  workflowType: 'connectorActionWorkflow',
  options: {
    workflowId: connectorActionWorkflowId(input.connectorId, input.action, requestId),
    args: [input],
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    staticSummary: summaryText(`${input.action} connector ${input.connectorId}`),
  },
});
