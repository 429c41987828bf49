import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/http.js';
import { createJiraIssue } from '../../connectors/jira.js';
import { textToAdf } from '../../connectors/jira-format.js';
import {
  addJiraComment,
  chooseJiraTransition,
  jiraPriorityFor,
  listJiraTransitions,
  setJiraPriority,
  transitionJiraIssue,
} from '../../connectors/jira-lifecycle.js';
import { type JiraConfig, jiraConfigSchema } from '../../domain/connector.js';
import { jiraStatusFromWebhook } from '../../domain/itsm-status.js';
import type { TicketDraft } from '../../domain/ticket.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { adfProblem, adfText } from '../fakes/jira-adf.js';
import { SECURITY_WORKFLOW } from '../helpers/jira-installation.js';

const TIMEOUT = 2_000;

let keySeq = 0;
const draft = (): TicketDraft => ({
  eventId: '0b6b6f4e-3f5c-4b8e-9a43-6f1d2f1c9a11',
  idempotencyKey: `escalate-${(++keySeq).toString(16).padStart(12, '0')}`,
  title: '[escalate] policy_violation: PII sent to gpt-4o',
  severity: 'high',
  priority: 'high',
  facts: [
    ['Event', 'policy_violation'],
    ['Severity', 'high'],
  ],
  payload: { event_id: '0b6b6f4e-3f5c-4b8e-9a43-6f1d2f1c9a11', summary: 'PII sent to gpt-4o' },
  labels: [],
  customFields: {},
});

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectorError);
    return err as ConnectorError;
  }
  throw new Error('expected a ConnectorError');
}

let fake: FakeJira;
beforeEach(async () => {
  fake = await startFakeJira();
});
afterEach(async () => {
  await fake.close();
});

const cloud = (): JiraConfig =>
  jiraConfigSchema.parse({
    base_url: fake.url,
    api: 'cloud',
    email: 'bot@example.com',
    api_token: 'cloud-token',
    project_key: 'SEC',
    issue_type: 'Task',
  });
const datacenter = (): JiraConfig =>
  jiraConfigSchema.parse({
    base_url: fake.url,
    api: 'datacenter',
    pat: 'dc-pat',
    project_key: 'SEC',
    issue_type: 'Task',
  });

async function newIssue(config: JiraConfig): Promise<string> {
  const ref = await createJiraIssue(config, draft(), { timeoutMs: TIMEOUT, lookupFirst: false });
  return ref.externalId;
}

