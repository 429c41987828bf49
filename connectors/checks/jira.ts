/**
 * Jira checks, all reads: who the credentials authenticate as (`/myself`), the project permissions
 * escalate uses (`/mypermissions?projectKey=`), and whether the issue type exists in the project
 * (`/issue/createmeta/{project}/issuetypes`). Same paths on Cloud (v3) and Data Center (v2).
 */
import type { JiraConfig } from '../../domain/connector.js';
import { errorFromResponse, type HttpResponse, parseJson, send } from '../http.js';
import { jiraApiRoot, jiraErrorMessage, jiraHeaders } from '../jira.js';
import type { CheckStep } from './steps.js';

/** What escalate does in the project: find its issues, create, transition, comment, raise priority. */
export const JIRA_PERMISSIONS: Readonly<Record<string, string>> = {
  BROWSE_PROJECTS: 'look up its issues before creating (idempotency)',
  CREATE_ISSUES: 'create tickets',
  TRANSITION_ISSUES: 'move tickets through the workflow',
  ADD_COMMENTS: 'comment on recurrences and SLA breaches',
  EDIT_ISSUES: 'raise the priority on an SLA breach',
};

async function get(config: JiraConfig, path: string, timeoutMs: number): Promise<HttpResponse> {
  const res = await send(
    { method: 'GET', url: `${jiraApiRoot(config)}${path}`, headers: jiraHeaders(config) },
    timeoutMs,
  );
  if (res.status !== 200) throw errorFromResponse(res, jiraErrorMessage(res));
  return res;
}

const authenticate: CheckStep<JiraConfig> = {
  name: 'authenticate',
  async run(config, timeoutMs) {
    const res = await get(config, '/myself', timeoutMs);
    const me = (parseJson(res.text) ?? {}) as {
      displayName?: string;
      emailAddress?: string;
      name?: string;
      accountId?: string;
    };
    const who = me.displayName ?? me.name ?? me.accountId ?? 'an unnamed user';
    const id = me.emailAddress ?? me.name ?? me.accountId;
    return { ok: true, message: `authenticated as ${who}${id && id !== who ? ` (${id})` : ''}` };
  },
};

const permissions: CheckStep<JiraConfig> = {
  name: 'permissions',
  needs: ['authenticate'],
  async run(config, timeoutMs) {
    const query = new URLSearchParams({
      projectKey: config.project_key,
      permissions: Object.keys(JIRA_PERMISSIONS).join(','),
    });
    const res = await get(config, `/mypermissions?${query}`, timeoutMs);
    const granted = (
      (parseJson(res.text) ?? {}) as {
        permissions?: Record<string, { havePermission?: boolean }>;
      }
    ).permissions;
    const missing = Object.keys(JIRA_PERMISSIONS).filter((key) => granted?.[key]?.havePermission !== true);
    if (missing.length === 0)
      return {
        ok: true,
        message: `in ${config.project_key}: ${Object.keys(JIRA_PERMISSIONS).join(', ')}`,
      };
    return {
      ok: false,
      message: `missing in ${config.project_key}: ${missing
        .map((key) => `${key} (to ${JIRA_PERMISSIONS[key]})`)
        .join('; ')}`,
    };
  },
};

interface IssueTypePage {
  /** Cloud names the list `issueTypes`, Data Center `values`. */
  issueTypes?: { id: string; name: string }[];
  values?: { id: string; name: string }[];
}

const issueType: CheckStep<JiraConfig> = {
  name: 'issue type',
  needs: ['authenticate'],
  async run(config, timeoutMs) {
    const project = encodeURIComponent(config.project_key);
    const res = await get(config, `/issue/createmeta/${project}/issuetypes?maxResults=200`, timeoutMs);
    const page = (parseJson(res.text) ?? {}) as IssueTypePage;
    const types = page.issueTypes ?? page.values ?? [];
    const found = types.find((t) => t.name === config.issue_type);
    if (found)
      return { ok: true, message: `${config.issue_type} exists in ${config.project_key} (id ${found.id})` };
    const available = types.map((t) => t.name).join(', ') || 'none';
    return {
      ok: false,
      message: `no issue type "${config.issue_type}" in ${config.project_key}; available: ${available}`,
    };
  },
};

/** In order; a later step (custom field shapes, …) appends here. */
export const JIRA_CHECKS: CheckStep<JiraConfig>[] = [authenticate, permissions, issueType];
