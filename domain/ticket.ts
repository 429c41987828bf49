import type { ViolationEvent } from './event.js';
import type { Severity } from './severity.js';

/**
 * Platform-neutral ticket content. Connectors render it as ADF (Jira Cloud), wiki text
 * (Jira Data Center) or plain text (ServiceNow).
 */
export interface TicketDraft {
  eventId: string;
  /** Carried by every ticket so a retried create can find the one a lost response hid. */
  idempotencyKey: string;
  title: string;
  severity: Severity;
  /** The severity word the ticket's priority comes from (a rule may override it). */
  priority: Severity;
  /** Readable "label: value" lines shown above the payload. */
  facts: [string, string][];
  /** Replaces the default readable summary when a description template is configured. */
  descriptionText?: string;
  payload: Record<string, unknown>;
  labels: string[];
  /** Rendered custom fields (`customfield_NNNNN` / `u_*`). */
  customFields: Record<string, string>;
  projectKey?: string;
  issueType?: string;
  assignee?: string;
  assignmentGroup?: string;
  /** Jira component names (rendered from the connector's `components`). */
  components?: string[];
}

/** Where a created (or adopted) ticket lives in the ITSM. */
export interface TicketRef {
  /** Jira key or ServiceNow number. */
  externalId: string;
  externalUrl: string;
  /** Jira numeric id. */
  remoteId?: string;
  /** ServiceNow sys_id. */
  sysId?: string;
  /** True when a lost earlier create was found by its idempotency key instead of created again. */
  adopted: boolean;
}

export const MAX_TITLE = 255;
export const MAX_DESCRIPTION = 32_767;

export const defaultTitle = (event: Pick<ViolationEvent, 'event_type' | 'summary'>): string =>
  `[escalate] ${event.event_type}: ${event.summary}`;

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1)}…`;
}

/** Titles are single-line: Jira refuses newlines in summary. */
export const singleLine = (text: string): string => text.replace(/[\r\n\t]+/g, ' ').trim();

/** Jira labels cannot contain spaces. */
export const safeLabel = (label: string): string => label.trim().replace(/\s+/g, '-').slice(0, 255);

export function eventFacts(event: ViolationEvent, severity: Severity): [string, string][] {
  const facts: [string, string][] = [
    ['Event', event.event_type],
    ['Severity', severity],
  ];
  if (event.risk_score !== undefined) facts.push(['Risk score', String(event.risk_score)]);
  facts.push(['Summary', event.summary]);
  if (event.user_email) facts.push(['User', event.user_email]);
  if (event.policy?.name || event.policy?.id) {
    const action = event.policy.action ? ` (${event.policy.action})` : '';
    facts.push(['Policy', `${event.policy.name ?? event.policy.id}${action}`]);
  }
  if (event.model) facts.push(['Model', event.provider ? `${event.provider}/${event.model}` : event.model]);
  if (event.source) facts.push(['Source', event.source]);
  if (event.platform_id) facts.push(['Platform', event.platform_id]);
  if (event.classifications?.length)
    facts.push(['Classifications', event.classifications.map((c) => c.type).join(', ')]);
  if (event.occurred_at) facts.push(['Occurred at', event.occurred_at]);
  facts.push(['Event ID', event.event_id]);
  return facts;
}

/** Pretty JSON, cut to fit the description budget with a visible marker. */
export function payloadJson(payload: unknown, budget: number): string {
  const json = JSON.stringify(payload, null, 2);
  if (json.length <= budget) return json;
  const marker = '\n… (payload truncated; full event in escalate)';
  return json.slice(0, Math.max(0, budget - marker.length)) + marker;
}
