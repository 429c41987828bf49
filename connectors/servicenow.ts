import type { ServiceNowConfig } from '../domain/connector.js';
import { serviceNowStateFor, serviceNowStateMap } from '../domain/itsm-status.js';
import type { Severity } from '../domain/severity.js';
import {
  MAX_DESCRIPTION,
  payloadJson,
  singleLine,
  type TicketDraft,
  type TicketRef,
  truncate,
} from '../domain/ticket.js';
import type { TicketStatus } from '../domain/ticket-status.js';
import { ConnectorError, errorFromResponse, type HttpRequest, type HttpResponse, parseJson } from './http.js';
import { serviceNowPreviewAuthorization, serviceNowSend, withAuthorization } from './servicenow-client.js';

/**
 * ServiceNow Table API connector (`/api/now/table/{table}`): create with lookup-first idempotency on
 * `correlation_id`, state updates and work notes. Pure HTTP; activities map ConnectorError to Temporal.
 */

export type ServiceNowLevel = '1' | '2' | '3';

export const DEFAULT_URGENCY_IMPACT: Record<Severity, { urgency: ServiceNowLevel; impact: ServiceNowLevel }> =
  {
    critical: { urgency: '1', impact: '1' },
    high: { urgency: '2', impact: '2' },
    medium: { urgency: '2', impact: '3' },
    low: { urgency: '3', impact: '3' },
  };

/** ServiceNow's default max_length for `incident.short_description`. */
export const MAX_SHORT_DESCRIPTION = 160;

/** A close code every stock instance defines (Utah and later); override with the connector's `close_code`. */
export const DEFAULT_CLOSE_CODE = 'Solution provided';

export interface ServiceNowPatch {
  state?: string;
  close_code?: string;
  close_notes?: string;
  work_notes?: string;
  urgency?: ServiceNowLevel;
  impact?: ServiceNowLevel;
  priority?: string;
  severity?: string;
}

/** What a table needs that escalate knows about: when close fields are mandatory, default severities. */
interface TableProfile {
  /** Statuses whose state needs `close_code` + `close_notes` (the table's data policy). */
  closeOn: readonly TicketStatus[];
  defaultCloseCode?: string;
  /** `severity` values by escalate severity, when the table has a severity field. */
  severity?: Record<Severity, string>;
}

const TABLE_PROFILES: Record<string, TableProfile> = {
  incident: { closeOn: ['resolved', 'closed'], defaultCloseCode: DEFAULT_CLOSE_CODE },
  // Security incidents: closure information on Closed only; severity 1 High, 2 Medium, 3 Low.
  sn_si_incident: {
    closeOn: ['closed'],
    severity: { critical: '1', high: '1', medium: '2', low: '3' },
  },
};

/** A table whose data policy needs a close code that has no default: the admin must name one. */
const missingCloseCode = (config: ServiceNowConfig, status: TicketStatus) =>
  new ConnectorError(
    `${config.table} needs close_code and close_notes to become ${status}: set the connector's close_code to one of the instance's close codes`,
    { retryable: false, remoteCode: 'close_code_missing' },
  );

/** Whether moving to `status` would need a close code the connector does not have. */
export function closeCodeMissing(config: ServiceNowConfig): TicketStatus | undefined {
  const profile = tableProfile(config);
  if (config.close_code || profile.defaultCloseCode) return undefined;
  return profile.closeOn[0];
}

/** Known tables by their profile; another table sends close fields only when `close_code` is configured. */
function tableProfile(config: ServiceNowConfig): TableProfile {
  return TABLE_PROFILES[config.table] ?? { closeOn: config.close_code ? ['resolved', 'closed'] : [] };
}

export interface ServiceNowRecordRef {
  sysId: string;
  number: string;
  state?: string;
}

const tableUrl = (config: ServiceNowConfig): string =>
  `${config.instance_url}/api/now/table/${encodeURIComponent(config.table)}`;

const recordUrl = (config: ServiceNowConfig, sysId: string): string =>
  `${tableUrl(config)}/${encodeURIComponent(sysId)}`;

/** JSON both ways; the Authorization header is added when sending (servicenow-client.ts). */
export const SERVICENOW_HEADERS = { Accept: 'application/json', 'Content-Type': 'application/json' } as const;

/** Link that opens the record inside the ServiceNow UI frame. */
export const serviceNowRecordUrl = (config: ServiceNowConfig, sysId: string): string =>
  `${config.instance_url}/nav_to.do?uri=${encodeURIComponent(`${config.table}.do?sys_id=${sysId}`)}`;

/** Room kept for the payload even when a description template is long. */
const MIN_PAYLOAD_BUDGET = 500;
const PAYLOAD_HEADING = '\n\nEvent payload (JSON):\n';

