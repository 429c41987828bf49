import type { ConnectorKind } from './connector.js';
import type { RetryPolicyMs } from './retry.js';
import type { Severity } from './severity.js';

/** One outside effect the workflow must carry out: a ticket in an ITSM or an event in a SIEM. */
export interface Target {
  deliveryId: string;
  connectorId: string;
  connectorName: string;
  kind: ConnectorKind;
  purpose: 'ticket' | 'event';
  retry: RetryPolicyMs;
  timeoutMs: number;
  /** ITSM only: the severity word the ticket's priority comes from. */
  priority?: Severity;
  /** ITSM only: how the rule shapes the ticket and its lifecycle. */
  ticket?: TicketSpec;
  /** ITSM only, for the activity summary: "create Jira issue in SEC". */
  container?: string;
}

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
  action: 'ticket' | 'deliver' | 'skip';
  reason: string;
}

export interface Plan {
  targets: Target[];
  decisions: Decision[];
}

export type ViolationStatus = 'processing' | 'completed' | 'partially_failed' | 'failed';

export interface TargetOutcome {
  deliveryId: string;
  connectorId: string;
  purpose: 'ticket' | 'event';
  ok: boolean;
  ticketId?: string;
  /** The event joined an active ticket instead of opening one. */
  recurrence?: boolean;
  externalId?: string;
  error?: string;
}

export function overallStatus(outcomes: TargetOutcome[]): ViolationStatus {
  if (outcomes.length === 0 || outcomes.every((o) => o.ok)) return 'completed';
  return outcomes.some((o) => o.ok) ? 'partially_failed' : 'failed';
}
