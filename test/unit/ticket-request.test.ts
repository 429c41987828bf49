import { describe, expect, it } from 'vitest';
import { jiraCreateCall } from '../../connectors/jira.js';
import { jiraAuthorization, jiraRequest } from '../../connectors/jira-client.js';
import { buildServiceNowCreateRequest } from '../../connectors/servicenow.js';
import { jiraConfigSchema, servicenowConfigSchema } from '../../domain/connector.js';
import { buildTicketDraft } from '../../domain/ticket-draft.js';
import { adfProblem } from '../fakes/jira-adf.js';

const payload = {
  event_id: '6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f',
  event_type: 'policy_violation',
  summary: 'max-tokens exceeded',
  severity: 'high',
  user_email: 'alice@example.com',
  policy: { id: 'pol-1', name: 'Max tokens', action: 'block' },
  details: { prompt: 'x'.repeat(100_000) },
  tags: { team: 'payments' },
};

const jira = (extra: Record<string, unknown> = {}) =>
  jiraConfigSchema.parse({
    base_url: 'https://acme.atlassian.net/',
    email: 'bot@acme.com',
    api_token: 't',
    project_key: 'SEC',
    ...extra,
  });

const draft = (config: Record<string, unknown> = {}, spec?: Parameters<typeof buildTicketDraft>[0]['spec']) =>
  buildTicketDraft({
    payload,
    severity: 'high',
    priority: 'high',
    idempotencyKey: 'escalate-abc',
    config,
    spec,
  });

const body = (req: { body?: string }) => JSON.parse(req.body!) as { fields: Record<string, unknown> };

/** The create request for a draft (custom fields as shaped elsewhere: none here). */
const buildJiraCreateRequest = async (
  config: ReturnType<typeof jira>,
  d: ReturnType<typeof draft>,
  customFields: Record<string, unknown> = {},
) => jiraRequest(config, jiraCreateCall(config, d, customFields), await jiraAuthorization(config, 1_000));

/** A payload whose JSON is mostly quotes and newlines: twice as long once escaped. */
const quoteHeavy = {
  ...payload,
  details: Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`k${i}`, `"${'\\'.repeat(3)}"`])),
};

describe("Jira descriptions stay within Jira's 32,767 characters", () => {
  const longTemplate = `{{summary}}${'\n\nparagraph with "quotes" and \\backslashes\\ '.repeat(2000)}`;
  it.each([
    ['cloud (ADF, measured as the JSON Jira stores)', 'cloud'],
    ['data center (wiki text)', 'datacenter'],
  ])('%s, with an escape-heavy payload and a huge description template', async (_what, api) => {
    const config = jira(api === 'cloud' ? {} : { api, pat: 'p' });
    for (const d of [
      buildTicketDraft({ payload: quoteHeavy, severity: 'high', priority: 'high', idempotencyKey: 'k' }),
      buildTicketDraft({
        payload: quoteHeavy,
        severity: 'high',
        priority: 'high',
        idempotencyKey: 'k',
        config: { description_template: longTemplate },
      }),
    ]) {
      const { fields } = body(await buildJiraCreateRequest(config, d));
      const size =
        typeof fields.description === 'string'
          ? fields.description.length
          : JSON.stringify(fields.description).length;
      expect(size).toBeLessThanOrEqual(32_767);
      expect(size).toBeGreaterThan(30_000);
      if (api === 'cloud') expect(adfProblem(fields.description)).toBeUndefined();
    }
  });
});