/** Plain-text description: readable facts (or the rendered template) then the JSON payload, ≤ 32,767 chars. */
export function toPlainText(draft: TicketDraft): string {
  const facts = ['Violation', ...draft.facts.map(([label, value]) => `${label}: ${value}`)].join('\n');
  const readable = truncate(
    draft.descriptionText ?? facts,
    MAX_DESCRIPTION - PAYLOAD_HEADING.length - MIN_PAYLOAD_BUDGET,
  );
  const budget = MAX_DESCRIPTION - readable.length - PAYLOAD_HEADING.length;
  return truncate(`${readable}${PAYLOAD_HEADING}${payloadJson(draft.payload, budget)}`, MAX_DESCRIPTION);
}

/**
 * The fields a severity word sets: urgency and impact (the instance derives priority from them),
 * `priority` where `priority_map` sets it directly, `severity` from `severity_map` or the table's
 * defaults (security incidents).
 */
export function serviceNowPriorityFields(
  config: ServiceNowConfig,
  priority: Severity,
): Pick<ServiceNowPatch, 'urgency' | 'impact' | 'priority' | 'severity'> {
  const fields: Pick<ServiceNowPatch, 'urgency' | 'impact' | 'priority' | 'severity'> = {
    ...(config.urgency_impact_map?.[priority] ?? DEFAULT_URGENCY_IMPACT[priority]),
  };
  const direct = config.priority_map?.[priority];
  if (direct) fields.priority = direct;
  const severity = config.severity_map?.[priority] ?? tableProfile(config).severity?.[priority];
  if (severity) fields.severity = severity;
  return fields;
}

/** Only the fields escalate reads back; references as plain sys_ids. */
const WRITE_QUERY = new URLSearchParams({
  sysparm_exclude_reference_link: 'true',
  sysparm_fields: 'sys_id,number,state',
}).toString();

export function buildServiceNowCreateRequest(config: ServiceNowConfig, draft: TicketDraft): HttpRequest {
  const optional: Record<string, string | undefined> = {
    assignment_group: draft.assignmentGroup ?? config.assignment_group,
    assigned_to: draft.assignee,
    category: config.category,
    subcategory: config.subcategory,
    caller_id: config.caller_id,
  };
  const body: Record<string, string> = { ...draft.customFields };
  for (const [field, value] of Object.entries(optional)) {
    if (value !== undefined && value !== '') body[field] = value;
  }
  // Core fields last: a custom field can never clobber the idempotency key or the mapping.
  Object.assign(body, {
    short_description: truncate(singleLine(draft.title), MAX_SHORT_DESCRIPTION),
    description: toPlainText(draft),
    ...serviceNowPriorityFields(config, draft.priority),
    correlation_id: draft.idempotencyKey,
    correlation_display: 'escalate',
  });
  return {
    method: 'POST',
    url: `${tableUrl(config)}?${WRITE_QUERY}`,
    headers: { ...SERVICENOW_HEADERS },
    body: JSON.stringify(body),
  };
}

/** The create request as it would be sent, with a placeholder Authorization (masked by the caller). */
export const previewServiceNowCreate = (config: ServiceNowConfig, draft: TicketDraft): HttpRequest =>
  withAuthorization(buildServiceNowCreateRequest(config, draft), serviceNowPreviewAuthorization(config));

/** ServiceNow errors: `{error: {message, detail}, status: "failure"}` → "message: detail". */
export function serviceNowErrorMessage(res: HttpResponse): string {
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get('location');
    return `redirected${location ? ` to ${location}` : ''} (instance hibernating, or instance_url not the API host?)`;
  }
  const body = parseJson(res.text) as { error?: { message?: unknown; detail?: unknown } } | undefined;
  const error = body && typeof body === 'object' ? body.error : undefined;
  if (!error || typeof error !== 'object') return res.text;
  const message = typeof error.message === 'string' ? error.message.trim() : '';
  const detail = typeof error.detail === 'string' ? error.detail.trim() : '';
  if (message && detail) return `${message}: ${detail}`;
  return message || detail || res.text;
}

/** Encoded queries split on `^`; a key containing one could match other records. */
export function encodedQueryValue(value: string): string {
  if (/[\^\r\n]/.test(value)) {
    throw new ConnectorError(`value cannot be used in a ServiceNow encoded query: ${JSON.stringify(value)}`, {
      retryable: false,
    });
  }
  return value;
}

export function buildServiceNowLookupRequest(config: ServiceNowConfig, idempotencyKey: string): HttpRequest {
  const query = new URLSearchParams({
    sysparm_query: `correlation_id=${encodedQueryValue(idempotencyKey)}^ORDERBYsys_created_on`,
    sysparm_fields: 'sys_id,number,correlation_id',
    sysparm_limit: '1',
    sysparm_exclude_reference_link: 'true',
  });
  return {
    method: 'GET',
    url: `${tableUrl(config)}?${query}`,
    headers: { Accept: SERVICENOW_HEADERS.Accept },
  };
}

type RecordFields = { sys_id?: unknown; number?: unknown; state?: unknown; correlation_id?: unknown };

function recordRef(fields: RecordFields | undefined): ServiceNowRecordRef | undefined {
  if (!fields || typeof fields.sys_id !== 'string' || !fields.sys_id) return undefined;
  return {
    sysId: fields.sys_id,
    number: typeof fields.number === 'string' && fields.number ? fields.number : fields.sys_id,
    ...(typeof fields.state === 'string' ? { state: fields.state } : {}),
  };
}

