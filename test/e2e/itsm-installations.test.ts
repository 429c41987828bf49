/**
 * Ticket sync against installations that differ from the defaults: comments written in Jira join
 * the ticket's history (never echoed, one line per comment), a Jira with two "done" transitions
 * uses the configured one, and a ServiceNow security incident moves with its table's own states
 * in both directions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeProxy, startFakeProxy } from '../fakes/proxy.js';
import { type FakeServiceNow, startFakeServiceNow } from '../fakes/servicenow.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import { testCertificates } from '../helpers/certs.js';
import { eventually, FAST_RETRY, jiraConnector, makeEvent } from '../helpers/events.js';
import { SECURITY_WORKFLOW } from '../helpers/jira-installation.js';
import { type Stack, startStack } from '../helpers/stack.js';
import { jiraIssueUpdated, jiraWebhookRequest } from '../helpers/webhooks.js';

const HOOK = 'jira-hook-secret';
let stack: Stack;
let jira: FakeJira;
let snow: FakeServiceNow;
let jiraId: string;
let sirId: string;

type Ticket = {
  id: string;
  external_id: string;
  status: string;
  sys_id?: string;
  history: {
    type: string;
    source: string | null;
    actor: string | null;
    to_status: string | null;
    note: string | null;
  }[];
};

beforeAll(async () => {
  [stack, jira, snow] = await Promise.all([
    startStack(),
    startFakeJira({ workflow: SECURITY_WORKFLOW }),
    startFakeServiceNow({ username: 'svc', password: 'pw' }),
  ]);
  const j = await stack.api('/v1/connectors', {
    method: 'POST',
    json: jiraConnector(jira.url, {
      auto_push: false,
      config: {
        ...jiraConnector(jira.url).config,
        webhook_secret: HOOK,
        transitions: { resolved: 'Resolve Issue', closed: 'Close Issue' },
        resolution: 'Fixed',
      },
    }),
  });
  jiraId = ((await j.json()) as { id: string }).id;
  const s = await stack.api('/v1/connectors', {
    method: 'POST',
    json: {
      name: 'SIR',
      kind: 'servicenow',
      auto_push: false,
      retry: FAST_RETRY,
      config: {
        instance_url: snow.url,
        username: 'svc',
        password: 'pw',
        table: 'sn_si_incident',
        close_code: 'Investigation completed',
        webhook_secret: 'snow-secret',
        // Its business rule sends the secret as a bearer token: opted in per connector.
        webhook_auth: 'bearer',
      },
    },
  });
  expect(s.status, await s.clone().text()).toBe(201);
  sirId = ((await s.json()) as { id: string }).id;
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([jira?.close(), snow?.close()]);
});

const ticket = async (id: string) => (await (await stack.api(`/v1/tickets/${id}`)).json()) as Ticket;

/** A stored violation pushed by hand to `connectorId`; its ticket once created. */
async function ticketOn(connectorId: string): Promise<Ticket> {
  const event = makeEvent();
  expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
  await eventually(
    async () =>
      ((await (await stack.api(`/v1/violations/${event.event_id}`)).json()) as { status: string }).status !==
      'processing',
  );
  const push = await stack.api(`/v1/violations/${event.event_id}/tickets`, {
    method: 'POST',
    json: { connector_id: connectorId },
  });
  expect(push.status).toBe(202);
  const ref = await eventually(async () => {
    const v = (await (await stack.api(`/v1/violations/${event.event_id}`)).json()) as {
      tickets: { id: string; connector_id: string; external_id: string | null }[];
    };
    return v.tickets.find((t) => t.connector_id === connectorId && t.external_id);
  });
  return ticket(ref.id);
}

const jiraHook = (payload: unknown) =>
  stack.api(`/v1/webhooks/jira/${jiraId}`, { key: null, ...jiraWebhookRequest(payload, HOOK) });

