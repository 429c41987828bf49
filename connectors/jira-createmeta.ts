/**
 * The create metadata of a project's issue type (`GET …/issue/createmeta/{project}/issuetypes`,
 * then `…/issuetypes/{issueTypeId}`; REST v3 on Cloud, v2 on Data Center ≥ 8.4): which fields the
 * create screen has and their schemas. Cached in the worker process per Jira site, credentials,
 * project and issue type for META_TTL_MS: the metadata changes when an admin edits a screen, not
 * per ticket, and holding it in memory needs no invalidation beyond the TTL (a missing field
 * triggers one fresh read). A restarted worker simply reads it again.
 */
import { createHash } from 'node:crypto';
import { type JiraConfig, jiraAuthOf } from '../domain/connector.js';
import { ConnectorError, errorFromResponse, type HttpResponse, parseJson } from './http.js';
import { jiraApiRoot, jiraErrorMessage, jiraSend } from './jira-client.js';
import { describeField, type JiraFieldMeta, shapeJiraFieldValue } from './jira-fields.js';

export const META_TTL_MS = 10 * 60_000;
/** Fields per page asked for (Jira caps it; pages are followed). */
const PAGE_SIZE = 200;
const MAX_PAGES = 20;

export interface CreateMeta {
  issueTypeId: string;
  fields: Map<string, JiraFieldMeta>;
}

const cache = new Map<string, { meta: CreateMeta; at: number }>();

function cacheKey(config: JiraConfig, project: string, issueType: string): string {
  const identity = [config.email, config.api_token, config.pat, config.client_id, config.client_secret].join(
    '\0',
  );
  return [
    jiraApiRoot(config),
    jiraAuthOf(config),
    createHash('sha256').update(identity).digest('hex'),
    project,
    issueType.toLowerCase(),
  ].join('|');
}

const metaError = (res: HttpResponse, what: string): ConnectorError =>
  errorFromResponse(res, `reading ${what}: ${jiraErrorMessage(res)}`);

/** Both page shapes: Cloud `{issueTypes|fields, startAt, total}`, Data Center `{values, isLast}`. */
async function readPages<T>(
  config: JiraConfig,
  path: string,
  key: 'issueTypes' | 'fields',
  what: string,
  timeoutMs: number,
): Promise<T[]> {
  const items: T[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = { startAt: String(items.length), maxResults: String(PAGE_SIZE) };
    const res = await jiraSend(config, { method: 'GET', path, query }, timeoutMs);
    if (res.status !== 200) throw metaError(res, what);
    const body = parseJson(res.text) as
      | { [k: string]: unknown; values?: T[]; total?: number; isLast?: boolean }
      | undefined;
    const batch = (body?.[key] ?? body?.values) as T[] | undefined;
    if (!Array.isArray(batch)) {
      throw new ConnectorError(`Jira answered ${what} without a ${key} list`, {
        status: res.status,
        retryable: true,
      });
    }
    items.push(...batch);
    // A page that says neither `total` nor `isLast` is the only one.
    const more =
      batch.length > 0 &&
      body?.isLast !== true &&
      (typeof body?.total === 'number' ? items.length < body.total : body?.isLast === false);
    if (!more) break;
  }
  return items;
}

async function fetchCreateMeta(
  config: JiraConfig,
  project: string,
  issueType: string,
  timeoutMs: number,
): Promise<CreateMeta> {
  const base = `/issue/createmeta/${encodeURIComponent(project)}/issuetypes`;
  const types = await readPages<{ id?: string; name?: string }>(
    config,
    base,
    'issueTypes',
    `the issue types of project ${project}`,
    timeoutMs,
  );
  const type = types.find((t) => t.name?.toLowerCase() === issueType.toLowerCase());
  if (!type?.id) {
    const names = types.map((t) => JSON.stringify(t.name)).join(', ') || 'none';
    throw new ConnectorError(
      `issue type "${issueType}" cannot be created in project ${project} (issue types offered: ${names})`,
      { retryable: false, remoteCode: 'invalid_issue_type' },
    );
  }
  const fields = await readPages<JiraFieldMeta>(
    config,
    `${base}/${encodeURIComponent(type.id)}`,
    'fields',
    `the create fields of ${project}/${issueType}`,
    timeoutMs,
  );
  return { issueTypeId: type.id, fields: new Map(fields.map((f) => [f.fieldId, f])) };
}

/** The cached metadata, fetched when absent, older than the TTL, or `refresh` is set. */
export async function jiraCreateMeta(
  config: JiraConfig,
  project: string,
  issueType: string,
  opts: { timeoutMs: number; refresh?: boolean },
): Promise<CreateMeta> {
  const key = cacheKey(config, project, issueType);
  const hit = cache.get(key);
  if (hit && !opts.refresh && Date.now() - hit.at < META_TTL_MS) return hit.meta;
  const meta = await fetchCreateMeta(config, project, issueType, opts.timeoutMs);
  cache.set(key, { meta, at: Date.now() });
  return meta;
}

/** Forgets cached metadata (tests). */
export function clearCreateMetaCache(): void {
  cache.clear();
}

/** A value escalate cannot put into the field: permanent, and it names the field. */
export const invalidFieldValue = (message: string) =>
  new ConnectorError(message, { retryable: false, remoteCode: 'invalid_field_value' });

/**
 * Every rendered custom field shaped for its schema. A field the create screen lacks is looked up
 * once more without the cache (an admin may just have added it), then refused.
 */
export async function shapeCustomFields(
  config: JiraConfig,
  target: { project: string; issueType: string },
  rendered: Record<string, string>,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const ids = Object.keys(rendered);
  if (!ids.length) return {};
  let meta = await jiraCreateMeta(config, target.project, target.issueType, { timeoutMs });
  if (ids.some((id) => !meta.fields.has(id)))
    meta = await jiraCreateMeta(config, target.project, target.issueType, { timeoutMs, refresh: true });
  const shaped: Record<string, unknown> = {};
  for (const [id, value] of Object.entries(rendered)) {
    const field = meta.fields.get(id);
    if (!field) {
      throw invalidFieldValue(
        `custom field ${id} is not on the create screen of ${target.project}/${target.issueType} (or does not exist)`,
      );
    }
    const result = shapeJiraFieldValue(field, value, config.api);
    if ('problem' in result)
      throw invalidFieldValue(`custom field ${describeField(field)}: ${result.problem}`);
    if ('value' in result) shaped[id] = result.value;
  }
  return shaped;
}
