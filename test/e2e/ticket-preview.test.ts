// biome-ignore-all lint/suspicious/noThenProperty: rules have a `then` field; plain data.
/**
 * Preview is the exact request: rendered by a worker with the connector's templates, its custom
 * fields shaped by Jira's create metadata and the matching rule's shaping, then compared with the
 * request the real creation sent. Typed custom fields end to end, a value that cannot be shaped,
 * and the connection test using the connector's templates and fields.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeServiceNow, startFakeServiceNow } from '../fakes/servicenow.js';
import { eventually, FAST_RETRY, jiraConnector, makeEvent } from '../helpers/events.js';
import { RISK_AND_CLASSIFICATIONS } from '../helpers/jira-installation.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let jira: FakeJira;
let snow: FakeServiceNow;

beforeAll(async () => {
  [stack, jira, snow] = await Promise.all([
    startStack(),
    startFakeJira({
      customFields: RISK_AND_CLASSIFICATIONS,
      components: ['AI Gateway'],
      projects: ['SEC', 'AIGOV'],
    }),
    startFakeServiceNow({ username: 'svc', password: 'pw', customFields: ['u_risk_score'] }),
  ]);
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([jira?.close(), snow?.close()]);
});

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await stack.api('/v1/connectors', { method: 'POST', json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

type View = {
  status: string;
  tickets: { connector_id: string; external_id: string | null }[];
  deliveries: { connector_id: string; status: string; attempts: number; last_error: string | null }[];
};
const settled = (id: string) =>
  eventually(
    async () => {
      const v = (await (await stack.api(`/v1/violations/${id}`)).json()) as View;
      return v.status !== 'processing' ? v : undefined;
    },
    30_000,
    `violation ${id}`,
  );

/** A violation no rule sends anywhere, stored and settled. */
async function stored(): Promise<Record<string, unknown>> {
  const event = makeEvent();
  expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
  await settled(event.event_id as string);
  return event;
}

async function push(eventId: string, connectorId: string) {
  const res = await stack.api(`/v1/violations/${eventId}/tickets`, {
    method: 'POST',
    json: { connector_id: connectorId },
  });
  expect(res.status).toBe(202);
}

