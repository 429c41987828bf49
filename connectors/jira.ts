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
import {
  basicAuth,
  ConnectorError,
  errorFromResponse,
  type HttpRequest,
  type HttpResponse,
  parseJson,
  send,
} from './http.js';
import { toAdf, toWiki } from './jira-format.js';

export const DEFAULT_JIRA_PRIORITIES: Record<Severity, string> = {
  critical: 'Highest',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
};

export const jiraApiRoot = (config: JiraConfig): string =>
  `${config.base_url}/rest/api/${config.api === 'cloud' ? '3' : '2'}`;

export function jiraHeaders(config: JiraConfig): Record<string, string> {
  const auth =
    config.api === 'cloud'
      ? basicAuth(config.email ?? '', config.api_token ?? '')
      : `Bearer ${config.pat ?? ''}`;
  return { Authorization: auth, Accept: 'application/json', 'Content-Type': 'application/json' };
}

function priorityField(
  config: JiraConfig,
  priority: Severity,
): { name: string } | { id: string } | undefined {
  if (config.priority_map === false) return undefined;
  const mapped = config.priority_map?.[priority] ?? DEFAULT_JIRA_PRIORITIES[priority];
  return typeof mapped === 'string' ? { name: mapped } : mapped;
}

export function jiraLabels(config: JiraConfig, draft: TicketDraft): string[] {
  const all = [
    'escalate',
    'ai-policy',
    draft.severity,
    ...(config.labels ?? []),
    ...draft.labels,
    draft.idempotencyKey,
  ];
  return [...new Set(all.map(safeLabel).filter(Boolean))];
}

export function buildJiraCreateRequest(config: JiraConfig, draft: TicketDraft): HttpRequest {
  const fields: Record<string, unknown> = {
    project: { key: draft.projectKey ?? config.project_key },
    issuetype: { name: draft.issueType ?? config.issue_type },
    summary: truncate(singleLine(draft.title), MAX_TITLE),
    description: config.api === 'cloud' ? toAdf(draft) : toWiki(draft),
    labels: jiraLabels(config, draft),
  };
  const priority = priorityField(config, draft.priority);
  if (priority) fields.priority = priority;
  if (draft.assignee)
    fields.assignee = config.api === 'cloud' ? { accountId: draft.assignee } : { name: draft.assignee };
  Object.assign(fields, draft.customFields);
  const body = {
    fields,
    // An issue property keeps the key machine-readable even if someone edits the labels.
    properties: [
      { key: 'escalate', value: { idempotency_key: draft.idempotencyKey, event_id: draft.eventId } },
    ],
  };
  return {
    method: 'POST',
    url: `${jiraApiRoot(config)}/issue`,
    headers: jiraHeaders(config),
    body: JSON.stringify(body),
  };
}

/** Jira error bodies: `{errorMessages: [...], errors: {field: message}}`. */
export function jiraErrorMessage(res: HttpResponse): string {
  const body = parseJson(res.text) as
    | { errorMessages?: string[]; errors?: Record<string, string>; message?: string }
    | undefined;
  if (!body || typeof body !== 'object') return res.text;
  const parts = [
    ...(body.errorMessages ?? []),
    ...Object.entries(body.errors ?? {}).map(([f, m]) => `${f}: ${m}`),
  ];
  if (body.message) parts.push(body.message);
  return parts.length ? parts.join('; ') : res.text;
}

export const jiraIssueUrl = (config: JiraConfig, key: string): string => `${config.base_url}/browse/${key}`;

export function buildJiraSearchRequest(config: JiraConfig, idempotencyKey: string): HttpRequest {
  const jql = `labels = "${safeLabel(idempotencyKey)}" ORDER BY created ASC`;
  const path = config.api === 'cloud' ? 'search/jql' : 'search';
  const query = new URLSearchParams({ jql, fields: 'key', maxResults: '2' });
  return { method: 'GET', url: `${jiraApiRoot(config)}/${path}?${query}`, headers: jiraHeaders(config) };
}

export async function findJiraIssueByKey(
  config: JiraConfig,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<{ id: string; key: string } | undefined> {
  const res = await send(buildJiraSearchRequest(config, idempotencyKey), timeoutMs);
  if (res.status !== 200) throw errorFromResponse(res, jiraErrorMessage(res));
  const body = parseJson(res.text) as { issues?: { id: string; key: string }[] } | undefined;
  return body?.issues?.[0];
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
  const res = await send(buildJiraCreateRequest(config, draft), opts.timeoutMs);
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