describe.each([
  ['cloud', cloud, 3],
  ['datacenter', datacenter, 2],
] as const)('transitionJiraIssue (%s)', (_name, config, v) => {
  it('moves the issue through in_progress to resolved by status category', async () => {
    const key = await newIssue(config());
    const started = await transitionJiraIssue(config(), key, 'in_progress', { timeoutMs: TIMEOUT });
    expect(started).toMatchObject({
      changed: true,
      from: { name: 'To Do', category: 'new' },
      transition: { id: '21', name: 'Start Progress', to: { category: 'indeterminate' } },
    });
    expect(fake.issues.get(key)!.status).toEqual({ name: 'In Progress', category: 'indeterminate' });

    const done = await transitionJiraIssue(config(), key, 'resolved', { timeoutMs: TIMEOUT });
    expect(done).toMatchObject({ changed: true, transition: { id: '31' } });
    expect(fake.issues.get(key)!.status.category).toBe('done');
    expect(fake.issues.get(key)!.transitions).toEqual(['In Progress', 'Done']);
    expect(fake.faults.count(`/rest/api/${v}/issue/${key}/transitions`)).toBe(4);

    // Reopen: back to the "new" category.
    const reopened = await transitionJiraIssue(config(), key, 'open', { timeoutMs: TIMEOUT });
    expect(reopened).toMatchObject({ changed: true, transition: { id: '11' } });
    expect(fake.issues.get(key)!.status).toEqual({ name: 'To Do', category: 'new' });
  });

  it('is a no-op when the issue already is in the target category', async () => {
    const key = await newIssue(config());
    const res = await transitionJiraIssue(config(), key, 'open', { timeoutMs: TIMEOUT });
    expect(res).toEqual({ changed: false, from: { name: 'To Do', category: 'new' } });

    fake.setStatus(key, 'Done', 'done');
    fake.faults.clear();
    for (const target of ['resolved', 'closed'] as const) {
      const again = await transitionJiraIssue(config(), key, target, { timeoutMs: TIMEOUT });
      expect(again.changed).toBe(false);
    }
    // Nothing was posted (not even the transitions list was needed).
    expect(fake.faults.count(`/rest/api/${v}/issue/${key}/transitions`)).toBe(0);
    expect(fake.issues.get(key)!.transitions).toEqual([]);
  });

  it('uses a configured transition name (case-insensitive)', async () => {
    const key = await newIssue(config());
    const res = await transitionJiraIssue(config(), key, 'resolved', {
      timeoutMs: TIMEOUT,
      transitionName: 'dONE',
    });
    expect(res).toMatchObject({ changed: true, transition: { id: '31', name: 'Done' } });
    expect(fake.issues.get(key)!.status.name).toBe('Done');
  });

  it('refuses, without retry, when no transition matches, naming the available ones', async () => {
    const key = await newIssue(config());
    const err = await failure(
      transitionJiraIssue(config(), key, 'resolved', { timeoutMs: TIMEOUT, transitionName: 'Resolve Issue' }),
    );
    expect(err.retryable).toBe(false);
    expect(err.remoteCode).toBe('no_transition');
    expect(err.message).toContain(key);
    expect(err.message).toContain('Resolve Issue');
    expect(err.message).toContain('"Start Progress"');
    expect(err.message).toContain('"Done"');
    expect(fake.issues.get(key)!.status.name).toBe('To Do');
  });

  it('refuses when the workflow has no transition into the category', async () => {
    const key = await newIssue(config());
    fake.setStatus(key, 'Blocked', 'indeterminate');
    // A workflow where "In Progress" is the only way on: nothing leads into "done" from here.
    fake.faults.status(200, {
      path: `/rest/api/${v}/issue/${key}/transitions`,
      body: {
        transitions: [
          { id: '11', name: 'To Do', to: { name: 'To Do', statusCategory: { key: 'new' } } },
          {
            id: '21',
            name: 'Unblock',
            to: { name: 'In Progress', statusCategory: { key: 'indeterminate' } },
          },
        ],
      },
    });
    const err = await failure(transitionJiraIssue(config(), key, 'closed', { timeoutMs: TIMEOUT }));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/no transition into status category "done"/);
    expect(err.message).toContain('"Unblock" (id 21 → In Progress [indeterminate])');
  });

  it('retries 5xx answers on transitions', async () => {
    const key = await newIssue(config());
    fake.faults.status(503, { path: `/rest/api/${v}/issue/${key}/transitions`, retryAfter: 2 });
    const err = await failure(transitionJiraIssue(config(), key, 'in_progress', { timeoutMs: TIMEOUT }));
    expect(err.retryable).toBe(true);
    expect(err.status).toBe(503);
    expect(err.retryAfterMs).toBe(2_000);
    expect(fake.issues.get(key)!.status.name).toBe('To Do');

    // The retry succeeds.
    const res = await transitionJiraIssue(config(), key, 'in_progress', { timeoutMs: TIMEOUT });
    expect(res.changed).toBe(true);
  });

  it('retries a 5xx on the transition POST and fails at once on an invalid transition (400)', async () => {
    const key = await newIssue(config());
    fake.faults.push(
      { kind: 'delay', ms: 0, path: `/rest/api/${v}/issue/${key}/transitions` },
      { kind: 'status', status: 502, path: `/rest/api/${v}/issue/${key}/transitions` },
    );
    const err = await failure(transitionJiraIssue(config(), key, 'in_progress', { timeoutMs: TIMEOUT }));
    expect(err.retryable).toBe(true);
    expect(err.status).toBe(502);

    fake.faults.push(
      { kind: 'delay', ms: 0, path: `/rest/api/${v}/issue/${key}/transitions` },
      {
        kind: 'status',
        status: 400,
        path: `/rest/api/${v}/issue/${key}/transitions`,
        body: { errorMessages: ['Transition id is not valid for this issue.'], errors: {} },
      },
    );
    const invalid = await failure(transitionJiraIssue(config(), key, 'in_progress', { timeoutMs: TIMEOUT }));
    expect(invalid.retryable).toBe(false);
    expect(invalid.message).toContain('Transition id is not valid');
  });

  it('reports an unknown issue as a permanent 404', async () => {
    const err = await failure(transitionJiraIssue(config(), 'SEC-999', 'resolved', { timeoutMs: TIMEOUT }));
    expect(err.status).toBe(404);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('Issue does not exist');
  });

  it('lists transitions with their target categories', async () => {
    const key = await newIssue(config());
    expect(await listJiraTransitions(config(), key, TIMEOUT)).toEqual([
      { id: '21', name: 'Start Progress', to: { name: 'In Progress', category: 'indeterminate' } },
      { id: '31', name: 'Done', to: { name: 'Done', category: 'done' } },
    ]);
  });

  it('sets the priority (by name or id)', async () => {
    const key = await newIssue(config());
    expect(fake.issues.get(key)!.fields.priority).toEqual({ name: 'High' });
    await setJiraPriority(config(), key, 'Highest', TIMEOUT);
    expect(fake.issues.get(key)!.fields.priority).toEqual({ name: 'Highest' });
    await setJiraPriority(config(), key, { id: '1' }, TIMEOUT);
    expect(fake.issues.get(key)!.fields.priority).toEqual({ id: '1' });
    const err = await failure(setJiraPriority(config(), 'SEC-999', 'High', TIMEOUT));
    expect(err.status).toBe(404);
  });
});

