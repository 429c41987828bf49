/**
 * How escalate's ticket statuses meet each ITSM's own: Jira status categories and ServiceNow
 * `state` values, both ways. Pure: the webhooks read inbound statuses with it, the connectors
 * choose outbound transitions and states with it.
 */
import { TICKET_STATUSES, type TicketStatus } from './ticket-status.js';

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

/**
 * A ServiceNow table's `state` values per escalate status: the first is sent outbound, all are
 * read inbound (so extra values such as On Hold or Canceled map to one of our four statuses).
 */
export type ServiceNowStateMap = Readonly<Record<TicketStatus, readonly string[]>>;

/**
 * Built-in maps. `incident`: 1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed, 8 Canceled.
 * `sn_si_incident` (Security Incident Response): 10 Draft, 16 Analysis, 18 Contain, 19 Eradicate,
 * 20 Recover, 100 Review, 3 Closed, 7 Cancelled. Other tables start from the incident map.
 */
export const SERVICENOW_TABLE_STATES: Readonly<Record<string, ServiceNowStateMap>> = {
  incident: { open: ['1'], in_progress: ['2', '3'], resolved: ['6'], closed: ['7', '8'] },
  sn_si_incident: {
    open: ['10'],
    in_progress: ['16', '18', '19', '20'],
    resolved: ['100'],
    closed: ['3', '7'],
  },
};

/** The connector's map: its `state_map` entries over the table's built-in one. */
export function serviceNowStateMap(
  table: string,
  overrides?: Partial<Record<TicketStatus, string | readonly string[]>>,
): ServiceNowStateMap {
  const base = SERVICENOW_TABLE_STATES[table] ?? SERVICENOW_TABLE_STATES.incident!;
  const merged = { ...base };
  for (const [status, values] of Object.entries(overrides ?? {}) as [TicketStatus, string | string[]][]) {
    merged[status] = typeof values === 'string' ? [values] : values;
  }
  return merged;
}

/** The `state` value sent to move a record to `status`. */
export const serviceNowStateFor = (map: ServiceNowStateMap, status: TicketStatus): string => map[status][0]!;

/**
 * Inbound state (string or number, as webhooks send either) → escalate status; undefined if the
 * map does not know it. A value listed under two statuses reads as the first in status order.
 */
export function statusFromServiceNowState(
  map: ServiceNowStateMap,
  state: string | number,
): TicketStatus | undefined {
  const key = String(state).trim();
  return TICKET_STATUSES.find((status) => map[status].includes(key));
}

/** Every state value the map reads, for error messages. */
export const knownServiceNowStates = (map: ServiceNowStateMap): string[] => [
  ...new Set(TICKET_STATUSES.flatMap((status) => map[status])),
];
