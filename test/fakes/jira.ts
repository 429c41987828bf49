/**
 * Fake Jira (Cloud REST v3 and Data Center REST v2) enforcing the contracts escalate relies on:
 * auth (Basic email:token on /3, Bearer PAT on /2), ADF descriptions on v3 and strings on v2,
 * labels without spaces, summary ≤ 255 chars without newlines, known project / issue type /
 * priority, Jira's error body `{errorMessages, errors}`, 201 `{id, key, self}`, search by label
 * (`/3/search/jql`, `/2/search`), issue properties, transitions and comments. Faults from
 * `fault.ts` (status codes with Retry-After, delays, hangs, dropped or lost responses).
 */
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type Env, Faults, faultMiddleware, startServer } from './fault.js';
import { adfProblem } from './jira-adf.js';

export type StatusCategory = 'new' | 'indeterminate' | 'done';

export interface FakeJiraIssue {
  id: string;
  key: string;
  api: 2 | 3;
  fields: Record<string, unknown> & { summary: string; labels: string[]; description: unknown };
  properties: Record<string, unknown>;
  status: { name: string; category: StatusCategory };
  comments: unknown[];
  transitions: string[];
}

export interface FakeJiraOptions {
  email?: string;
  apiToken?: string;
  pat?: string;
  projects?: string[];
  issueTypes?: string[];
  priorities?: string[];
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

const WORKFLOW: { id: string; name: string; to: { name: string; category: StatusCategory } }[] = [
  { id: '11', name: 'To Do', to: { name: 'To Do', category: 'new' } },
  { id: '21', name: 'Start Progress', to: { name: 'In Progress', category: 'indeterminate' } },
  { id: '31', name: 'Done', to: { name: 'Done', category: 'done' } },
];

const jiraError = (errors: Record<string, string>, errorMessages: string[] = []) => ({
  errorMessages,
  errors,
});

export async function startFakeJira(opts: FakeJiraOptions = {}) {
  const email = opts.email ?? 'bot@example.com';
  const apiToken = opts.apiToken ?? 'cloud-token';
  const pat = opts.pat ?? 'dc-pat';
  const projects = new Set(opts.projects ?? ['SEC']);
  const issueTypes = new Set(opts.issueTypes ?? ['Task', 'Bug', 'Incident']);
  const priorities = new Set(opts.priorities ?? ['Highest', 'High', 'Medium', 'Low', 'Lowest']);
  const granted = new Set(opts.permissions ?? Object.keys(PROJECT_PERMISSIONS));
  const displayName = opts.displayName ?? 'escalate bot';
  const issues = new Map<string, FakeJiraIssue>();
  const createsByLabel = new Map<string, number>();
  const faults = new Faults();
  let seq = 0;

  const app = new Hono<Env>();
  app.use(
    '*',
    faultMiddleware(faults, (status) => jiraError({}, [`HTTP ${status}`])),
  );

  // Auth: v3 (Cloud) takes Basic email:api_token; v2 (Data Center) a PAT as Bearer.
  app.use('/rest/api/:v/*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const v = c.req.param('v');
    const ok =
      v === '3'
        ? header === `Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}`
        : header === `Bearer ${pat}`;
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
  app.get('/rest/api/:v/myself', (c) =>
    c.req.param('v') === '3'
      ? c.json({ accountId: '5b10a2844c20165700ede21g', emailAddress: email, displayName, active: true })
      : c.json({ name: 'escalate-bot', key: 'escalate-bot', emailAddress: email, displayName, active: true }),
  );

  app.get('/rest/api/:v/mypermissions', (c) => {
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

  app.get('/rest/api/:v/issue/createmeta/:project/issuetypes', (c) => {
    const key = c.req.param('project');
    if (!projects.has(key)) return noProject(c, key);
    const types = [...issueTypes].map((name, i) => ({
      self: `${baseUrl()}/rest/api/${c.req.param('v')}/issuetype/${10_001 + i}`,
      id: String(10_001 + i),
      name,
      description: name,
      subtask: false,
    }));
    const page = { startAt: 0, maxResults: Number(c.req.query('maxResults') ?? 50), total: types.length };
    // Cloud (v3) lists them as `issueTypes`; Data Center (v2) as `values` with `isLast`.
    return c.req.param('v') === '3'
      ? c.json({ ...page, issueTypes: types })
      : c.json({ ...page, isLast: true, values: types });
  });

  app.post('/rest/api/:v/issue', async (c) => {
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
    if (!issueType || !issueTypes.has(issueType)) errors.issuetype = 'Specify a valid issue type';
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
      transitions: [],
    };
    issues.set(key, issue);
    for (const l of issue.fields.labels) createsByLabel.set(l, (createsByLabel.get(l) ?? 0) + 1);
    return c.json({ id: issue.id, key, self: `${baseUrl()}/rest/api/${v}/issue/${issue.id}` }, 201);
  });

  const search = (jql: string | undefined) => {
    const m = /labels\s*=\s*"?([^"\s]+)"?/i.exec(jql ?? '');
    if (!m) return undefined;
    return [...issues.values()].filter((i) => i.fields.labels.includes(m[1]!));
  };
  app.get('/rest/api/3/search/jql', (c) => {
    const found = search(c.req.query('jql'));
    if (!found)
      return c.json(
        jiraError({}, ['Error in the JQL Query: unsupported by the fake (labels = "x" only).']),
        400,
      );
    const max = Number(c.req.query('maxResults') ?? 50);
    return c.json({ issues: found.slice(0, max).map((i) => ({ id: i.id, key: i.key })), isLast: true });
  });
  app.get('/rest/api/2/search', (c) => {
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

  app.get('/rest/api/:v/issue/:key', (c) => {
    const issue = find(c.req.param('key'));
    if (!issue) return notFound(c);
    const status = { name: issue.status.name, statusCategory: { key: issue.status.category } };
    return c.json({ id: issue.id, key: issue.key, fields: { ...issue.fields, status } });
  });

  app.put('/rest/api/:v/issue/:key', async (c) => {
    const issue = find(c.req.param('key'));
    if (!issue) return notFound(c);
    const body = (await c.req.json()) as { fields?: Record<string, unknown> };
    Object.assign(issue.fields, body.fields ?? {});
    return c.body(null, 204);
  });

  app.get('/rest/api/:v/issue/:key/properties/:prop', (c) => {
    const issue = find(c.req.param('key'));
    const prop = issue?.properties[c.req.param('prop')];
    if (!issue || prop === undefined) return c.json(jiraError({}, ['The property was not found.']), 404);
    return c.json({ key: c.req.param('prop'), value: prop });
  });

  app.get('/rest/api/:v/issue/:key/transitions', (c) => {
    const issue = find(c.req.param('key'));
    if (!issue) return notFound(c);
    const available = WORKFLOW.filter((t) => t.to.name !== issue.status.name);
    return c.json({
      transitions: available.map((t) => ({
        id: t.id,
        name: t.name,
        to: { name: t.to.name, statusCategory: { key: t.to.category } },
      })),
    });
  });

  app.post('/rest/api/:v/issue/:key/transitions', async (c) => {
    const issue = find(c.req.param('key'));
    if (!issue) return notFound(c);
    const body = (await c.req.json()) as { transition?: { id?: string } };
    const t = WORKFLOW.find((w) => w.id === body.transition?.id && w.to.name !== issue.status.name);
    if (!t) return c.json(jiraError({}, ['Transition id is not valid for this issue.']), 400);
    issue.status = { ...t.to };
    issue.transitions.push(t.to.name);
    return c.body(null, 204);
  });

  app.post('/rest/api/:v/issue/:key/comment', async (c) => {
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
    issue.comments.push(body.body);
    return c.json({ id: String(issue.comments.length), body: body.body }, 201 as ContentfulStatusCode);
  });

  const server = await startServer(app, faults);

  return {
    url: server.url,
    faults,
    issues,
    /** Issues created per label (the idempotency label counts creates per violation). */
    createsByLabel,
    /** Moves an issue as a person in Jira would (no escalate involvement). */
    setStatus(key: string, name: string, category: StatusCategory) {
      const issue = issues.get(key);
      if (!issue) throw new Error(`no issue ${key}`);
      issue.status = { name, category };
    },
    close: () => server.close(),
  };
}

export type FakeJira = Awaited<ReturnType<typeof startFakeJira>>;