describe('custom workflows (transition names, resolution)', () => {
  let custom: FakeJira;
  beforeEach(async () => {
    custom = await startFakeJira({ workflow: SECURITY_WORKFLOW });
  });
  afterEach(() => custom.close());

  const config = (extra: Record<string, unknown> = {}): JiraConfig =>
    jiraConfigSchema.parse({
      base_url: custom.url,
      email: 'bot@example.com',
      api_token: 'cloud-token',
      project_key: 'SEC',
      transitions: {
        open: 'reopen issue',
        in_progress: 'Start Progress',
        resolved: 'Resolve Issue',
        closed: 'CLOSE ISSUE',
      },
      resolution: 'fixed',
      ...extra,
    });

  it('uses the configured transition among two into "done", with the resolution on its screen', async () => {
    const key = (await createJiraIssue(config(), draft(), { timeoutMs: TIMEOUT, lookupFirst: false }))
      .externalId;
    const resolved = await transitionJiraIssue(config(), key, 'resolved', { timeoutMs: TIMEOUT });
    expect(resolved).toMatchObject({ changed: true, transition: { id: '31', name: 'Resolve Issue' } });
    const issue = custom.issues.get(key)!;
    expect(issue.status).toEqual({ name: 'Resolved', category: 'done' });
    expect(issue.fields.resolution).toEqual({ name: 'Fixed' });
    const posted = custom.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/transitions'));
    expect(JSON.parse(posted[0]!.body)).toEqual({
      transition: { id: '31' },
      fields: { resolution: { name: 'Fixed' } },
    });

    // Resolved → Closed stays in "done": the configured "Close Issue" is still posted.
    const closed = await transitionJiraIssue(config(), key, 'closed', { timeoutMs: TIMEOUT });
    expect(closed).toMatchObject({ changed: true, transition: { id: '41' } });
    expect(issue.status.name).toBe('Closed');
    expect(issue.transitions).toEqual(['Resolved', 'Closed']);

    const reopened = await transitionJiraIssue(config(), key, 'open', { timeoutMs: TIMEOUT });
    expect(reopened).toMatchObject({ changed: true, transition: { name: 'Reopen Issue' } });
    // A transition screen without the resolution field gets none.
    await transitionJiraIssue(config(), key, 'in_progress', { timeoutMs: TIMEOUT });
    const last = custom.requests
      .filter((r) => r.method === 'POST' && r.path.endsWith('/transitions'))
      .at(-1)!;
    expect(JSON.parse(last.body)).toEqual({ transition: { id: '21' } });
  });

  it('without names, goes by category; a required resolution Jira refuses comes back verbatim', async () => {
    const bare = config({ transitions: undefined, resolution: undefined });
    const key = (await createJiraIssue(bare, draft(), { timeoutMs: TIMEOUT, lookupFirst: false })).externalId;
    const err = await failure(transitionJiraIssue(bare, key, 'resolved', { timeoutMs: TIMEOUT }));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('resolution: Resolution is required.');
    expect(custom.issues.get(key)!.status.name).toBe('To Do');
  });

  it('a resolution the screen does not offer is refused with the offered ones', async () => {
    const wrong = config({ resolution: 'Fixed in prod' });
    const key = (await createJiraIssue(wrong, draft(), { timeoutMs: TIMEOUT, lookupFirst: false }))
      .externalId;
    const err = await failure(transitionJiraIssue(wrong, key, 'resolved', { timeoutMs: TIMEOUT }));
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      'Jira transition "Resolve Issue" does not offer resolution "Fixed in prod" (offered: "Done", "Won\'t Do", "Duplicate", "Fixed")',
    );
  });

  it('a configured name Jira does not offer lists what it offered', async () => {
    const typo = config({ transitions: { resolved: 'Resolve' } });
    const key = (await createJiraIssue(typo, draft(), { timeoutMs: TIMEOUT, lookupFirst: false })).externalId;
    const err = await failure(transitionJiraIssue(typo, key, 'resolved', { timeoutMs: TIMEOUT }));
    expect(err.remoteCode).toBe('no_transition');
    expect(err.message).toContain('no transition named "Resolve"');
    expect(err.message).toContain('"Resolve Issue" (id 31 → Resolved [done])');
    expect(err.message).toContain('"Close Issue" (id 41 → Closed [done])');
  });
});

