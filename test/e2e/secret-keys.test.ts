/**
 * Connector secrets under key rotation: secrets no configured key opens never stop the service
 * (reads show a status, planning skips the connector with a reason, PATCH replaces them), old keys
 * in ESCALATE_SECRET_KEY_PREVIOUS keep old rows readable (v1 and v2 formats), every write and
 * POST /v1/connectors:reencrypt seal under the current key, and a ciphertext is bound to its
 * connector.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { defaultSettings } from '../../domain/settings.js';
import { createLogger } from '../../infra/logger.js';
import { SecretBox } from '../../infra/secret-box.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeSlack, startFakeSlack } from '../fakes/slack.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import { eventually, FAST_RETRY, jiraConnector, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

const OLD_KEY = SecretBox.generateKey();
const CURRENT_KEY = SecretBox.generateKey();
const LOST_KEY = SecretBox.generateKey();

let stack: Stack;
let jira: FakeJira;
let splunk: FakeSplunk;
let slack: FakeSlack;

type ConnectorView = {
  id: string;
  config: Record<string, unknown>;
  status: { secrets: string; secrets_error: string | null };
};

/** The format rows were written in before v2: AES-256-GCM with the key bytes, no associated data. */
function legacySeal(hexKey: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(hexKey, 'hex'), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const create = async (body: Record<string, unknown>) =>
  (await json<{ id: string }>(await stack.api('/v1/connectors', { method: 'POST', json: body }), 201)).id;

const storedSecrets = async (id: string) =>
  (await stack.database.sql<{ secrets: string }[]>`select secrets from connectors where id = ${id}`)[0]!
    .secrets;

const setSecrets = (id: string, sealed: string) =>
  stack.database.sql`update connectors set secrets = ${sealed} where id = ${id}`;

const splunkConnector = (name: string) => ({
  name,
  kind: 'splunk',
  config: { hec_url: splunk.url, hec_token: 'hec-token', index: 'security' },
  retry: { ...FAST_RETRY, maximum_attempts: 2 },
});

beforeAll(async () => {
  [stack, jira, splunk, slack] = await Promise.all([
    startStack({ secretKeys: { current: CURRENT_KEY, previous: [OLD_KEY] } }),
    startFakeJira(),
    startFakeSplunk({ token: 'hec-token' }),
    startFakeSlack(),
  ]);
});
afterAll(async () => {
  await Promise.all([stack?.close(), jira?.close(), splunk?.close(), slack?.close()]);
});

/** `escalate_deliveries_total` for one connector and outcome, 0 when absent. */
async function deliveriesCounted(connectorId: string, outcome: string): Promise<number> {
  const text = await (await stack.api('/metrics')).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('escalate_deliveries_total{') &&
        l.includes(`connector_id="${connectorId}"`) &&
        l.includes(`outcome="${outcome}"`),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('secrets no configured key opens', () => {
  it('are a status on reads, a skipped target with a reason, told and counted as failed, and replaced by a PATCH', async () => {
    const jiraId = await create(jiraConnector(jira.url, { name: 'jira-lost-key' }));
    const splunkId = await create(splunkConnector('splunk-fine'));
    const slackId = await create({
      name: 'slack-told',
      kind: 'slack',
      config: { webhook_url: slack.webhookUrl },
      retry: FAST_RETRY,
    });
    await setSecrets(jiraId, new SecretBox(LOST_KEY).seal('{"api_token":"cloud-token"}', jiraId));

    const list = await json<{ items: ConnectorView[] }>(await stack.api('/v1/connectors'), 200);
    const listed = list.items.find((c) => c.id === jiraId)!;
    expect(listed.status.secrets).toBe('undecryptable');
    expect(listed.status.secrets_error).toMatch(/cannot be decrypted.*ESCALATE_SECRET_KEY_PREVIOUS/);
    expect(list.items.find((c) => c.id === splunkId)!.status.secrets).toBe('sealed');
    const one = await json<ConnectorView>(await stack.api(`/v1/connectors/${jiraId}`), 200);
    expect(one.status.secrets).toBe('undecryptable');

    // A critical violation: the Jira connector is skipped with a reason, Splunk still gets it.
    const event = makeEvent();
    await json(await stack.api('/v1/violations', { method: 'POST', json: event }), 202);
    type Violation = {
      status: string;
      decisions: { connector_id: string; action: string; reason: string }[];
      deliveries: { id: string; connector_id: string; status: string; last_error: string | null }[];
    };
    const done = await eventually(async () => {
      const v = await json<Violation>(await stack.api(`/v1/violations/${event.event_id}`), 200);
      return v.status !== 'processing' && v;
    });
    expect(done.status).toBe('partially_failed');
    const decision = done.decisions.find((d) => d.connector_id === jiraId)!;
    expect(decision.action).toBe('skip');
    expect(decision.reason).toMatch(/cannot be decrypted/);
    const jiraDelivery = done.deliveries.find((d) => d.connector_id === jiraId)!;
    expect(jiraDelivery.status).toBe('failed');
    expect(jiraDelivery.last_error).toMatch(/not attempted: connector secrets cannot be decrypted/);
    expect(done.deliveries.find((d) => d.connector_id === splunkId)!.status).toBe('delivered');
    expect(jira.issues.size).toBe(0);
    // Failed for good, like any other: the "deliveries failed" alert and the people listening hear of it.
    expect(await deliveriesCounted(jiraId, 'failed')).toBe(1);
    type Notice = { connector_id: string; status: string; notice: { type: string; delivery_id?: string } };
    const told = await eventually(async () => {
      const page = await json<{ items: Notice[] }>(
        await stack.api('/v1/deliveries?purpose=notify&limit=100'),
        200,
      );
      return page.items.find(
        (d) =>
          d.connector_id === slackId && d.notice.delivery_id === jiraDelivery.id && d.status === 'delivered',
      );
    });
    expect(told.notice.type).toBe('delivery_failed');

    // Actions that need the secrets are refused with the reason, never a 500 or a stuck delivery.
    type Problem = { error: { code: string; message: string } };
    const refusedWith = async (path: string, body?: Record<string, unknown>) => {
      const problem = await json<Problem>(await stack.api(path, { method: 'POST', json: body }), 409);
      expect(problem.error.code).toBe('secrets_undecryptable');
      expect(problem.error.message).toMatch(/cannot be decrypted.*ESCALATE_SECRET_KEY_PREVIOUS/);
    };
    await refusedWith(`/v1/connectors/${jiraId}/test`);
    await refusedWith(`/v1/violations/${event.event_id}/tickets:preview`, { connector_id: jiraId });
    await refusedWith(`/v1/violations/${event.event_id}/tickets`, { connector_id: jiraId });
    await refusedWith(`/v1/deliveries/${jiraDelivery.id}/replay`);
    // A bulk replay (the worker finds the secrets unreadable) skips it, failed with the reason.
    type Replay = {
      done: number;
      total: number;
      items: { delivery_id: string; outcome: string; error: string | null }[];
    };
    const bulk = await json<{ replay_id: string }>(
      await stack.api('/v1/deliveries:replay', {
        method: 'POST',
        json: { filter: { delivery_ids: [jiraDelivery.id] } },
      }),
      202,
    );
    const replay = await eventually(async () => {
      const r = await json<Replay>(await stack.api(`/v1/replays/${bulk.replay_id}`), 200);
      return r.done === r.total && r;
    });
    expect(replay.items[0]).toMatchObject({ delivery_id: jiraDelivery.id, outcome: 'skipped' });
    expect(replay.items[0]!.error).toMatch(/not attempted: .*cannot be decrypted/);
    const afterReplay = await json<{ status: string; last_error: string }>(
      await stack.api(`/v1/deliveries/${jiraDelivery.id}`),
      200,
    );
    expect(afterReplay.status).toBe('failed');
    expect(afterReplay.last_error).toMatch(/not attempted: .*cannot be decrypted/);
    expect(jira.issues.size).toBe(0);

    // A PATCH without config leaves the unreadable blob as it is.
    const before = await storedSecrets(jiraId);
    await json(
      await stack.api(`/v1/connectors/${jiraId}`, { method: 'PATCH', json: { name: 'jira-renamed' } }),
      200,
    );
    expect(await storedSecrets(jiraId)).toBe(before);
    // A config change must bring the secrets: nothing can be merged into what cannot be read.
    const refused = await json<{ error: { message: string; details: { path: string }[] } }>(
      await stack.api(`/v1/connectors/${jiraId}`, {
        method: 'PATCH',
        json: { config: { issue_type: 'Bug' } },
      }),
      400,
    );
    expect(refused.error.message).toMatch(/cannot be decrypted.*send them again/);
    expect(refused.error.details.map((d) => d.path)).toContain('config.api_token');
    // Which secrets the connector used cannot be read either: each one is sent, or null, so a
    // webhook secret or a proxy is never dropped unnoticed.
    const partial = await json<{ error: { code: string; details: { path: string }[] } }>(
      await stack.api(`/v1/connectors/${jiraId}`, {
        method: 'PATCH',
        json: { config: { api_token: 'cloud-token' } },
      }),
      400,
    );
    expect(partial.error.code).toBe('secrets_incomplete');
    expect(partial.error.details.map((d) => d.path).sort()).toEqual([
      'config.client_secret',
      'config.pat',
      'config.proxy_url',
      'config.webhook_secret',
    ]);
    // New values replace them without decrypting the old ones.
    const repaired = await json<ConnectorView>(
      await stack.api(`/v1/connectors/${jiraId}`, {
        method: 'PATCH',
        json: {
          config: {
            api_token: 'cloud-token',
            pat: null,
            client_secret: null,
            webhook_secret: 'hook-secret',
            proxy_url: null,
          },
        },
      }),
      200,
    );
    expect(repaired.config.webhook_secret).toBe('********');
    expect(repaired.status.secrets).toBe('sealed');
    expect(repaired.config.api_token).toBe('********');
    expect(await storedSecrets(jiraId)).toMatch(new RegExp(`^v2:${stack.box.keyId}:`));

    // The failed delivery replays once the secrets are back.
    await json(await stack.api(`/v1/deliveries/${jiraDelivery.id}/replay`, { method: 'POST' }), 202);
    await eventually(async () => {
      const d = await json<{ status: string }>(await stack.api(`/v1/deliveries/${jiraDelivery.id}`), 200);
      return d.status === 'delivered';
    });
    expect(jira.issues.size).toBe(1);
  });
  it("never stop a ticket's workflow from starting: what it loads needs no secret", async () => {
    const jiraId = await create(
      jiraConnector(jira.url, { name: 'jira-ticket-then-lost', retry: FAST_RETRY }),
    );
    const event = makeEvent();
    await json(await stack.api('/v1/violations', { method: 'POST', json: event }), 202);
    const ticketId = await eventually(async () => {
      const v = await json<{ tickets: { id: string; connector_id: string; external_id: string | null }[] }>(
        await stack.api(`/v1/violations/${event.event_id}`),
        200,
      );
      return v.tickets.find((t) => t.connector_id === jiraId && t.external_id)?.id;
    });
    await setSecrets(jiraId, new SecretBox(LOST_KEY).seal('{"api_token":"cloud-token"}', jiraId));
    const activities = createActivities({
      db: stack.database.db,
      workflows: { client: stack.client, taskQueue: stack.taskQueue },
      box: stack.box,
      settings: defaultSettings(),
      logger: createLogger({ level: 'silent' }),
    });
    const init = await new MockActivityEnvironment().run(activities.loadTicketForSync, { ticketId });
    expect(init).toMatchObject({ connectorId: jiraId, created: true, retry: { maximumAttempts: 5 } });
  });
});

describe('key rotation', () => {
  it('reads rows sealed under previous keys, seals every write and the reencrypt command under the current key', async () => {
    const legacy = await create(splunkConnector('splunk-v1'));
    const previous = await create(splunkConnector('splunk-previous-key'));
    const lost = await create(splunkConnector('splunk-lost-key'));
    const secrets = JSON.stringify({ hec_token: 'hec-token' });
    await setSecrets(legacy, legacySeal(OLD_KEY, secrets));
    await setSecrets(previous, new SecretBox(OLD_KEY).seal(secrets, previous));
    const lostSealed = new SecretBox(LOST_KEY).seal(secrets, lost);
    await setSecrets(lost, lostSealed);

    // Old rows are read with ESCALATE_SECRET_KEY_PREVIOUS: both deliver with the stored token.
    const received = splunk.received.length;
    const event = makeEvent({ severity: 'low' });
    await json(await stack.api('/v1/violations', { method: 'POST', json: event }), 202);
    await eventually(async () => {
      const v = await json<{ deliveries: { connector_id: string; status: string }[] }>(
        await stack.api(`/v1/violations/${event.event_id}`),
        200,
      );
      const status = (id: string) => v.deliveries.find((d) => d.connector_id === id)?.status;
      return status(legacy) === 'delivered' && status(previous) === 'delivered' && status(lost) === 'failed';
    });
    expect(splunk.received.length - received).toBeGreaterThanOrEqual(2);

    // Any write seals under the current key.
    await json(
      await stack.api(`/v1/connectors/${legacy}`, { method: 'PATCH', json: { enabled: true } }),
      200,
    );
    expect(stack.box.isCurrent(await storedSecrets(legacy))).toBe(true);

    // The reencrypt command does the rest, and reports what no key opens.
    const report = await json<{ reencrypted: string[]; current: number; unreadable: { id: string }[] }>(
      await stack.api('/v1/connectors:reencrypt', { method: 'POST' }),
      200,
    );
    expect(report.reencrypted).toContain(previous);
    expect(report.reencrypted).not.toContain(legacy);
    const unreadable = report.unreadable.map((u) => u.id);
    expect(unreadable).toContain(lost);
    expect(unreadable).not.toContain(previous);
    expect(unreadable).not.toContain(legacy);
    expect(await storedSecrets(lost)).toBe(lostSealed);
    // The current key alone now opens every readable row.
    const currentOnly = new SecretBox(CURRENT_KEY);
    for (const id of [legacy, previous])
      expect(JSON.parse(currentOnly.open(await storedSecrets(id), id))).toEqual({ hec_token: 'hec-token' });
    const again = await json<{ reencrypted: string[] }>(
      await stack.api('/v1/connectors:reencrypt', { method: 'POST' }),
      200,
    );
    expect(again.reencrypted).toEqual([]);
  });

  it('binds a ciphertext to its connector: copied onto another one, it does not open', async () => {
    const a = await create(splunkConnector('splunk-a'));
    const b = await create(splunkConnector('splunk-b'));
    await setSecrets(b, await storedSecrets(a));
    const view = await json<ConnectorView>(await stack.api(`/v1/connectors/${b}`), 200);
    expect(view.status.secrets).toBe('undecryptable');
    expect(view.status.secrets_error).toMatch(/authentication failed/);
    // Sealed under the current key, yet unreadable here: reencrypt reports it, never "current".
    const report = await json<{ unreadable: { id: string; reason: string }[] }>(
      await stack.api('/v1/connectors:reencrypt', { method: 'POST' }),
      200,
    );
    expect(report.unreadable.find((u) => u.id === b)?.reason).toMatch(/authentication failed/);
  });

  it('derives the AES key with HKDF: the key bytes alone do not open a v2 ciphertext', () => {
    const box = new SecretBox(CURRENT_KEY);
    const sealed = box.seal('{"x":1}', 'c1');
    const raw = Buffer.from(sealed.split(':')[2]!, 'base64');
    const asV1 = `v1:${raw.toString('base64')}`;
    expect(() => box.open(asV1, 'c1')).toThrow(/cannot be decrypted/);
    expect(box.open(sealed, 'c1')).toBe('{"x":1}');
    expect(() => box.open(sealed, 'c2')).toThrow(/authentication failed/);
  });
});
