/**
 * Inbound webhook hardening: no connector enumeration, timestamped and single-use signatures on
 * the generic ITSM webhook (required by default on a new install), atomic Jira de-duplication,
 * and ServiceNow's bearer mode only when a connector opts in.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import { createApp } from '../../api/app.js';
import { connectDatabase } from '../../db/client.js';
import { ensureInstallDefaults, installDefaults } from '../../db/repos/install.js';
import { defaultSettings } from '../../domain/settings.js';
import { createLogger } from '../../infra/logger.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, createTestDatabase, type Stack, startStack, WEBHOOK_SECRET } from '../helpers/stack.js';
import { jiraIssueUpdated, jiraWebhookRequest, sign } from '../helpers/webhooks.js';

let stack: Stack;
let jira: FakeJira;
const JIRA_SECRET = 'jira-hook-secret';
const SNOW_SECRET = 'snow-hook-secret';
const ids: Record<string, string> = {};

async function create(body: Record<string, unknown>) {
  const res = await stack.api('/v1/connectors', { method: 'POST', json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

beforeAll(async () => {
  [stack, jira] = await Promise.all([startStack(), startFakeJira()]);
  const connector = jiraConnector(jira.url);
  ids.jira = await create({ ...connector, config: { ...connector.config, webhook_secret: JIRA_SECRET } });
  const snow = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    kind: 'servicenow',
    auto_push: false,
    config: {
      instance_url: 'https://acme.service-now.example',
      username: 'svc',
      password: 'pw',
      webhook_secret: SNOW_SECRET,
      ...extra,
    },
  });
  ids.snow = await create(snow('snow-signed'));
  ids.snowBearer = await create(snow('snow-bearer', { webhook_auth: 'bearer' }));
  ids.splunk = await create({
    name: 'splunk-hooks',
    kind: 'splunk',
    config: { hec_url: 'https://hec.example.com', hec_token: 'x' },
  });
});
afterAll(async () => {
  await Promise.all([stack?.close(), jira?.close()]);
});

const post = (path: string, body: string, headers: Record<string, string>) =>
  stack.api(path, {
    key: null,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });

async function answer(res: Response) {
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

describe('no connector enumeration', () => {
  it('answers an unknown or wrong-kind connector exactly like a bad signature', async () => {
    const payload = JSON.stringify(jiraIssueUpdated('SEC-1', 'done'));
    const headers = { 'x-hub-signature': sign('not-the-secret', payload) };
    const badSignature = await answer(await post(`/v1/webhooks/jira/${ids.jira}`, payload, headers));
    expect(badSignature.status).toBe(401);
    for (const id of ['no-such-connector', ids.splunk, ids.snow]) {
      const res = await answer(await post(`/v1/webhooks/jira/${id}`, payload, headers));
      expect(res, id).toEqual(badSignature);
    }
    const snowBody = JSON.stringify({ number: 'INC0000001', state: '6' });
    const snowHeaders = { 'x-escalate-signature': sign('not-the-secret', snowBody) };
    const snowBad = await answer(await post(`/v1/webhooks/servicenow/${ids.snow}`, snowBody, snowHeaders));
    expect(snowBad.status).toBe(401);
    const snowUnknown = await answer(await post('/v1/webhooks/servicenow/nope', snowBody, snowHeaders));
    expect(snowUnknown).toEqual(snowBad);
  });
});

describe('generic ITSM webhook signatures', () => {
  const body = JSON.stringify({ external_ticket_id: 'NOPE-1', status: 'resolved' });
  const timestamped = (ts = Math.floor(Date.now() / 1000)) => ({
    'x-escalate-timestamp': String(ts),
    'x-escalate-signature': sign(WEBHOOK_SECRET, `${ts}.${body}`),
  });

  it('requires X-Escalate-Timestamp on a new install, and refuses a signature used before', async () => {
    expect(await installDefaults(stack.database.db)).toMatchObject({ itsm_webhook_require_timestamp: true });
    const bare = await post('/v1/webhooks/itsm', body, {
      'x-escalate-signature': sign(WEBHOOK_SECRET, body),
    });
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { error: { message: string } }).error.message).toMatch(
      /X-Escalate-Timestamp/,
    );

    const headers = timestamped();
    // Authenticated: the unknown ticket is the answer.
    expect((await post('/v1/webhooks/itsm', body, headers)).status).toBe(404);
    const replayed = await post('/v1/webhooks/itsm', body, headers);
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as { error: { message: string } }).error.message).toMatch(/already used/);
    expect(
      (await post('/v1/webhooks/itsm', body, timestamped(Math.floor(Date.now() / 1000) + 1))).status,
    ).toBe(404);
  });

  it('gives the signature back when processing fails on our side (503), so the retry is applied', async () => {
    const event = makeEvent();
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    const key = await eventually(async () => {
      const v = (await (await stack.api(`/v1/violations/${event.event_id}`)).json()) as {
        tickets: { connector_id: string; external_id: string | null }[];
      };
      return v.tickets.find((t) => t.connector_id === ids.jira && t.external_id)?.external_id ?? undefined;
    });
    const change = JSON.stringify({ external_ticket_id: key, status: 'in_progress' });
    const ts = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'x-escalate-timestamp': String(ts),
      'x-escalate-signature': sign(WEBHOOK_SECRET, `${ts}.${change}`),
    };
    // The same database, with a Temporal client that cannot reach any server.
    const dead = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) });
    const down = createApp({
      database: stack.database,
      workflows: { client: dead, taskQueue: stack.taskQueue },
      box: stack.box,
      settings: defaultSettings(),
      apiKeys: parseApiKeys(`${ADMIN_KEY}:admin`),
      webhookSecret: WEBHOOK_SECRET,
      logger: createLogger({ level: 'silent' }),
    });
    const failed = await down.request('/v1/webhooks/itsm', { method: 'POST', body: change, headers });
    expect(failed.status).toBe(503);
    const retried = await post('/v1/webhooks/itsm', change, headers);
    expect(retried.status, await retried.clone().text()).toBe(200);
    expect(((await retried.json()) as { result: string }).result).toBe('applied');
    // Processed: now it is a replay.
    expect((await post('/v1/webhooks/itsm', change, headers)).status).toBe(401);
  });

  it('accepts unstamped signatures where ESCALATE_CONFIG turns the requirement off', async () => {
    const app = createApp({
      database: stack.database,
      workflows: { client: stack.client, taskQueue: stack.taskQueue },
      box: stack.box,
      settings: { ...defaultSettings(), webhooks: { require_timestamp: false } },
      apiKeys: parseApiKeys(`${ADMIN_KEY}:admin`),
      webhookSecret: WEBHOOK_SECRET,
      logger: createLogger({ level: 'silent' }),
    });
    const res = await app.request('/v1/webhooks/itsm', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-escalate-signature': sign(WEBHOOK_SECRET, body) },
    });
    expect(res.status).toBe(404);
  });

  it('defaults to off for an existing install (data already there), on for an empty database', async () => {
    const existing = connectDatabase(await createTestDatabase(), { max: 1 });
    const fresh = connectDatabase(await createTestDatabase(), { max: 1 });
    try {
      await existing.sql`delete from install_settings`;
      await fresh.sql`delete from install_settings`;
      await existing.sql`insert into connectors (id, name, kind, config) values ('old', 'old', 'webhook', '{}'::jsonb)`;
      await ensureInstallDefaults(existing.db);
      await ensureInstallDefaults(fresh.db);
      expect(await installDefaults(existing.db)).toMatchObject({ itsm_webhook_require_timestamp: false });
      expect(await installDefaults(fresh.db)).toMatchObject({ itsm_webhook_require_timestamp: true });
      // Decided once: later data changes nothing.
      await fresh.sql`insert into connectors (id, name, kind, config) values ('new', 'new', 'webhook', '{}'::jsonb)`;
      await ensureInstallDefaults(fresh.db);
      expect(await installDefaults(fresh.db)).toMatchObject({ itsm_webhook_require_timestamp: true });
    } finally {
      await Promise.all([existing.close(), fresh.close()]);
    }
  });
});

describe('Jira de-duplication', () => {
  it('is atomic: concurrent deliveries with one identifier are processed once', async () => {
    const event = makeEvent();
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    const key = await eventually(async () => {
      const v = (await (await stack.api(`/v1/violations/${event.event_id}`)).json()) as {
        tickets: { connector_id: string; external_id: string | null }[];
      };
      return v.tickets.find((t) => t.connector_id === ids.jira)?.external_id;
    });
    const identifier = randomUUID();
    const request = jiraWebhookRequest(jiraIssueUpdated(key, 'done'), JIRA_SECRET, identifier);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => stack.api(`/v1/webhooks/jira/${ids.jira}`, { key: null, ...request })),
    );
    const results = await Promise.all(answers.map(async (r) => ({ status: r.status, body: await r.json() })));
    const processed = results.filter((r) => (r.body as { result?: string }).result !== 'duplicate');
    expect(processed, JSON.stringify(results)).toEqual([
      { status: 200, body: expect.objectContaining({ result: 'applied', status: 'resolved' }) },
    ]);
  });
});

describe('ServiceNow bearer mode', () => {
  const body = JSON.stringify({ number: 'INC0000404', state: '6' });

  it('is refused unless the connector opts in', async () => {
    const bearer = { authorization: `Bearer ${SNOW_SECRET}` };
    const signed = { 'x-escalate-signature': sign(SNOW_SECRET, body) };
    expect((await post(`/v1/webhooks/servicenow/${ids.snow}`, body, bearer)).status).toBe(401);
    expect((await post(`/v1/webhooks/servicenow/${ids.snow}`, body, signed)).status).toBe(404);
    expect((await post(`/v1/webhooks/servicenow/${ids.snowBearer}`, body, bearer)).status).toBe(404);
    expect((await post(`/v1/webhooks/servicenow/${ids.snowBearer}`, body, signed)).status).toBe(401);
  });
});