describe('addJiraComment', () => {
  it('posts an ADF document on Cloud (validated by the fake)', async () => {
    const key = await newIssue(cloud());
    const text = 'SLA breached: still open after 4h.\nPriority raised to Highest.\n\nSee the audit trail.';
    const res = await addJiraComment(cloud(), key, text, TIMEOUT);
    expect(res).toEqual({ id: '10001' });
    const [body] = fake.issues.get(key)!.comments;
    expect(adfProblem(body)).toBeUndefined();
    expect(body).toEqual({
      type: 'doc',
      version: 1,
      content: [
        {
          type: 'paragraph',
          content: [
            { type: 'text', text: 'SLA breached: still open after 4h.' },
            { type: 'hardBreak' },
            { type: 'text', text: 'Priority raised to Highest.' },
          ],
        },
        { type: 'paragraph', content: [{ type: 'text', text: 'See the audit trail.' }] },
      ],
    });
  });

  it('posts a string on Data Center', async () => {
    const key = await newIssue(datacenter());
    await addJiraComment(datacenter(), key, 'Recurred: 3rd occurrence.', TIMEOUT);
    expect(fake.issues.get(key)!.comments).toEqual(['Recurred: 3rd occurrence.']);
  });

  it('refuses an empty comment locally', async () => {
    const key = await newIssue(cloud());
    const err = await failure(addJiraComment(cloud(), key, '  \n ', TIMEOUT));
    expect(err.retryable).toBe(false);
    expect(fake.issues.get(key)!.comments).toEqual([]);
  });

  it('retries a 5xx', async () => {
    const key = await newIssue(cloud());
    fake.faults.status(500, { path: `/rest/api/3/issue/${key}/comment` });
    const err = await failure(addJiraComment(cloud(), key, 'hello', TIMEOUT));
    expect(err.retryable).toBe(true);
  });
});