describe('Jira', () => {
  it('a comment written in Jira joins the history once; the webhook for our own comment adds nothing', async () => {
    const t = await ticketOn(jiraId);
    // Our comment: posted to Jira, recorded once.
    expect(
      (
        await stack.api(`/v1/tickets/${t.id}/comments`, {
          method: 'POST',
          json: { text: 'rotating the key' },
        })
      ).status,
    ).toBeLessThan(300);
    const issue = () => jira.issues.get(t.external_id)!;
    await eventually(async () => issue().commentLog.length === 1, 30_000, 'our comment in Jira');
    const ours = issue().commentLog[0]!;
    const echo = await jiraHook(jira.commentWebhook(t.external_id, ours.id));
    expect(await echo.json()).toMatchObject({ result: 'duplicate' });

    // A person's comment in Jira: recorded with its author, never posted back.
    const payload = jira.comment(t.external_id, 'False positive? The card is a test number.');
    const res = await jiraHook(payload);
    expect(await res.json()).toEqual({ result: 'applied', ticket_id: t.id });
    const again = await jiraHook(payload); // Jira retried with a new identifier
    expect(await again.json()).toMatchObject({ result: 'duplicate' });

    const comments = (await ticket(t.id)).history.filter((h) => h.type === 'comment');
    expect(comments.map((h) => [h.source, h.note])).toEqual([
      [null, 'rotating the key'],
      ['itsm', 'False positive? The card is a test number.'],
    ]);
    expect(comments[1]!.actor).toBe(`jira:${jiraId}:Dana Analyst`);
    expect(issue().commentLog).toHaveLength(2);
    expect(jira.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/comment'))).toHaveLength(1);
  });

  it('two transitions into "done": resolving uses the configured one, with the resolution', async () => {
    const t = await ticketOn(jiraId);
    const res = await stack.api(`/v1/tickets/${t.id}/status`, {
      method: 'POST',
      json: { status: 'resolved' },
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    const issue = await eventually(async () => {
      const i = jira.issues.get(t.external_id)!;
      return i.status.name === 'Resolved' ? i : undefined;
    });
    expect(issue.fields.resolution).toEqual({ name: 'Fixed' });
    expect(issue.transitions).toEqual(['Resolved']);

    // Resolved → Closed stays in "done": the configured "Close Issue" still moves it.
    await stack.api(`/v1/tickets/${t.id}/status`, { method: 'POST', json: { status: 'closed' } });
    await eventually(async () => jira.issues.get(t.external_id)!.status.name === 'Closed', 30_000, 'closed');
    expect(jira.issues.get(t.external_id)!.transitions).toEqual(['Resolved', 'Closed']);
  });

  it('a status change in Jira still arrives by status category', async () => {
    const t = await ticketOn(jiraId);
    const res = await jiraHook(jiraIssueUpdated(t.external_id, 'indeterminate'));
    expect(await res.json()).toMatchObject({ result: 'applied', status: 'in_progress' });
  });
});

describe('ServiceNow security incidents (sn_si_incident)', () => {
  const hook = (body: Record<string, unknown>) =>
    stack.api(`/v1/webhooks/servicenow/${sirId}`, {
      key: null,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer snow-secret' },
      body: JSON.stringify(body),
    });
  const record = (number: string) => snow.list('sn_si_incident').find((r) => r.fields.number === number)!;

  it('moves with the table state values both ways', async () => {
    const t = await ticketOn(sirId);
    expect(t.external_id).toMatch(/^SIR/);
    const sysId = record(t.external_id).fields.sys_id;
    expect(record(t.external_id).fields).toMatchObject({ state: '10', severity: '1' });

    // Inbound: Contain (18) is in progress; an incident state (6) is refused, naming the table's states.
    const contain = await hook({ sys_id: sysId, state: '18' });
    expect(await contain.json()).toMatchObject({ result: 'applied', status: 'in_progress' });
    const wrong = await hook({ sys_id: sysId, state: '6' });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toBe(
      'unknown sn_si_incident state 6',
    );

    // Outbound: resolved → Review (100), closed → Closed (3) with the closure information.
    await stack.api(`/v1/tickets/${t.id}/status`, { method: 'POST', json: { status: 'resolved' } });
    await eventually(async () => record(t.external_id).fields.state === '100', 30_000, 'Review');
    await stack.api(`/v1/tickets/${t.id}/status`, {
      method: 'POST',
      json: { status: 'closed', note: 'eradicated' },
    });
    await eventually(async () => record(t.external_id).fields.state === '3', 30_000, 'Closed');
    expect(record(t.external_id).fields).toMatchObject({
      close_code: 'Investigation completed',
      close_notes: 'eradicated',
      active: 'false',
    });
    expect((await ticket(t.id)).status).toBe('closed');
  });

  it('a reopened security incident (Analysis) comes back in progress', async () => {
    const t = await ticketOn(sirId);
    const sysId = record(t.external_id).fields.sys_id;
    expect(await (await hook({ sys_id: sysId, state: 100 })).json()).toMatchObject({ status: 'resolved' });
    expect(await (await hook({ sys_id: sysId, state: '16' })).json()).toMatchObject({
      status: 'in_progress',
    });
    expect(await (await hook({ sys_id: sysId, state: '100' })).json()).toMatchObject({ status: 'resolved' });
    // Cancelled (7) reads as closed.
    expect(await (await hook({ sys_id: sysId, state: '7' })).json()).toMatchObject({ status: 'closed' });
  });
});

describe('TLS and proxies through the API', () => {
  let hec: FakeSplunk;
  let proxy: FakeProxy;
  let ca: string;
  beforeAll(async () => {
    const certs = await testCertificates();
    ca = certs.ca;
    [hec, proxy] = await Promise.all([
      startFakeSplunk({ token: 'hec-token', tls: { key: certs.key, cert: certs.cert } }),
      startFakeProxy(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([hec?.close(), proxy?.close()]);
  });

  const test = async (config: Record<string, unknown>) => {
    const res = await stack.api('/v1/connectors', {
      method: 'POST',
      json: { name: `hec-${Math.random().toString(36).slice(2, 8)}`, kind: 'splunk', config },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const c = (await res.json()) as { id: string; config: Record<string, unknown> };
    const verdict = (await (await stack.api(`/v1/connectors/${c.id}/test`, { method: 'POST' })).json()) as {
      ok: boolean;
      message: string;
    };
    return { connector: c, verdict };
  };

  it('a self-signed HEC: refused clearly without tls.ca, delivered with it, through the configured proxy', async () => {
    const without = await test({ hec_url: hec.url, hec_token: 'hec-token' });
    expect(without.verdict.ok).toBe(false);
    expect(without.verdict.message).toContain('TLS certificate problem');

    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    const withCa = await test({ hec_url: hec.url, hec_token: 'hec-token', tls: { ca }, proxy_url: proxyUrl });
    expect(withCa.verdict.ok, withCa.verdict.message).toBe(true);
    expect(hec.received).toHaveLength(1);
    expect(proxy.seen.map((r) => r.target)).toContain(new URL(hec.url).host);
    // proxy_url may carry credentials: write-only like the other secrets.
    expect(withCa.connector.config.proxy_url).toBe('********');
    expect(withCa.connector.config.tls).toEqual({ ca, insecure_skip_verify: false });
  });
});
