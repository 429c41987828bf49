import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeServiceNow, startFakeServiceNow } from '../fakes/servicenow.js';
import { eventually, FAST_RETRY, jiraConnector, makeEvent } from '../helpers/events.js';
import { type Stack, startStack, WEBHOOK_SECRET } from '../helpers/stack.js';
import { jiraIssueUpdated, jiraWebhookRequest, sign } from '../helpers/webhooks.js';

const JIRA_HOOK_SECRET = 'jira-hook-secret';
let stack: Stack;
let jira: FakeJira;
let snow: FakeServiceNow;
let jiraId: string;
let snowId: string;

type Ticket = {
  id: string;
  external_id: string;
  status: string;
  priority: string;
  recurrence_count: number;
  sla_breached: boolean;
  workflow_id: string;
  history: { type: string; source: string | null; to_status: string | null; note: string | null }[];
};

beforeAll(async () => {
  [stack, jira, snow] = await Promise.all([
    // Low-priority tickets breach their SLA within a second; the rest never do during the test.
    startStack({ settings: { sla: { critical: '1h', high: '1h', medium: '1h', low: '1500ms' } } }),
    startFakeJira(),
    startFakeServiceNow({ username: 'svc', password: 'pw' }),
  ]);
  const j = await stack.api('/v1/connectors', {
    method: 'POST',
    json: jiraConnector(jira.url, {
      id: 'jira-sec',
      config: { ...jiraConnector(jira.url).config, webhook_secret: JIRA_HOOK_SECRET },
    }),
  });
  jiraId = ((await j.json()) as { id: string }).id;
  const s = await stack.api('/v1/connectors', {
    method: 'POST',
    json: {
      id: 'snow',
      name: 'snow',
      kind: 'servicenow',
      auto_push: false,
      retry: FAST_RETRY,
      config: {
        instance_url: snow.url,
        username: 'svc',
        password: 'pw',
        webhook_secret: 'snow-secret',
        webhook_auth: 'bearer',
      },
    },
  });
  snowId = ((await s.json()) as { id: string }).id;
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([jira?.close(), snow?.close()]);
});

async function ticketFor(eventId: string, connectorId = jiraId): Promise<Ticket> {
  const t = await eventually(
    async () => {
      const v = (await (await stack.api(`/v1/violations/${eventId}`)).json()) as {
        tickets: { id: string; connector_id: string; external_id: string | null }[];
      };
      return v.tickets.find((x) => x.connector_id === connectorId && x.external_id);
    },
    30_000,
    `ticket for ${eventId}`,
  );
  return ticket(t.id);
}
const ticket = async (id: string) => (await (await stack.api(`/v1/tickets/${id}`)).json()) as Ticket;
const until = (id: string, pred: (t: Ticket) => boolean, what: string) =>
  eventually(
    async () => {
      const t = await ticket(id);
      return pred(t) ? t : undefined;
    },
    30_000,
    what,
  );

async function post(event: Record<string, unknown>) {
  expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
  return event.event_id as string;
}

const jiraHook = (payload: unknown, identifier?: string) =>
  stack.api(`/v1/webhooks/jira/${jiraId}`, {
    key: null,
    ...jiraWebhookRequest(payload, JIRA_HOOK_SECRET, identifier),
  });

