import type { ConnectorKind } from './connector.js';
import type { NoticeType } from './notification.js';
import type { RetryPolicyMs } from './retry.js';
import type { Severity } from './severity.js';

export type DeliveryPurpose = 'ticket' | 'event' | 'notify';

/** One outside effect the workflow must carry out: a ticket in an ITSM, an event in a SIEM, a notification. */
export interface Target {
  deliveryId: string;
  connectorId: string;
  connectorName: string;
  kind: ConnectorKind;
  purpose: DeliveryPurpose;
  /** `notify` only: what the notification tells (the rest of the notice is on the delivery row). */
  notice?: NoticeType;
  retry: RetryPolicyMs;
  /** One HTTP call's timeout (a ticket attempt may make two: the lookup, then the create). */
  timeoutMs: number;
  /** Jira: an attempt may first wait this long for the search to settle (see settings.jira). */
  lookupSettleMs?: number;
  /** ITSM only: the severity word the ticket's priority comes from. */
  priority?: Severity;
  /** ITSM only: how the rule shapes the ticket and its lifecycle. */
  ticket?: TicketSpec;
  /** ITSM only, for the activity summary: "create Jira issue in SEC". */
  container?: string;
  /**
   * ITSM with a ticket spec: the claim, made while planning (runs planned before that claim in a
   * local activity of their own).
   */
  claim?: TicketClaim;
  /**
   * The attempts the delivery had when this run took it up: a first attempt run in the worker
   * that finds more was cut before its result was recorded (its worker died, its workflow task
   * failed) and is running again; it leaves the remote alone (absent from runs before this).
   */
  attemptsBefore?: number;
}

/**
 * What a delivery's first attempt, run in the worker, tells its activity (nothing on the attempts
 * after it, which run as a regular activity).
 */
export interface LocalFirstAttempt {
  /** A failure of this attempt is followed by more: it is not counted as the delivery's last. */
  retriedIfFailed?: boolean;
  /** The delivery's attempts when its run took it up: more means this attempt was cut and runs again. */
  firstAttemptAfter?: number;
}

/** Whether an event opens its ticket (`owner`) or recurs on an active one with its correlation key. */
export type TicketClaim =
  | { role: 'owner'; ticketId: string }
  | { role: 'recurrence'; ticketId: string; reopen: boolean; externalId: string | null };

/**
 * What a rule (or the default routing) asks of one ticket: the one shape from planning to the
 * ticket's creation and lifecycle.
 */
export interface TicketSpec {
  /** Absent when the default (auto_push) routing chose the connector. */
  ruleId?: string;
  ruleName?: string;
  /** The fields the correlation key is built from (runs planned before it was kept carry none). */
  correlateBy?: string[];
  correlationKey: string;
  assignee?: string;
  assignmentGroup?: string;
  projectKey?: string;
  issueType?: string;
  labels: string[];
  autoResolveAfterMs?: number;
  slaMs?: number;
  reopenWithinMs?: number;
}

/** One ticket the workflow must open (or correlate) on one ITSM connector. */
export interface TicketTarget {
  connectorId: string;
  /** The severity word the ticket's priority comes from. */
  priority: Severity;
  spec: TicketSpec;
}

export interface Decision {
  connector_id: string;
  connector_name: string;
  action: 'ticket' | 'deliver' | 'notify' | 'skip';
  reason: string;
}

export interface Plan {
  targets: Target[];
  decisions: Decision[];
  /** Chosen but not attempted (the connector is unavailable): recorded as failed deliveries. */
  unavailable?: TargetOutcome[];
  /**
   * What the connectors listening to this event (notification connectors, webhooks) are told of,
   * all together: the workflow asks for notifications only of these. Absent in runs planned
   * before notifications existed.
   */
  notifyOn?: NoticeType[];
}

export type ViolationStatus = 'processing' | 'completed' | 'partially_failed' | 'failed';

export interface TargetOutcome {
  deliveryId: string;
  connectorId: string;
  purpose: DeliveryPurpose;
  ok: boolean;
  ticketId?: string;
  /** The event joined an active ticket instead of opening one. */
  recurrence?: boolean;
  externalId?: string;
  error?: string;
}

/**
 * A violation's status comes from its tickets and events; a notification about it (told later,
 * perhaps by its ticket's workflow) never changes it.
 */
export function overallStatus(outcomes: Pick<TargetOutcome, 'ok' | 'purpose'>[]): ViolationStatus {
  const own = outcomes.filter((o) => o.purpose !== 'notify');
  if (own.length === 0 || own.every((o) => o.ok)) return 'completed';
  return own.some((o) => o.ok) ? 'partially_failed' : 'failed';
}