describe('textToAdf', () => {
  it('keeps odd spacing valid', () => {
    for (const text of ['\n\nfirst\n\n\n\nsecond\n', 'a\r\nb', ' x ', 'trailing\n', '{code} *not markup*']) {
      const doc = textToAdf(text);
      expect(adfProblem(doc)).toBeUndefined();
      expect(adfText(doc).replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
    }
  });
});

describe('jiraPriorityFor', () => {
  it('follows priority_map and the defaults', () => {
    expect(jiraPriorityFor(cloud(), 'critical')).toBe('Highest');
    const mapped = jiraConfigSchema.parse({
      ...cloud(),
      priority_map: { critical: 'P1', low: { id: '5' } },
    });
    expect(jiraPriorityFor(mapped, 'critical')).toBe('P1');
    expect(jiraPriorityFor(mapped, 'low')).toEqual({ id: '5' });
    expect(jiraPriorityFor(mapped, 'medium')).toBe('Medium');
    expect(jiraPriorityFor({ ...cloud(), priority_map: false }, 'high')).toBeUndefined();
  });
});

describe('chooseJiraTransition', () => {
  const transitions = [
    { id: '1', name: 'Stop', to: { name: 'Backlog', category: 'new' } },
    { id: '2', name: 'Resolve', to: { name: 'Resolved', category: 'done' } },
    { id: '3', name: "Won't do", to: { name: 'Closed', category: 'done' } },
  ];
  it('picks the first transition into the category, or the configured one by name or status', () => {
    expect(chooseJiraTransition(transitions, 'resolved')?.id).toBe('2');
    expect(chooseJiraTransition(transitions, 'closed')?.id).toBe('2');
    expect(chooseJiraTransition(transitions, 'closed', "won't DO")?.id).toBe('3');
    expect(chooseJiraTransition(transitions, 'closed', 'closed')?.id).toBe('3');
    expect(chooseJiraTransition(transitions, 'open')?.id).toBe('1');
    expect(chooseJiraTransition(transitions, 'in_progress')).toBeUndefined();
    expect(chooseJiraTransition(transitions, 'resolved', 'Nope')).toBeUndefined();
  });
});

describe('jiraStatusFromWebhook', () => {
  const issue = (name?: string, key?: string) => ({
    fields: { status: { name, statusCategory: key === undefined ? undefined : { key } } },
  });

  it.each([
    ['To Do', 'new', 'open'],
    ['In Progress', 'indeterminate', 'in_progress'],
    ['In Review', 'indeterminate', 'in_progress'],
    ['Done', 'done', 'resolved'],
    ["Won't Do", 'done', 'resolved'],
  ] as const)('%s [%s] → %s', (name, key, expected) => {
    expect(jiraStatusFromWebhook(issue(name, key))).toBe(expected);
  });

  it('lets overrides by status name (case-insensitive) win over the category', () => {
    const overrides = { Closed: 'closed', 'in review': 'resolved', Blocked: 'open' } as const;
    expect(jiraStatusFromWebhook(issue('CLOSED', 'done'), overrides)).toBe('closed');
    expect(jiraStatusFromWebhook(issue('In Review', 'indeterminate'), overrides)).toBe('resolved');
    expect(jiraStatusFromWebhook(issue('Blocked', undefined), overrides)).toBe('open');
    expect(jiraStatusFromWebhook(issue('Done', 'done'), overrides)).toBe('resolved');
  });

  it('is undefined without a usable status', () => {
    expect(jiraStatusFromWebhook({})).toBeUndefined();
    expect(jiraStatusFromWebhook({ fields: {} })).toBeUndefined();
    expect(jiraStatusFromWebhook(undefined)).toBeUndefined();
    expect(jiraStatusFromWebhook(issue('Triage', 'undefined'))).toBeUndefined();
    expect(jiraStatusFromWebhook(issue('Odd', 'toString'))).toBeUndefined();
    expect(jiraStatusFromWebhook(issue(undefined, undefined))).toBeUndefined();
  });
});
