import type { ServiceNowConfig } from '../domain/connector.js';
import { SERVICENOW_STATE } from '../domain/itsm-status.js';
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
import {
  basicAuth,
  ConnectorError,
  errorFromResponse,
  type HttpRequest,
  type HttpResponse,
  parseJson,
  send,
} from './http.js';

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

export function servicenowHeaders(config: ServiceNowConfig): {
  Authorization: string;
  Accept: string;
  'Content-Type': string;
} {
  return {
    Authorization: basicAuth(config.username, config.password),
    Accept: 'application/json',
    'Content-Type': 'application/json',
  };
}

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

export function urgencyImpact(
  config: ServiceNowConfig,
  priority: Severity,
): { urgency: ServiceNowLevel; impact: ServiceNowLevel } {
  return config.urgency_impact_map?.[priority] ?? DEFAULT_URGENCY_IMPACT[priority];
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
    ...urgencyImpact(config, draft.priority),
    correlation_id: draft.idempotencyKey,
    correlation_display: 'escalate',
  });
  return {
    method: 'POST',
    url: `${tableUrl(config)}?${WRITE_QUERY}`,
    headers: servicenowHeaders(config),
    body: JSON.stringify(body),
  };
}

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
  const { Authorization, Accept } = servicenowHeaders(config);
  return { method: 'GET', url: `${tableUrl(config)}?${query}`, headers: { Authorization, Accept } };
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
  const res = await send(buildServiceNowLookupRequest(config, idempotencyKey), timeoutMs);
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
  const res = await send(buildServiceNowCreateRequest(config, draft), opts.timeoutMs);
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
    headers: servicenowHeaders(config),
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
  const res = await send(buildServiceNowUpdateRequest(config, sysId, patch), timeoutMs);
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

/** The PATCH that moves the record to an escalate status; resolving and closing carry the close fields. */
export function serviceNowStatusPatch(
  config: ServiceNowConfig,
  status: TicketStatus,
  notes?: string,
): ServiceNowPatch {
  const state = SERVICENOW_STATE.fromStatus[status];
  if (status !== 'resolved' && status !== 'closed') return { state };
  return {
    state,
    close_code: config.close_code ?? DEFAULT_CLOSE_CODE,
    close_notes: notes?.trim() || `${status === 'resolved' ? 'Resolved' : 'Closed'} by escalate`,
  };
}