type Preview = {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  body_json: unknown;
};
async function preview(eventId: string, connectorId: string): Promise<Preview> {
  const res = await stack.api(`/v1/violations/${eventId}/tickets:preview`, {
    method: 'POST',
    json: { connector_id: connectorId },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Preview;
}

const jiraConfig = (extra: Record<string, unknown> = {}) => ({
  ...jiraConnector(jira.url).config,
  title_template: '[{{ severity | upper }}] {{ policy.name }}: {{ summary }}',
  description_template: 'User {{ user_email }} hit {{ policy.name }} on {{ platform_id }}.',
  labels: ['team-{{ tags.team }}'],
  components: ['AI Gateway'],
  custom_fields: {
    customfield_10050: '{{ risk_score }}',
    customfield_10051: '{{ classifications | map("type") | json }}',
  },
  ...extra,
});

describe('preview equals the created request', () => {
  it('Jira: templates, typed custom fields and the planned rule shaping; same method, URL and body as the create', async () => {
    const id = await create(jiraConnector(jira.url, { auto_push: false, config: jiraConfig() }));
    const rule = await stack.api('/v1/rules', {
      method: 'POST',
      json: {
        name: `blocked to ${id}`,
        order: 1,
        when: { policy_actions: ['block'] },
        then: {
          targets: [id],
          priority: 'high',
          assignee: '5b10ac8d82e05b22cc7d4ef5',
          project_key: 'AIGOV',
          labels: ['blocked'],
        },
      },
    });
    expect(rule.status, await rule.clone().text()).toBe(201);
    const event = makeEvent({ risk_score: 0.93, severity: undefined });
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    const v = await settled(event.event_id as string);
    expect(v.status, JSON.stringify(v.deliveries)).toBe('completed');
    const key = v.tickets.find((t) => t.connector_id === id)!.external_id!;
    // The delivery keeps what planning decided: the rule's shaping holds after the rule is gone.
    await stack.api(`/v1/rules/${((await rule.json()) as { id: string }).id}`, { method: 'DELETE' });

    const p = await preview(event.event_id as string, id);
    // The only create this fake has seen so far.
    const creates = jira.requests.filter((r) => r.method === 'POST' && r.path === '/rest/api/3/issue');
    expect(creates).toHaveLength(1);
    const sent = creates[0]!;
    expect(p.method).toBe(sent.method);
    expect(p.url).toBe(`${jira.url}${sent.path}`);
    expect(p.headers.Authorization).toBe('Basic ********');
    expect(p.body_json).toEqual(JSON.parse(sent.body));

    const fields = jira.issues.get(key)!.fields;
    expect(fields.project).toEqual({ key: 'AIGOV' });
    expect(fields.summary).toBe('[CRITICAL] Max tokens: max-tokens exceeded');
    expect(fields.customfield_10050).toBe(0.93);
    expect(fields.customfield_10051).toEqual([{ value: 'CREDIT_CARD' }]);
    expect(fields.assignee).toEqual({ accountId: '5b10ac8d82e05b22cc7d4ef5' });
    expect(fields.priority).toEqual({ name: 'High' });
    expect(fields.labels).toEqual(expect.arrayContaining(['team-payments', 'blocked']));
  });

  it('ServiceNow: the preview body is the body the create sent', async () => {
    const id = await create({
      name: 'snow preview',
      kind: 'servicenow',
      auto_push: false,
      retry: FAST_RETRY,
      config: {
        instance_url: snow.url,
        username: 'svc',
        password: 'pw',
        title_template: '{{ policy.name }} by {{ user_email }}',
        custom_fields: { u_risk_score: '{{ risk_score | default("n/a") }}' },
        priority_map: { critical: '1' },
      },
    });
    const event = await stored();
    const p = await preview(event.event_id as string, id);
    await push(event.event_id as string, id);
    await eventually(async () => snow.list('incident').length > 0, 30_000, 'incident');
    const sent = snow.requests.find((r) => r.method === 'POST' && r.path === '/api/now/table/incident')!;
    expect(p.url).toBe(`${snow.url}${sent.path}?${new URLSearchParams(sent.query)}`);
    expect(p.headers.Authorization).toBe('Basic ********');
    expect(p.body).toBe(sent.body);
    expect(snow.list('incident')[0]!.fields).toMatchObject({ u_risk_score: 'n/a', priority: '1' });
  });
});

describe('typed custom fields end to end', () => {
  it('a value Jira cannot take fails at once, naming the field; nothing is created', async () => {
    const id = await create(
      jiraConnector(jira.url, {
        auto_push: false,
        config: jiraConfig({ custom_fields: { customfield_10050: '{{ user_email }}' } }),
      }),
    );
    const before = jira.issues.size;
    const event = await stored();
    await push(event.event_id as string, id);
    const d = await eventually(async () => {
      const v = (await (await stack.api(`/v1/violations/${event.event_id}`)).json()) as View;
      const delivery = v.deliveries.find((x) => x.connector_id === id);
      return delivery?.status === 'failed' ? delivery : undefined;
    });
    expect(d.attempts).toBe(1);
    expect(d.last_error).toContain('custom field customfield_10050 ("Risk Score", number)');
    expect(d.last_error).toContain('is not a number');
    expect(jira.issues.size).toBe(before);

    // The preview says the same, without sending anything.
    const res = await stack.api(`/v1/violations/${event.event_id}/tickets:preview`, {
      method: 'POST',
      json: { connector_id: id },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('is not a number');
  });

  it('the connection test renders the connector templates and custom fields', async () => {
    const id = await create(jiraConnector(jira.url, { auto_push: false, config: jiraConfig() }));
    const res = await stack.api(`/v1/connectors/${id}/test`, { method: 'POST' });
    const result = (await res.json()) as { ok: boolean; external_id: string; message: string };
    expect(result.ok, result.message).toBe(true);
    const fields = jira.issues.get(result.external_id)!.fields;
    expect(fields.summary).toBe('[LOW] : escalate connection test: safe to close');
    expect(fields.components).toEqual([{ name: 'AI Gateway' }]);
    // The test event has no risk score or classifications: those fields are left out, not sent empty.
    expect(fields).not.toHaveProperty('customfield_10050');
    expect(fields).not.toHaveProperty('customfield_10051');
  });
});