describe('TicketSyncWorkflow', () => {
  it('follows Jira status changes, pushes ours back, never echoes the ITSM, and ends when closed', async () => {
    const t = await ticketFor(await post(makeEvent()));
    expect(t.status).toBe('open');

    const r1 = await jiraHook(jiraIssueUpdated(t.external_id, 'indeterminate'));
    expect(r1.status, await r1.clone().text()).toBe(200);
    expect(await r1.json()).toMatchObject({ result: 'applied', status: 'in_progress' });
    const inProgress = await ticket(t.id);
    expect(inProgress.history.at(-1)).toMatchObject({
      type: 'transition',
      source: 'itsm',
      to_status: 'in_progress',
    });
    expect(jira.issues.get(t.external_id)!.transitions).toEqual([]); // not echoed

    const refused = await stack.api(`/v1/tickets/${t.id}/status`, {
      method: 'POST',
      json: { status: 'closed' },
    });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /cannot move ticket from in_progress to closed/,
    );

    const resolved = await stack.api(`/v1/tickets/${t.id}/status`, {
      method: 'POST',
      json: { status: 'resolved', note: 'fixed' },
    });
    expect(await resolved.json()).toEqual({ result: 'applied', status: 'resolved' });
    await eventually(
      async () => jira.issues.get(t.external_id)!.status.category === 'done',
      30_000,
      'push to Jira',
    );

    const same = await stack.api(`/v1/tickets/${t.id}/status`, {
      method: 'POST',
      json: { status: 'resolved' },
    });
    expect(await same.json()).toEqual({ result: 'noop', status: 'resolved' });

    const close = await stack.api(`/v1/tickets/${t.id}/status`, {
      method: 'POST',
      json: { status: 'closed' },
    });
    expect(close.status, await close.clone().text()).toBe(200);
    await eventually(
      async () =>
        (await stack.client.workflow.getHandle(t.workflow_id).describe()).status.name === 'COMPLETED',
      30_000,
      'workflow end',
    );

    // After the end: closed stays closed (no-op), anything else is refused.
    const closedAgain = await stack.api(
      '/v1/webhooks/itsm',
      signedGeneric({ external_ticket_id: t.external_id, status: 'closed' }),
    );
    expect(await closedAgain.json()).toMatchObject({ result: 'noop', status: 'closed' });
    const reopen = await stack.api(
      '/v1/webhooks/itsm',
      signedGeneric({ external_ticket_id: t.external_id, status: 'open' }),
    );
    expect(reopen.status).toBe(409);
  });

  it('authenticates webhooks, drops duplicates, ignores non-status updates, 404s unknown tickets', async () => {
    const t = await ticketFor(await post(makeEvent()));
    const payload = jiraIssueUpdated(t.external_id, 'indeterminate');
    const bad = await stack.api(`/v1/webhooks/jira/${jiraId}`, {
      key: null,
      ...jiraWebhookRequest(payload, 'wrong-secret'),
    });
    expect(bad.status).toBe(401);
    const id = randomUUID();
    expect(((await (await jiraHook(payload, id)).json()) as { result: string }).result).toBe('applied');
    expect(((await (await jiraHook(payload, id)).json()) as { result: string }).result).toBe('duplicate');
    const edit = { ...payload, changelog: { items: [{ field: 'summary' }] } };
    expect(((await (await jiraHook(edit)).json()) as { result: string }).result).toBe('ignored');
    expect((await jiraHook(jiraIssueUpdated('SEC-99999', 'done'))).status).toBe(404);

    const unsigned = await stack.api('/v1/webhooks/itsm', {
      key: null,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(unsigned.status).toBe(401);
    const stale = Math.floor(Date.now() / 1000) - 3600;
    const body = JSON.stringify({ external_ticket_id: t.external_id, status: 'resolved' });
    const old = await stack.api('/v1/webhooks/itsm', {
      key: null,
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-escalate-timestamp': String(stale),
        'x-escalate-signature': sign(WEBHOOK_SECRET, `${stale}.${body}`),
      },
    });
    expect(old.status).toBe(401);
    const malformed = await stack.api(
      '/v1/webhooks/itsm',
      signedGeneric({ external_ticket_id: t.external_id, status: 'done' }),
    );
    expect(malformed.status).toBe(400);
  });

  it('ServiceNow: inbound states map to statuses; resolving from our side sends close fields', async () => {
    const event = makeEvent();
    const eventId = await post(event);
    await eventually(
      async () =>
        ((await (await stack.api(`/v1/violations/${eventId}`)).json()) as { status: string }).status !==
        'processing',
    );
    const push = await stack.api(`/v1/violations/${eventId}/tickets`, {
      method: 'POST',
      json: { connector_id: snowId },
    });
    expect(push.status).toBe(202);
    const t = await ticketFor(eventId, snowId);
    const rec = snow.list('incident').find((r) => r.fields.number === t.external_id)!;

    const hook = await stack.api(`/v1/webhooks/servicenow/${snowId}`, {
      key: null,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer snow-secret' },
      body: JSON.stringify({ sys_id: rec.fields.sys_id, state: '2', work_notes: 'looking into it' }),
    });
    const hookBody = await hook.json();
    expect(hookBody, JSON.stringify(hookBody)).toMatchObject({ result: 'applied', status: 'in_progress' });
    expect(
      (await ticket(t.id)).history.some((h) => h.type === 'comment' && h.note === 'looking into it'),
    ).toBe(true);

    await stack.api(`/v1/tickets/${t.id}/status`, {
      method: 'POST',
      json: { status: 'resolved', note: 'credentials rotated' },
    });
    await eventually(
      async () => snow.list('incident').find((r) => r.fields.number === t.external_id)!.fields.state === '6',
      30_000,
      'SN resolved',
    );
    const fields = snow.list('incident').find((r) => r.fields.number === t.external_id)!.fields;
    expect(fields.close_notes).toContain('credentials rotated');
    expect(fields.close_code).toBeTruthy();
  });

  it('escalates a ticket still open at its SLA deadline: breach, priority raised, comment', async () => {
    // Low severity is below the default auto_push threshold: push it by hand.
    const eventId = await post(makeEvent({ severity: 'low' }));
    await eventually(
      async () =>
        ((await (await stack.api(`/v1/violations/${eventId}`)).json()) as { status: string }).status !==
        'processing',
    );
    await stack.api(`/v1/violations/${eventId}/tickets`, { method: 'POST', json: { connector_id: jiraId } });
    const lowTicket = await ticketFor(eventId);
    const escalated = await until(lowTicket.id, (x) => x.sla_breached, 'SLA escalation');
    expect(escalated.priority).toBe('medium');
    expect(escalated.history.some((h) => h.type === 'escalation')).toBe(true);
    await eventually(
      async () => {
        const issue = jira.issues.get(lowTicket.external_id)!;
        return (issue.fields.priority as { name: string }).name === 'Medium' && issue.comments.length > 0;
      },
      30_000,
      'priority raised in Jira',
    );
  });

  it('continues as new when the server suggests it, and keeps working', async () => {
    const t = await ticketFor(await post(makeEvent()));
    const handle = stack.client.workflow.getHandle(t.workflow_id);
    const firstRun = await eventually(async () => (await handle.describe()).runId, 30_000, 'ticket workflow');
    for (let i = 0; i < 45; i++)
      await stack.api(`/v1/tickets/${t.id}/comments`, { method: 'POST', json: { text: `note ${i}` } });
    await eventually(
      async () => jira.issues.get(t.external_id)!.comments.length >= 45,
      60_000,
      'comments delivered',
    );
    await eventually(
      async () => (await stack.client.workflow.getHandle(t.workflow_id).describe()).runId !== firstRun,
      30_000,
      'continue-as-new',
    );
    const res = await stack.api(`/v1/tickets/${t.id}/status`, {
      method: 'POST',
      json: { status: 'in_progress' },
    });
    expect(await res.json()).toEqual({ result: 'applied', status: 'in_progress' });
  });
});

function signedGeneric(payload: unknown) {
  const body = JSON.stringify(payload);
  const ts = String(Math.floor(Date.now() / 1000));
  return {
    key: null,
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-escalate-timestamp': ts,
      'x-escalate-signature': sign(WEBHOOK_SECRET, `${ts}.${body}`),
    },
  };
}