describe('ticket requests', () => {
  it('Jira Cloud: default title, ADF description within 32,767 chars, labels, priority, idempotency property', async () => {
    const req = await buildJiraCreateRequest(jira(), draft());
    expect(req.url).toBe('https://acme.atlassian.net/rest/api/3/issue');
    const { fields } = body(req);
    expect(fields.summary).toBe('[escalate] policy_violation: max-tokens exceeded');
    expect(adfProblem(fields.description)).toBeUndefined();
    expect(JSON.stringify(fields.description).length).toBeLessThanOrEqual(32_767);
    expect(JSON.stringify(fields.description)).toContain('payload truncated');
    expect(fields.labels).toEqual(['escalate', 'ai-policy', 'high', 'escalate-abc']);
    expect(fields.priority).toEqual({ name: 'High' });
    expect(JSON.parse(req.body!).properties[0]).toEqual({
      key: 'escalate',
      value: { idempotency_key: 'escalate-abc', event_id: payload.event_id },
    });
  });

  it('templates, custom fields, rule labels with spaces made safe, priority by id or disabled', async () => {
    const config = jira({
      title_template: '{{ severity | upper }} {{ policy.name }} by {{ user_email }}\nsecond line',
      custom_fields: {
        customfield_10010: '{{ tags.team | default("none") }}',
        customfield_10011: '{{ constructor.constructor }}',
      },
      labels: ['ai gateway', 'team {{ tags.team }}', '{{ missing }}'],
      components: ['{{ tags.team | upper }}', 'AI'],
      assignee: '{{ tags.owner | default("5b10ac8d82e05b22cc7d4ef5") }}',
      priority_map: { high: { id: '2' } },
    });
    const d = draft(config, { labels: ['exfil risk'], projectKey: 'OPS', issueType: 'Bug' });
    // Custom fields are rendered into the draft, then shaped by the create metadata (jira-createmeta.ts).
    expect(d.customFields).toEqual({ customfield_10010: 'payments', customfield_10011: '' });
    const { fields } = body(await buildJiraCreateRequest(config, d, { customfield_10010: 'payments' }));
    expect(fields.summary).toBe('HIGH Max tokens by alice@example.com second line');
    expect(fields.customfield_10010).toBe('payments');
    expect(fields.labels).toEqual([
      'escalate',
      'ai-policy',
      'high',
      'ai-gateway',
      'team-payments',
      'exfil-risk',
      'escalate-abc',
    ]);
    expect(fields.components).toEqual([{ name: 'PAYMENTS' }, { name: 'AI' }]);
    expect(fields.assignee).toEqual({ accountId: '5b10ac8d82e05b22cc7d4ef5' });
    // A rule's assignee wins over the connector's default.
    expect(
      body(await buildJiraCreateRequest(config, draft(config, { labels: [], assignee: 'abc' }))).fields
        .assignee,
    ).toEqual({
      accountId: 'abc',
    });
    expect(fields.priority).toEqual({ id: '2' });
    expect(fields.project).toEqual({ key: 'OPS' });
    expect(fields.issuetype).toEqual({ name: 'Bug' });
    const none = jira({ priority_map: false });
    expect(body(await buildJiraCreateRequest(none, draft())).fields.priority).toBeUndefined();
  });

  it('titles are cut to 255 chars and an invalid template is refused by the connector schema', async () => {
    const long = await buildJiraCreateRequest(jira(), { ...draft(), title: 'a'.repeat(400) });
    expect((body(long).fields.summary as string).length).toBe(255);
    expect(jiraConfigSchema.safeParse({ ...jira(), title_template: '{{ x | nope }}' }).success).toBe(false);
  });

  it('Jira Data Center: REST v2, Bearer PAT, wiki text description', async () => {
    const config = jiraConfigSchema.parse({
      base_url: 'https://jira.acme.com',
      api: 'datacenter',
      pat: 'p',
      project_key: 'SEC',
    });
    const req = await buildJiraCreateRequest(config, draft());
    expect(req.url).toBe('https://jira.acme.com/rest/api/2/issue');
    expect(req.headers.Authorization).toBe('Bearer p');
    expect(typeof body(req).fields.description).toBe('string');
    expect(body(req).fields.description as string).toContain('{code:json}');
  });

  it('ServiceNow: urgency/impact from the priority, correlation_id, u_* custom fields from templates', () => {
    const config = servicenowConfigSchema.parse({
      instance_url: 'https://acme.service-now.com',
      username: 'u',
      password: 'p',
      table: 'sn_si_incident',
      close_code: 'Investigation completed',
      assignment_group: 'IT Security',
      custom_fields: { u_policy: '{{ policy.id }}' },
    });
    const req = buildServiceNowCreateRequest(config, draft(config));
    expect(req.url).toMatch(/^https:\/\/acme\.service-now\.com\/api\/now\/table\/sn_si_incident/);
    const b = JSON.parse(req.body!) as Record<string, string>;
    expect(b).toMatchObject({
      urgency: '2',
      impact: '2',
      correlation_id: 'escalate-abc',
      assignment_group: 'IT Security',
      u_policy: 'pol-1',
    });
    expect(b.description!.length).toBeLessThanOrEqual(32_767);
  });
});
