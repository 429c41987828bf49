/**
 * How escalate's ticket statuses meet each ITSM's own: Jira status categories and ServiceNow
 * `state` values, both ways. Pure: the webhooks read inbound statuses with it, the connectors
 * choose outbound transitions and states with it.
 */
import type { TicketStatus } from './ticket-status.js';

/** Jira status category keys (`undefined` is Jira's "No Category"). */
export type JiraStatusCategory = 'new' | 'indeterminate' | 'done';

/** The status category an escalate status lives in on the Jira side. */
export const JIRA_CATEGORY_FOR_STATUS: Readonly<Record<TicketStatus, JiraStatusCategory>> = {
  open: 'new',
  in_progress: 'indeterminate',
  resolved: 'done',
  closed: 'done',
};

/** Inbound: status category → escalate status (a `done` issue is resolved; closing is ours). */
export const STATUS_FOR_JIRA_CATEGORY: Readonly<Record<JiraStatusCategory, TicketStatus>> = {
  new: 'open',
  indeterminate: 'in_progress',
  done: 'resolved',
};

const lower = (s: string): string => s.trim().toLowerCase();

/**
 * The escalate status a `jira:issue_updated` webhook's issue is in: a per-connector override by
 * status name first (case-insensitive), else by status category (new→open,
 * indeterminate→in_progress, done→resolved). Undefined when neither applies.
 */
export function jiraStatusFromWebhook(
  issue: { fields?: { status?: { name?: string; statusCategory?: { key?: string } } } } | undefined,
  overrides?: Record<string, TicketStatus>,
): TicketStatus | undefined {
  const status = issue?.fields?.status;
  if (!status) return undefined;
  if (overrides && typeof status.name === 'string') {
    const name = lower(status.name);
    for (const [key, value] of Object.entries(overrides)) if (lower(key) === name) return value;
  }
  const key = status.statusCategory?.key;
  return typeof key === 'string' && Object.hasOwn(STATUS_FOR_JIRA_CATEGORY, key)
    ? STATUS_FOR_JIRA_CATEGORY[key as JiraStatusCategory]
    : undefined;
}

/** Incident `state` choices: 1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed, 8 Canceled. */
export const SERVICENOW_STATE = {
  fromStatus: { open: '1', in_progress: '2', resolved: '6', closed: '7' } as const satisfies Record<
    TicketStatus,
    string
  >,
  toStatus: {
    '1': 'open',
    '2': 'in_progress',
    '3': 'in_progress',
    '6': 'resolved',
    '7': 'closed',
    '8': 'closed',
  } as const satisfies Record<string, TicketStatus>,
};

/** Inbound state (string or number, as webhooks send either) → escalate status; undefined if unmapped. */
export function statusFromServiceNowState(state: string | number): TicketStatus | undefined {
  const key = String(state).trim();
  return Object.hasOwn(SERVICENOW_STATE.toStatus, key)
    ? SERVICENOW_STATE.toStatus[key as keyof typeof SERVICENOW_STATE.toStatus]
    : undefined;
}
