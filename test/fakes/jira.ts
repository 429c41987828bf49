/**
 * Fake Jira (Cloud REST v3 and Data Center REST v2) enforcing the contracts escalate relies on:
 * auth (Basic email:token on /3, Bearer PAT on /2, OAuth bearer tokens through the Atlassian API
 * gateway `/ex/jira/{cloudId}/rest/api/3` with tokens from `/oauth/token`, or on /2 with tokens from
 * Data Center's `/rest/oauth2/latest/token`), ADF descriptions on v3
 * and strings on v2, labels without spaces, summary ≤ 255 chars without newlines, known project /
 * issue type / priority / components, create metadata (`/issue/createmeta/{project}/issuetypes`
 * and `…/{issueTypeId}`) and typed custom fields checked against it, Jira's error body
 * `{errorMessages, errors}`, 201 `{id, key, self}`, descriptions within 32,767 characters,
 * search by label (`/3/search/jql`, `/2/search`; eventually consistent with `searchLagMs`), issue
 * properties, a configurable workflow whose transition screens may carry a
 * resolution, and comments. Faults from `fault.ts` (status codes with Retry-After, delays, hangs,
 * dropped or lost responses).
 */
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type Env, Faults, faultMiddleware, rawBody, startServer, type TlsOptions } from './fault.js';
import { adfProblem, adfText } from './jira-adf.js';
import { customFieldErrors, type FakeJiraField, fieldMeta } from './jira-fields.js';
import { FakeOAuth, tokenParams } from './oauth.js';

export type StatusCategory = 'new' | 'indeterminate' | 'done';

export interface FakeJiraComment {
  id: string;
  body: unknown;
  author: { accountId: string; displayName: string };
}

export interface FakeJiraIssue {
  id: string;
  key: string;
  api: 2 | 3;
  fields: Record<string, unknown> & { summary: string; labels: string[]; description: unknown };
  properties: Record<string, unknown>;
  status: { name: string; category: StatusCategory };
  /** Comment bodies, in order. */
  comments: unknown[];
  commentLog: FakeJiraComment[];
  transitions: string[];
  createdAt: number;
}

export interface FakeTransition {
  id: string;
  name: string;
  to: { name: string; category: StatusCategory };
  /** The transition screen's resolution field, if it has one. */
  resolution?: 'optional' | 'required';
}

export interface FakeJiraOptions {
  email?: string;
  apiToken?: string;
  pat?: string;
  projects?: string[];
  issueTypes?: string[];
  priorities?: string[];
  /** Jira's search index lags behind creates: an issue is found by JQL only this long after. */
  searchLagMs?: number;
  /** Custom fields on every create screen (createmeta lists them; creates are checked against them). */
  customFields?: FakeJiraField[];
  /** Component names of every project; unset: components are not checked. */
  components?: string[];
  /** The workflow (transitions available from any other status); default To Do / Start Progress / Done. */
  workflow?: FakeTransition[];
  resolutions?: string[];
  /** OAuth 2.0 service account (client credentials) through the API gateway for this cloud id. */
  oauth?: { clientId: string; clientSecret: string; cloudId: string; ttlSeconds?: number };
  /** Serve HTTPS with this key and certificate. */
  tls?: TlsOptions;
  /** Project permissions the user holds (default: every one escalate uses). */
  permissions?: string[];
  displayName?: string;
}

/** The project permissions Jira reports from `/mypermissions` (key → name). */
export const PROJECT_PERMISSIONS: Record<string, string> = {
  BROWSE_PROJECTS: 'Browse Projects',
  CREATE_ISSUES: 'Create Issues',
  EDIT_ISSUES: 'Edit Issues',
  TRANSITION_ISSUES: 'Transition Issues',
  ADD_COMMENTS: 'Add Comments',
  RESOLVE_ISSUES: 'Resolve Issues',
  ASSIGN_ISSUES: 'Assign Issues',
};

export interface FakeJiraRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

