import type { JiraConfig } from '../domain/connector.js';
import type { Severity } from '../domain/severity.js';
import {
  MAX_TITLE,
  safeLabel,
  singleLine,
  type TicketDraft,
  type TicketRef,
  truncate,
} from '../domain/ticket.js';
import { ConnectorError, errorFromResponse, type HttpRequest, parseJson } from './http.js';
import {
  type JiraCall,
  jiraErrorMessage,
  jiraPreviewAuthorization,
  jiraRequest,
  jiraSend,
} from './jira-client.js';
import { shapeCustomFields } from './jira-createmeta.js';
import { toAdf, toWiki } from './jira-format.js';

export const DEFAULT_JIRA_PRIORITIES: Record<Severity, string> = {
  critical: 'Highest',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
};

function priorityField(
  config: JiraConfig,
  priority: Severity,
): { name: string } | { id: string } | undefined {
  if (config.priority_map === false) return undefined;
  const mapped = config.priority_map?.[priority] ?? DEFAULT_JIRA_PRIORITIES[priority];
  return typeof mapped === 'string' ? { name: mapped } : mapped;
}

export function jiraLabels(draft: TicketDraft): string[] {
  const all = ['escalate', 'ai-policy', draft.severity, ...draft.labels, draft.idempotencyKey];
  return [...new Set(all.map(safeLabel).filter(Boolean))];
}

/** Where the ticket goes: the rule's project and issue type, else the connector's. */
export const jiraTarget = (config: JiraConfig, draft: TicketDraft) => ({
  project: draft.projectKey ?? config.project_key,
  issueType: draft.issueType ?? config.issue_type,
});

/** The create call for a draft whose custom fields are already shaped (see `prepareJiraCreate`). */
export function jiraCreateCall(
  config: JiraConfig,
  draft: TicketDraft,
  customFields: Record<string, unknown>,
): JiraCall {
  const target = jiraTarget(config, draft);
  const fields: Record<string, unknown> = {
    project: { key: target.project },
    issuetype: { name: target.issueType },
    summary: truncate(singleLine(draft.title), MAX_TITLE),
    description: config.api === 'cloud' ? toAdf(draft) : toWiki(draft),
    labels: jiraLabels(draft),
  };
  const priority = priorityField(config, draft.priority);
  if (priority) fields.priority = priority;
  if (draft.assignee)
    fields.assignee = config.api === 'cloud' ? { accountId: draft.assignee } : { name: draft.assignee };
  if (draft.components?.length) fields.components = draft.components.map((name) => ({ name }));
  Object.assign(fields, customFields);
  return {
    method: 'POST',
    path: '/issue',
    body: {
      fields,
      // An issue property keeps the key machine-readable even if someone edits the labels.
      properties: [
        { key: PROPERTY_KEY, value: { idempotency_key: draft.idempotencyKey, event_id: draft.eventId } },
      ],
    },
  };
}

/** The create call with custom fields shaped by the project's create metadata (read, cached). */
export async function prepareJiraCreate(
  config: JiraConfig,
  draft: TicketDraft,
  timeoutMs: number,
): Promise<JiraCall> {
  const custom = await shapeCustomFields(config, jiraTarget(config, draft), draft.customFields, timeoutMs);
  return jiraCreateCall(config, draft, custom);
}

/** The create request as it would be sent (custom fields shaped), with a placeholder Authorization. */
export async function previewJiraCreate(
  config: JiraConfig,
  draft: TicketDraft,
  timeoutMs: number,
): Promise<HttpRequest> {
  return jiraRequest(
    config,
    await prepareJiraCreate(config, draft, timeoutMs),
    jiraPreviewAuthorization(config),
  );
}

export const jiraIssueUrl = (config: JiraConfig, key: string): string => `${config.base_url}/browse/${key}`;

export function jiraSearchCall(config: JiraConfig, idempotencyKey: string): JiraCall {
  const jql = `labels = "${safeLabel(idempotencyKey)}" ORDER BY created ASC`;
  return {
    method: 'GET',
    path: config.api === 'cloud' ? '/search/jql' : '/search',
    query: { jql, fields: 'key', maxResults: String(LOOKUP_CANDIDATES) },
  };
}

/** Issues carrying the label that are checked for the property (labels are copied by clones). */
const LOOKUP_CANDIDATES = 3;
const PROPERTY_KEY = 'escalate';

/** Whether the issue's `escalate` property names this idempotency key (404: no such property). */
async function carriesKey(config: JiraConfig, issueKey: string, idempotencyKey: string, timeoutMs: number) {
  const path = `/issue/${encodeURIComponent(issueKey)}/properties/${PROPERTY_KEY}`;
  const res = await jiraSend(config, { method: 'GET', path }, timeoutMs);
  if (res.status === 404) return false;
  if (res.status !== 200) throw errorFromResponse(res, jiraErrorMessage(res));
  const body = parseJson(res.text) as { value?: { idempotency_key?: unknown } } | undefined;
  return body?.value?.idempotency_key === idempotencyKey;
}

/**
 * The issue an earlier create made for this key: found by its idempotency label, confirmed by its
 * `escalate` issue property (a clone copies the labels, not the property). Jira's search is
 * eventually consistent: an issue created moments ago may not be found yet (see the settle delay
 * in activities/tickets.ts).
 */
export async function findJiraIssueByKey(
  config: JiraConfig,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<{ id: string; key: string } | undefined> {
  const res = await jiraSend(config, jiraSearchCall(config, idempotencyKey), timeoutMs);
  if (res.status !== 200) throw errorFromResponse(res, jiraErrorMessage(res));
  const body = parseJson(res.text) as { issues?: { id: string; key: string }[] } | undefined;
  for (const issue of body?.issues ?? [])
    if (await carriesKey(config, issue.key, idempotencyKey, timeoutMs)) return issue;
  return undefined;
}

/**
 * Creates the issue. With `lookupFirst` (any retry), the idempotency label is searched first and an
 * existing issue is adopted, so a create whose response was lost never yields a second ticket.
 */
export async function createJiraIssue(
  config: JiraConfig,
  draft: TicketDraft,
  opts: { timeoutMs: number; lookupFirst: boolean },
): Promise<TicketRef> {
  if (opts.lookupFirst) {
    const existing = await findJiraIssueByKey(config, draft.idempotencyKey, opts.timeoutMs);
    if (existing) {
      return {
        externalId: existing.key,
        remoteId: existing.id,
        externalUrl: jiraIssueUrl(config, existing.key),
        adopted: true,
      };
    }
  }
  const res = await jiraSend(config, await prepareJiraCreate(config, draft, opts.timeoutMs), opts.timeoutMs);
  if (res.status !== 201 && res.status !== 200) throw errorFromResponse(res, jiraErrorMessage(res));
  const body = parseJson(res.text) as { id?: string; key?: string } | undefined;
  if (!body?.key) {
    throw new ConnectorError(`Jira answered ${res.status} without an issue key`, {
      status: res.status,
      retryable: true,
    });
  }
  return {
    externalId: body.key,
    remoteId: body.id,
    externalUrl: jiraIssueUrl(config, body.key),
    adopted: false,
  };
}
