/**
 * What a notification says, platform-neutral: connectors render it as Block Kit (Slack), an
 * Adaptive Card (Teams) or JSON (webhook receivers). Pure: built from what PostgreSQL holds about
 * the notice's violation, ticket and failed delivery.
 */
import type { CompactEvent } from './event.js';
import { type Notice, publicNotice } from './notification.js';
import type { Severity } from './severity.js';

export type MessageType = Notice['type'] | 'test';

export interface NotificationMessage {
  type: MessageType;
  severity: Severity;
  /** One line: "Jira SEC-12 opened: critical policy_violation". */
  title: string;
  /** The violation's summary. */
  summary: string;
  facts: { label: string; value: string }[];
  /** What happened beyond the facts: the recurrence count, the last error, how to replay. */
  notes: string[];
  links: { label: string; url: string }[];
  /** The ticket this message is about (Slack threads hang off it). */
  ticketId?: string;
  /** Machine-readable, for webhook receivers. */
  data: Record<string, unknown>;
}

export interface MessageTicket {
  id: string;
  kind: string;
  externalId: string | null;
  externalUrl: string | null;
  status: string;
  priority: string;
}

export interface MessageFailure {
  deliveryId: string;
  connectorId: string;
  connectorName: string;
  kind: string;
  purpose: string;
  attempts: number;
  lastError: string | null;
}

export interface MessageInput {
  notice: Notice | { type: 'test' };
  event: CompactEvent;
  ticket?: MessageTicket;
  failure?: MessageFailure;
  /** escalate's public base URL (settings.public_url): links to the violation's console page. */
  publicUrl?: string;
}

const ITSM_LABEL: Record<string, string> = { jira: 'Jira', servicenow: 'ServiceNow' };

const ticketName = (t: MessageTicket) =>
  `${ITSM_LABEL[t.kind] ?? t.kind} ${t.externalId ?? `ticket ${t.id.slice(0, 8)}`}`;

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function titleOf(input: MessageInput): string {
  const { notice, event, ticket, failure } = input;
  const name = ticket ? ticketName(ticket) : 'ticket';
  switch (notice.type) {
    case 'ticket_created':
      return `${name} opened: ${event.severity} ${event.event_type}`;
    case 'recurrence':
      return `${name}: ${plural(notice.count, 'recurrence')}`;
    case 'status_changed':
      return `${name}: ${notice.from} → ${notice.to}`;
    case 'sla_breached':
      return `${name}: SLA breached`;
    case 'delivery_failed':
      return `Delivery to ${failure?.connectorName ?? 'a connector'} failed for good`;
    case 'test':
      return 'escalate connection test';
  }
}

function notesOf(input: MessageInput): string[] {
  const { notice, ticket, failure } = input;
  switch (notice.type) {
    case 'recurrence':
      return [
        `${plural(notice.count, 'more violation')} joined ${ticket ? ticketName(ticket) : 'the ticket'} since ${new Date(notice.since).toISOString()}`,
      ];
    case 'status_changed':
      return [`changed by ${notice.source}`];
    case 'sla_breached':
      return [
        `still open at its SLA deadline: priority raised from ${notice.previous} to ${notice.priority}`,
      ];
    case 'delivery_failed':
      if (!failure) return [];
      return [
        `${failure.purpose === 'ticket' ? 'ticket creation' : failure.purpose === 'notify' ? 'notification' : 'event delivery'} to ${failure.connectorName} (${failure.kind}) failed after ${plural(failure.attempts, 'attempt')}`,
        `last error: ${failure.lastError ?? 'none recorded'}`,
        `replay: POST /v1/deliveries/${failure.deliveryId}/replay, or npx escalate replay --status failed --connector ${failure.connectorId}`,
      ];
    case 'test':
      return ['a test from escalate: safe to ignore'];
    default:
      return [];
  }
}

function factsOf(input: MessageInput): NotificationMessage['facts'] {
  const { event, ticket } = input;
  const facts: NotificationMessage['facts'] = [
    { label: 'Severity', value: event.severity },
    { label: 'Event type', value: event.event_type },
  ];
  if (event.user_email) facts.push({ label: 'User', value: event.user_email });
  const policy = event.policy?.name ?? event.policy?.id;
  if (policy)
    facts.push({
      label: 'Policy',
      value: event.policy?.action ? `${policy} (${event.policy.action})` : policy,
    });
  if (event.platform_id) facts.push({ label: 'Platform', value: event.platform_id });
  if (event.source) facts.push({ label: 'Source', value: event.source });
  if (ticket) {
    facts.push({ label: 'Ticket', value: `${ticketName(ticket)} (${ticket.status})` });
    facts.push({ label: 'Priority', value: ticket.priority });
  }
  facts.push({ label: 'Event id', value: event.event_id });
  return facts;
}

function linksOf(input: MessageInput): NotificationMessage['links'] {
  const links: NotificationMessage['links'] = [];
  const { ticket, event, publicUrl } = input;
  if (ticket?.externalUrl)
    links.push({
      label: `Open ${ticket.externalId ?? 'ticket'} in ${ITSM_LABEL[ticket.kind] ?? ticket.kind}`,
      url: ticket.externalUrl,
    });
  // The console's page (sign-in first, then back to it), not the API's JSON that needs a key.
  if (publicUrl) links.push({ label: 'View violation', url: `${publicUrl}/ui/violations/${event.event_id}` });
  return links;
}

function dataOf(input: MessageInput): Record<string, unknown> {
  const { notice, event, ticket, failure } = input;
  const { type: _type, ...details } = publicNotice(notice as Notice);
  return {
    notice: notice.type,
    details,
    violation: {
      event_id: event.event_id,
      event_type: event.event_type,
      severity: event.severity,
      summary: event.summary,
      occurred_at: event.occurred_at,
      user_email: event.user_email ?? null,
      policy: event.policy ?? null,
      platform_id: event.platform_id ?? null,
    },
    ticket: ticket
      ? {
          id: ticket.id,
          kind: ticket.kind,
          external_id: ticket.externalId,
          external_url: ticket.externalUrl,
          status: ticket.status,
          priority: ticket.priority,
        }
      : null,
    failed_delivery: failure
      ? {
          id: failure.deliveryId,
          connector_id: failure.connectorId,
          connector_name: failure.connectorName,
          kind: failure.kind,
          purpose: failure.purpose,
          attempts: failure.attempts,
          last_error: failure.lastError,
          replay: { method: 'POST', path: `/v1/deliveries/${failure.deliveryId}/replay` },
        }
      : null,
  };
}

export function buildNotificationMessage(input: MessageInput): NotificationMessage {
  return {
    type: input.notice.type,
    severity: input.event.severity,
    title: titleOf(input),
    summary: input.event.summary,
    facts: factsOf(input),
    notes: notesOf(input),
    links: linksOf(input),
    ticketId: input.ticket?.id,
    data: dataOf(input),
  };
}