const DEFAULT_WORKFLOW: FakeTransition[] = [
  { id: '11', name: 'To Do', to: { name: 'To Do', category: 'new' } },
  { id: '21', name: 'Start Progress', to: { name: 'In Progress', category: 'indeterminate' } },
  { id: '31', name: 'Done', to: { name: 'Done', category: 'done' } },
];
const BOT = { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'escalate bot' };

const jiraError = (errors: Record<string, string>, errorMessages: string[] = []) => ({
  errorMessages,
  errors,
});

/** One page of a createmeta list in the API's shape: Cloud `{<key>, startAt, total}`, DC `{values, isLast}`. */
function page<T>(c: Context<Env>, v: number, key: string, all: T[]) {
  const startAt = Number(c.req.query('startAt') ?? 0) || 0;
  const max = Math.min(Number(c.req.query('maxResults') ?? 50) || 50, 50);
  const values = all.slice(startAt, startAt + max);
  if (v === 3) return { [key]: values, maxResults: max, startAt, total: all.length };
  return {
    values,
    maxResults: max,
    startAt,
    total: all.length,
    isLast: startAt + values.length >= all.length,
  };
}

export async function startFakeJira(opts: FakeJiraOptions = {}) {
  const email = opts.email ?? 'bot@example.com';
  const apiToken = opts.apiToken ?? 'cloud-token';
  const pat = opts.pat ?? 'dc-pat';
  const projects = new Set(opts.projects ?? ['SEC']);
  const issueTypeNames = opts.issueTypes ?? ['Task', 'Bug', 'Incident'];
  const issueTypes = issueTypeNames.map((name, i) => ({ id: String(10_001 + i), name }));
  const priorities = new Set(opts.priorities ?? ['Highest', 'High', 'Medium', 'Low', 'Lowest']);
  const customFields = opts.customFields ?? [];
  const workflow = opts.workflow ?? DEFAULT_WORKFLOW;
  const resolutions = opts.resolutions ?? ['Done', "Won't Do", 'Duplicate', 'Fixed'];
  const oauth = opts.oauth ? new FakeOAuth({ ...opts.oauth, audience: 'api.atlassian.com' }) : undefined;
  const granted = new Set(opts.permissions ?? Object.keys(PROJECT_PERMISSIONS));
  const displayName = opts.displayName ?? 'escalate bot';
  const issues = new Map<string, FakeJiraIssue>();
  const createsByLabel = new Map<string, number>();
  const requests: FakeJiraRequest[] = [];
  const faults = new Faults();
  let seq = 0;
  let commentSeq = 10_000;

  const app = new Hono<Env>();
  app.use('*', async (c, next) => {
    const url = new URL(c.req.url);
    requests.push({
      method: c.req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(c.req.raw.headers),
      body: await c.req.raw.clone().text(),
    });
    await next();
  });
  app.use(
    '*',
    faultMiddleware(faults, (status) => jiraError({}, [`HTTP ${status}`])),
  );

  // Token endpoints: Atlassian's (Cloud service accounts) and Data Center's own (service accounts, 10.x).
  for (const path of ['/oauth/token', '/rest/oauth2/latest/token']) {
    app.post(path, async (c) => {
      if (!oauth) return c.json({ error: 'not_found' }, 404);
      const reply = oauth.token(tokenParams(c.req.header('content-type'), await rawBody(c)));
      return c.json(reply.body, reply.status as ContentfulStatusCode);
    });
  }

  const api = new Hono<Env>();
  // Auth: through the gateway an OAuth bearer token; on the site, v3 (Cloud) takes Basic
  // email:api_token and v2 (Data Center) a PAT as Bearer.
  api.use('/rest/api/:v/*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const viaGateway = c.req.path.startsWith('/ex/jira/');
    let ok: boolean;
    if (viaGateway) {
      if (!oauth || c.req.path.split('/')[3] !== opts.oauth?.cloudId)
        return c.json({ code: 404, message: 'Not Found' }, 404);
      ok = oauth.refusal(header) === undefined;
    } else {
      const v = c.req.param('v');
      ok =
        v === '3'
          ? header === `Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}`
          : header === `Bearer ${pat}` || (oauth !== undefined && oauth.refusal(header) === undefined);
    }
    if (!ok)
      return c.json(
        jiraError({}, ['You are not authenticated. Authentication required to perform this operation.']),
        401,
      );
    await next();
  });

  const baseUrl = () => server.url;
  const noProject = (c: Context<Env>, key: string) =>
    c.json(jiraError({}, [`No project could be found with key '${key}'.`]), 404);

  // Who the credentials authenticate as: Cloud answers with an accountId, Data Center with a name.
  api.get('/rest/api/:v/myself', (c) =>
    c.req.param('v') === '3'
      ? c.json({ accountId: '5b10a2844c20165700ede21g', emailAddress: email, displayName, active: true })
      : c.json({ name: 'escalate-bot', key: 'escalate-bot', emailAddress: email, displayName, active: true }),
  );

  api.get('/rest/api/:v/mypermissions', (c) => {
    const wanted = c.req.query('permissions');
    if (!wanted) return c.json(jiraError({}, ["The 'permissions' query parameter is required."]), 400);
    const projectKey = c.req.query('projectKey');
    if (projectKey !== undefined && !projects.has(projectKey)) return noProject(c, projectKey);
    const permissions: Record<string, unknown> = {};
    for (const key of wanted.split(',').map((k) => k.trim())) {
      const name = PROJECT_PERMISSIONS[key];
      if (!name) return c.json(jiraError({}, [`The permission key '${key}' is not valid.`]), 400);
      permissions[key] = {
        id: key,
        key,
        name,
        type: 'PROJECT',
        description: name,
        havePermission: granted.has(key),
      };
    }
    return c.json({ permissions });
  });

  api.get('/rest/api/:v/issue/createmeta/:project/issuetypes', (c) => {
    const key = c.req.param('project');
    if (!projects.has(key)) return noProject(c, key);
    const v = Number(c.req.param('v'));
    const types = issueTypes.map((t) => ({
      self: `${baseUrl()}/rest/api/${v}/issuetype/${t.id}`,
      id: t.id,
      name: t.name,
      description: t.name,
      subtask: false,
    }));
    // Cloud (v3) lists them as `issueTypes`; Data Center (v2) as `values` with `isLast`.
    return c.json(page(c, v, 'issueTypes', types));
  });

  api.get('/rest/api/:v/issue/createmeta/:project/issuetypes/:typeId', (c) => {
    if (!projects.has(c.req.param('project')) || !issueTypes.some((t) => t.id === c.req.param('typeId')))
      return c.json(jiraError({}, ['Issue type with id does not exist or is not in this project.']), 404);
    const v = Number(c.req.param('v'));
    const system = [
      {
        fieldId: 'summary',
        key: 'summary',
        name: 'Summary',
        required: true,
        schema: { type: 'string', system: 'summary' },
      },
      {
        fieldId: 'labels',
        key: 'labels',
        name: 'Labels',
        required: false,
        schema: { type: 'array', items: 'string', system: 'labels' },
      },
    ];
    return c.json(page(c, v, 'fields', [...system, ...customFields.map(fieldMeta)]));
  });

  api.post('/rest/api/:v/issue', async (c) => {
    const v = Number(c.req.param('v')) as 2 | 3;
    if (!/application\/json/.test(c.req.header('content-type') ?? ''))
      return c.json(jiraError({}, ['Unsupported Media Type']), 415);
    let body: { fields?: Record<string, unknown>; properties?: { key: string; value: unknown }[] };
    try {
      body = await c.req.json();
    } catch {
      return c.json(jiraError({}, ['Unexpected character in request body: not JSON']), 400);
    }
    const f = body.fields ?? {};
    const errors: Record<string, string> = {};
    const project = (f.project as { key?: string } | undefined)?.key;
    if (!project || !projects.has(project)) errors.project = 'valid project is required';
    else if (!granted.has('CREATE_ISSUES'))
      errors.project = 'You do not have permission to create issues in this project.';
    const issueType = (f.issuetype as { name?: string } | undefined)?.name;
    if (!issueType || !issueTypeNames.includes(issueType)) errors.issuetype = 'Specify a valid issue type';
    const summary = f.summary;
    if (typeof summary !== 'string' || !summary.trim())
      errors.summary = 'You must specify a summary of the issue.';
    else if (summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    else if (/[\r\n]/.test(summary))
      errors.summary = 'The summary is invalid because it contains newline characters.';
    if (v === 3 && f.description !== undefined) {
      const problem = adfProblem(f.description);
      if (problem) errors.description = `Operation value must be an Atlassian Document (${problem})`;
    }
    if (v === 2 && f.description !== undefined && typeof f.description !== 'string') {
      errors.description = 'Operation value must be a string';
    }
    // Jira's text field limit, counted on what it stores (the ADF document's JSON on v3).
    const stored = typeof f.description === 'string' ? f.description : JSON.stringify(f.description ?? '');
    if (!errors.description && stored.length > 32_767)
      errors.description = 'The entered text is too long. It exceeds the allowed limit of 32,767 characters.';
    const labels = (f.labels ?? []) as unknown[];
    for (const l of labels) {
      if (typeof l !== 'string' || /\s/.test(l))
        errors.labels = `The label '${String(l)}' contains spaces which is invalid.`;
      else if (l.length > 255) errors.labels = 'The label must not exceed 255 characters.';
    }
    const priority = f.priority as { name?: string; id?: string } | undefined;
    if (priority && !(priority.id || (priority.name && priorities.has(priority.name)))) {
      errors.priority = `Priority name '${priority.name}' is not valid`;
    }
    if (f.components !== undefined) {
      const names = Array.isArray(f.components)
        ? f.components.map((x) => (x as { name?: unknown })?.name)
        : [];
      const bad = names.find(
        (n) => typeof n !== 'string' || (opts.components && !opts.components.includes(n)),
      );
      if (!Array.isArray(f.components)) errors.components = 'data was not an array';
      else if (bad !== undefined || names.length !== f.components.length)
        errors.components = `Component name '${String(bad)}' is not valid`;
    }
    if (f.assignee !== undefined) {
      const key = v === 3 ? 'accountId' : 'name';
      const who = (f.assignee as Record<string, unknown> | null)?.[key];
      if (typeof who !== 'string' || !who) errors.assignee = `Specify a valid ${key} for the assignee`;
    }
    Object.assign(errors, customFieldErrors(f, customFields, v));
    if (Object.keys(errors).length) return c.json(jiraError(errors), 400);

    seq += 1;
    const key = `${project}-${seq}`;
    const issue: FakeJiraIssue = {
      id: String(10_000 + seq),
      key,
      api: v,
      fields: { ...f, summary: summary as string, labels: labels as string[], description: f.description },
      properties: Object.fromEntries((body.properties ?? []).map((p) => [p.key, p.value])),
      status: { name: 'To Do', category: 'new' },
      comments: [],
      commentLog: [],
      transitions: [],
      createdAt: Date.now(),
    };
    issues.set(key, issue);
    for (const l of issue.fields.labels) createsByLabel.set(l, (createsByLabel.get(l) ?? 0) + 1);
    return c.json({ id: issue.id, key, self: `${baseUrl()}/rest/api/${v}/issue/${issue.id}` }, 201);
  });

  const search = (jql: string | undefined) => {
    const m = /labels\s*=\s*"?([^"\s]+)"?/i.exec(jql ?? '');
    if (!m) return undefined;
    const indexedBefore = Date.now() - (opts.searchLagMs ?? 0);
    return [...issues.values()].filter(
      (i) => i.createdAt <= indexedBefore && i.fields.labels.includes(m[1]!),
    );
  };
  api.get('/rest/api/3/search/jql', (c) => {
    const found = search(c.req.query('jql'));
    if (!found)
      return c.json(
        jiraError({}, ['Error in the JQL Query: unsupported by the fake (labels = "x" only).']),
        400,
      );
    const max = Number(c.req.query('maxResults') ?? 50);
    return c.json({ issues: found.slice(0, max).map((i) => ({ id: i.id, key: i.key })), isLast: true });
  });
  api.get('/rest/api/2/search', (c) => {
    const found = search(c.req.query('jql'));
    if (!found) return c.json(jiraError({}, ['Error in the JQL Query.']), 400);
    const max = Number(c.req.query('maxResults') ?? 50);
    return c.json({
      startAt: 0,
      maxResults: max,
      total: found.length,
      issues: found.slice(0, max).map((i) => ({ id: i.id, key: i.key })),
    });
  });

  const find = (idOrKey: string) => issues.get(idOrKey) ?? [...issues.values()].find((i) => i.id === idOrKey);
  const notFound = (c: Context<Env>) =>
    c.json(jiraError({}, ['Issue does not exist or you do not have permission to see it.']), 404);

  api.get('/rest/api/:v/issue/:key', (c) => {
    const issue = find(c.req.param('key'));
    if (!issue) return notFound(c);
    const status = { name: issue.status.name, statusCategory: { key: issue.status.category } };
    return c.json({ id: issue.id, key: issue.key, fields: { ...issue.fields, status } });
  });

  api.put('/rest/api/:v/issue/:key', async (c) => {
    const issue = find(c.req.param('key'));
    if (!issue) return notFound(c);
    const body = (await c.req.json()) as { fields?: Record<string, unknown> };
    Object.assign(issue.fields, body.fields ?? {});
    return c.body(null, 204);
  });

  api.get('/rest/api/:v/issue/:key/properties/:prop', (c) => {
    const issue = find(c.req.param('key'));
    const prop = issue?.properties[c.req.param('prop')];
    if (!issue || prop === undefined) return c.json(jiraError({}, ['The property was not found.']), 404);
    return c.json({ key: c.req.param('prop'), value: prop });
  });

  const screenFields = (t: FakeTransition) =>
    t.resolution
      ? {
          resolution: {
            required: t.resolution === 'required',
            name: 'Resolution',
            key: 'resolution',
            operations: ['set'],
            allowedValues: resolutions.map((name, i) => ({ id: String(10_000 + i), name })),
          },
        }
      : {};

  api.get('/rest/api/:v/issue/:key/transitions', (c) => {
    const issue = find(c.req.param('key'));
    if (!issue) return notFound(c);
    const withFields = (c.req.query('expand') ?? '').split(',').includes('transitions.fields');
    const available = workflow.filter((t) => t.to.name !== issue.status.name);
    return c.json({
      transitions: available.map((t) => ({
        id: t.id,
        name: t.name,
        to: { name: t.to.name, statusCategory: { key: t.to.category } },
        ...(withFields ? { fields: screenFields(t) } : {}),
      })),
    });
  });

  api.post('/rest/api/:v/issue/:key/transitions', async (c) => {
    const issue = find(c.req.param('key'));
    if (!issue) return notFound(c);
    const body = (await c.req.json()) as { transition?: { id?: string }; fields?: Record<string, unknown> };
    const t = workflow.find((w) => w.id === body.transition?.id && w.to.name !== issue.status.name);
    if (!t) return c.json(jiraError({}, ['Transition id is not valid for this issue.']), 400);
    const resolution = body.fields?.resolution as { name?: string } | undefined;
    for (const field of Object.keys(body.fields ?? {})) {
      if (field !== 'resolution' || !t.resolution)
        return c.json(
          jiraError({
            [field]: `Field '${field}' cannot be set. It is not on the appropriate screen, or unknown.`,
          }),
          400,
        );
    }
    if (resolution && !resolutions.includes(resolution.name ?? ''))
      return c.json(jiraError({ resolution: `Resolution name '${resolution.name}' is not valid` }), 400);
    if (t.resolution === 'required' && !resolution)
      return c.json(jiraError({ resolution: 'Resolution is required.' }), 400);
    issue.status = { ...t.to };
    if (resolution) issue.fields.resolution = { name: resolution.name };
    issue.transitions.push(t.to.name);
    return c.body(null, 204);
  });

  api.post('/rest/api/:v/issue/:key/comment', async (c) => {
    const issue = find(c.req.param('key'));
    if (!issue) return notFound(c);
    const body = (await c.req.json()) as { body?: unknown };
    if (issue.api === 3 || c.req.param('v') === '3') {
      const problem = adfProblem(body.body);
      if (problem)
        return c.json(jiraError({ comment: `Comment body must be an Atlassian Document (${problem})` }), 400);
    } else if (typeof body.body !== 'string' || !body.body) {
      return c.json(jiraError({ comment: 'Comment body can not be empty!' }), 400);
    }
    const comment: FakeJiraComment = { id: String(++commentSeq), body: body.body, author: BOT };
    issue.comments.push(body.body);
    issue.commentLog.push(comment);
    return c.json({ id: comment.id, body: body.body }, 201 as ContentfulStatusCode);
  });

  app.route('/', api);
  app.route('/ex/jira/:cloudId', api);

  const server = await startServer(app, faults, opts.tls);

  return {
    url: server.url,
    faults,
    issues,
    requests,
    oauth,
    /** The account escalate's comments are posted as. */
    bot: BOT,
    /** Issues created per label (the idempotency label counts creates per violation). */
    createsByLabel,
    /** Moves an issue as a person in Jira would (no escalate involvement). */
    setStatus(key: string, name: string, category: StatusCategory) {
      const issue = issues.get(key);
      if (!issue) throw new Error(`no issue ${key}`);
      issue.status = { name, category };
    },
    /** Adds a comment as a person would, returning the `comment_created` webhook Jira would send. */
    comment(
      key: string,
      text: string,
      author = { accountId: '557058:f58131cb', displayName: 'Dana Analyst' },
    ) {
      const issue = issues.get(key);
      if (!issue) throw new Error(`no issue ${key}`);
      const comment: FakeJiraComment = { id: String(++commentSeq), body: text, author };
      issue.comments.push(text);
      issue.commentLog.push(comment);
      return commentCreatedWebhook(issue, comment);
    },
    /** The `comment_created` webhook for a comment already on the issue (e.g. one escalate posted). */
    commentWebhook(key: string, commentId: string) {
      const issue = issues.get(key);
      const comment = issue?.commentLog.find((x) => x.id === commentId);
      if (!issue || !comment) throw new Error(`no comment ${commentId} on ${key}`);
      return commentCreatedWebhook(issue, comment);
    },
    close: () => server.close(),
  };
}

/** What Jira posts for `comment_created`: the comment (body as text) and a slim issue. */
function commentCreatedWebhook(issue: FakeJiraIssue, comment: FakeJiraComment) {
  const created = new Date().toISOString().replace('Z', '+0000');
  return {
    timestamp: Date.now(),
    webhookEvent: 'comment_created',
    comment: {
      id: comment.id,
      author: { ...comment.author, active: true },
      // Webhooks carry the body as text, also for comments written as ADF.
      body: typeof comment.body === 'string' ? comment.body : adfText(comment.body),
      updateAuthor: { ...comment.author, active: true },
      created,
      updated: created,
      jsdPublic: true,
    },
    issue: {
      id: issue.id,
      key: issue.key,
      fields: {
        summary: issue.fields.summary,
        status: { name: issue.status.name, statusCategory: { key: issue.status.category } },
      },
    },
  };
}

export type FakeJira = Awaited<ReturnType<typeof startFakeJira>>;