function unexpected(res: HttpResponse, what: string): ConnectorError {
  return new ConnectorError(`ServiceNow answered ${res.status} without ${what}: ${res.text.slice(0, 200)}`, {
    status: res.status,
    retryable: true,
    durationMs: res.durationMs,
  });
}

/**
 * Finds the record carrying the idempotency key. The returned `correlation_id` is checked because an
 * instance ignores query terms on columns a table lacks and would otherwise return an unrelated record.
 */
export async function findServiceNowIncident(
  config: ServiceNowConfig,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<{ sysId: string; number: string } | undefined> {
  const res = await serviceNowSend(config, buildServiceNowLookupRequest(config, idempotencyKey), timeoutMs);
  if (res.status !== 200) throw errorFromResponse(res, serviceNowErrorMessage(res));
  const body = parseJson(res.text) as { result?: RecordFields[] } | undefined;
  if (!Array.isArray(body?.result)) throw unexpected(res, 'a result list');
  const first = body.result[0];
  if (!first) return undefined;
  if (first.correlation_id !== idempotencyKey) {
    throw new ConnectorError(
      `table ${config.table} cannot be searched by correlation_id (the lookup returned a record without the key); ` +
        'idempotent creation needs a table that extends task',
      { status: res.status, retryable: false, durationMs: res.durationMs },
    );
  }
  const found = recordRef(first);
  return found ? { sysId: found.sysId, number: found.number } : undefined;
}

const ticketRef = (
  config: ServiceNowConfig,
  rec: { sysId: string; number: string },
  adopted: boolean,
): TicketRef => ({
  externalId: rec.number,
  sysId: rec.sysId,
  externalUrl: serviceNowRecordUrl(config, rec.sysId),
  adopted,
});

/**
 * Creates the record. With `lookupFirst` (any retry), `correlation_id` is searched first and an
 * existing record is adopted, so a create whose response was lost never yields a second ticket.
 */
export async function createServiceNowIncident(
  config: ServiceNowConfig,
  draft: TicketDraft,
  opts: { timeoutMs: number; lookupFirst: boolean },
): Promise<TicketRef> {
  if (opts.lookupFirst) {
    const existing = await findServiceNowIncident(config, draft.idempotencyKey, opts.timeoutMs);
    if (existing) return ticketRef(config, existing, true);
  }
  const res = await serviceNowSend(config, buildServiceNowCreateRequest(config, draft), opts.timeoutMs);
  if (res.status !== 201 && res.status !== 200) throw errorFromResponse(res, serviceNowErrorMessage(res));
  const created = recordRef((parseJson(res.text) as { result?: RecordFields } | undefined)?.result);
  if (!created) throw unexpected(res, 'a sys_id');
  return ticketRef(config, created, false);
}

export function buildServiceNowUpdateRequest(
  config: ServiceNowConfig,
  sysId: string,
  patch: ServiceNowPatch,
): HttpRequest {
  const body = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined && v !== ''));
  return {
    method: 'PATCH',
    url: `${recordUrl(config, sysId)}?${WRITE_QUERY}`,
    headers: { ...SERVICENOW_HEADERS },
    body: JSON.stringify(body),
  };
}

/** PATCHes the record; a resolve/close without close fields fails with the instance's data-policy message. */
export async function updateServiceNowIncident(
  config: ServiceNowConfig,
  sysId: string,
  patch: ServiceNowPatch,
  timeoutMs: number,
): Promise<ServiceNowRecordRef> {
  const res = await serviceNowSend(config, buildServiceNowUpdateRequest(config, sysId, patch), timeoutMs);
  if (res.status !== 200) throw errorFromResponse(res, serviceNowErrorMessage(res));
  const updated = recordRef((parseJson(res.text) as { result?: RecordFields } | undefined)?.result);
  if (!updated) throw unexpected(res, 'a sys_id');
  return updated;
}

export function addServiceNowWorkNote(
  config: ServiceNowConfig,
  sysId: string,
  text: string,
  timeoutMs: number,
): Promise<ServiceNowRecordRef> {
  return updateServiceNowIncident(config, sysId, { work_notes: text }, timeoutMs);
}

/**
 * The PATCH that moves the record to an escalate status: the table's state value (its `state_map`
 * over the built-in one), plus close_code and close_notes where the table's data policy needs them.
 */
export function serviceNowStatusPatch(
  config: ServiceNowConfig,
  status: TicketStatus,
  notes?: string,
): ServiceNowPatch {
  const state = serviceNowStateFor(serviceNowStateMap(config.table, config.state_map), status);
  const profile = tableProfile(config);
  if (!profile.closeOn.includes(status)) return { state };
  const closeCode = config.close_code ?? profile.defaultCloseCode;
  if (!closeCode) throw missingCloseCode(config, status);
  return {
    state,
    close_code: closeCode,
    close_notes: notes?.trim() || `${status === 'resolved' ? 'Resolved' : 'Closed'} by escalate`,
  };
}
