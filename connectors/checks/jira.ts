/**
 * Jira checks, all reads: who the credentials authenticate as (`/myself`), the project permissions
 * escalate uses (`/mypermissions?projectKey=`), whether the issue type exists in the project
 * (`/issue/createmeta/{project}/issuetypes`), and whether every configured custom field is on the
 * create screen with a type escalate can fill (the create metadata creation itself uses). Same
 * paths on Cloud (v3) and Data Center (v2), with whichever auth the connector uses.
 */
import type { JiraConfig } from '../../domain/connector.js';
import { errorFromResponse, type HttpResponse, parseJson } from '../http.js';
import { jiraErrorMessage, jiraSend } from '../jira-client.js';
import { jiraCreateMeta } from '../jira-createmeta.js';
import { describeField, unfillableReason } from '../jira-fields.js';
import type { CheckStep } from './steps.js';

/** What escalate does in the project: find its issues, create, transition, comment, raise priority. */
export const JIRA_PERMISSIONS: Readonly<Record<string, string>> = {
  BROWSE_PROJECTS: 'look up its issues before creating (idempotency)',
  CREATE_ISSUES: 'create tickets',
  TRANSITION_ISSUES: 'move tickets through the workflow',
  ADD_COMMENTS: 'comment on recurrences and SLA breaches',
  EDIT_ISSUES: 'raise the priority on an SLA breach',
};

async function get(
  config: JiraConfig,
  path: string,
  timeoutMs: number,
  query?: Record<string, string>,
): Promise<HttpResponse> {
  const res = await jiraSend(config, { method: 'GET', path, ...(query ? { query } : {}) }, timeoutMs);
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

/** The permissions this connector's configuration needs: resolving with a resolution, assigning. */
function permissionsFor(config: JiraConfig): Record<string, string> {
  return {
    ...JIRA_PERMISSIONS,
    ...(config.resolution ? { RESOLVE_ISSUES: 'set the resolution when resolving' } : {}),
    ...(config.assignee ? { ASSIGN_ISSUES: 'assign tickets to the default assignee' } : {}),
  };
}

const permissions: CheckStep<JiraConfig> = {
  name: 'permissions',
  needs: ['authenticate'],
  async run(config, timeoutMs) {
    const wanted = permissionsFor(config);
    const res = await get(config, '/mypermissions', timeoutMs, {
      projectKey: config.project_key,
      permissions: Object.keys(wanted).join(','),
    });
    const granted = (
      (parseJson(res.text) ?? {}) as {
        permissions?: Record<string, { havePermission?: boolean }>;
      }
    ).permissions;
    const missing = Object.keys(wanted).filter((key) => granted?.[key]?.havePermission !== true);
    if (missing.length === 0)
      return {
        ok: true,
        message: `in ${config.project_key}: ${Object.keys(wanted).join(', ')}`,
      };
    return {
      ok: false,
      message: `missing in ${config.project_key}: ${missing
        .map((key) => `${key} (to ${wanted[key]})`)
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
    const res = await get(config, `/issue/createmeta/${project}/issuetypes`, timeoutMs, {
      maxResults: '200',
    });
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

/** Fields escalate sets itself on create (the rest of a create screen's required fields must be configured). */
const FILLED_BY_ESCALATE = new Set([
  'project',
  'issuetype',
  'summary',
  'description',
  'labels',
  'priority',
  'assignee',
  'components',
  'reporter',
]);

const customFields: CheckStep<JiraConfig> = {
  name: 'custom fields',
  needs: ['issue type'],
  async run(config, timeoutMs) {
    const meta = await jiraCreateMeta(config, config.project_key, config.issue_type, {
      timeoutMs,
      refresh: true,
    });
    const problems: string[] = [];
    for (const id of Object.keys(config.custom_fields ?? {})) {
      const field = meta.fields.get(id);
      if (!field) problems.push(`${id} is not on the create screen (or does not exist)`);
      else {
        const reason = unfillableReason(field);
        if (reason) problems.push(`${describeField(field)}: ${reason}`);
      }
    }
    const configured = new Set(Object.keys(config.custom_fields ?? {}));
    for (const field of meta.fields.values()) {
      if (field.required && !FILLED_BY_ESCALATE.has(field.fieldId) && !configured.has(field.fieldId))
        problems.push(`${describeField(field)} is required by the create screen but not configured`);
    }
    if (problems.length) return { ok: false, message: problems.join('; ') };
    const count = configured.size;
    return {
      ok: true,
      message: count
        ? `${count} custom field${count === 1 ? '' : 's'} on the create screen, each of a type escalate fills`
        : 'no custom fields configured; the create screen requires none escalate leaves empty',
    };
  },
};

/** In order. */
export const JIRA_CHECKS: CheckStep<JiraConfig>[] = [authenticate, permissions, issueType, customFields];
