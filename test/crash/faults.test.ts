/**
 * Faults on every fake at once: ~30% 5xx, ~10% hangs, bursts of 429 with Retry-After (and, on the
 * ITSMs, creates whose response is lost; on Elasticsearch, rejected bulk items), from a seeded
 * schedule. Under fast retry policies every violation must complete, with exactly one ticket per
 * violation and ITSM, and every SIEM event stored.
 *
 * Then the other kind of failure: a permanent 401 fails at once (one attempt) with the remote's
 * reason; once the credentials are fixed, a replay delivers it exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ticketIdempotencyKey } from '../../connectors/idempotency.js';
import { type FakeDatadog, startFakeDatadog } from '../fakes/datadog.js';
import { type FakeElasticsearch, startFakeElasticsearch } from '../fakes/elasticsearch.js';
import type { Faults } from '../fakes/fault.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeServiceNow, type FakeServiceNowFault, startFakeServiceNow } from '../fakes/servicenow.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from '../fakes/webhook-receiver.js';
import {
  attemptRows,
  deliveryRows,
  postViolations,
  tally,
  ticketRows,
  waitUntilSettled,
} from '../helpers/crash-kit.js';
import { eventually, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

const SEED = 20_261_122;
const M = 40;
const HEC_TOKEN = 'faults-hec-token';
const DD_KEY = 'faults-dd-key';
const ES_KEY = 'faults-es-key';
const WHSEC = `whsec_${Buffer.from('faults-webhook-secret-0123456789').toString('base64')}`;
/** Fast retries with room for a run of bad luck (0.4^20 per delivery): 20 attempts, 50 ms doubling to 500 ms. */
const FAULT_RETRY = {
  maximum_attempts: 20,
  initial_interval: '50ms',
  backoff_coefficient: 2,
  maximum_interval: '500ms',
};
/** Long enough that event-loop lag on a loaded machine is not mistaken for a hang. */
const TIMEOUT = '1500ms';

let stack: Stack;
const fakes = {} as {
  jira: FakeJira;
  snow: FakeServiceNow;
  splunk: FakeSplunk;
  datadog: FakeDatadog;
  es: FakeElasticsearch;
  hook: FakeWebhookReceiver;
  authJira: FakeJira;
  authSplunk: FakeSplunk;
};
const ids: Record<string, string> = {};

/** mulberry32: a small seeded PRNG, so a failing schedule can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Slot =
  | { kind: 'ok' }
  | { kind: '5xx'; status: number }
  | { kind: 'hang' }
  | { kind: '429' }
  | { kind: 'lose' };

/**
 * The next `length` requests of one fake: 30% 5xx, 10% hangs, a burst of 2–4 × 429 starting at 4% of
 * slots, `lose` (ITSM: the create happens, its answer is lost) at 5% when enabled, the rest ok.
 */
function schedule(length: number, seed: number, opts: { lose?: boolean } = {}): Slot[] {
  const rand = prng(seed);
  const slots: Slot[] = [];
  while (slots.length < length) {
    const r = rand();
    if (r < 0.3) slots.push({ kind: '5xx', status: [500, 502, 503, 504][Math.floor(rand() * 4)]! });
    else if (r < 0.4) slots.push({ kind: 'hang' });
    else if (r < 0.44) for (let n = 2 + Math.floor(rand() * 3); n > 0; n--) slots.push({ kind: '429' });
    else if (opts.lose && r < 0.49) slots.push({ kind: 'lose' });
    else slots.push({ kind: 'ok' });
  }
  return slots;
}

function applyToFaults(faults: Faults, slots: Slot[]): void {
  for (const s of slots) {
    if (s.kind === 'ok') faults.delay(0);
    else if (s.kind === '5xx') faults.status(s.status);
    else if (s.kind === 'hang') faults.hang();
    else if (s.kind === '429') faults.status(429, { retryAfter: 1 });
    else faults.loseResponse();
  }
}

function applyToServiceNow(faults: FakeServiceNowFault[], slots: Slot[]): void {
  for (const s of slots) {
    if (s.kind === 'ok') faults.push({ action: 'delay', ms: 0 });
    else if (s.kind === '5xx') faults.push({ action: 'reply', status: s.status });
    else if (s.kind === 'hang') faults.push({ action: 'hang' });
    else if (s.kind === '429') faults.push({ action: 'reply', status: 429, retryAfter: '1' });
    else faults.push({ action: 'drop_after_apply' });
  }
}

async function connector(body: Record<string, unknown>): Promise<string> {
  const res = await stack.api('/v1/connectors', { method: 'POST', json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function patchConnector(id: string, body: Record<string, unknown>): Promise<void> {
  const res = await stack.api(`/v1/connectors/${id}`, { method: 'PATCH', json: body });
  expect(res.status, await res.clone().text()).toBe(200);
}

const jiraConfig = (url: string, token: string) => ({
  base_url: url,
  api: 'cloud',
  email: 'bot@example.com',
  api_token: token,
  project_key: 'SEC',
  issue_type: 'Task',
  timeout: TIMEOUT,
});

const eventIdOf = (r: { envelope: Record<string, unknown> }) =>
  (r.envelope.event as { event_id: string }).event_id;

beforeAll(async () => {
  const started = await Promise.all([
    startStack(),
    startFakeJira(),
    startFakeServiceNow({ username: 'svc', password: 'pw' }),
    startFakeSplunk({ token: HEC_TOKEN }),
    startFakeDatadog({ apiKey: DD_KEY }),
    startFakeElasticsearch({ apiKey: ES_KEY }),
    startFakeWebhookReceiver({ secret: WHSEC }),
    startFakeJira(),
    startFakeSplunk({ token: HEC_TOKEN }),
  ]);
  [stack, fakes.jira, fakes.snow, fakes.splunk, fakes.datadog, fakes.es, fakes.hook] = started;
  [fakes.authJira, fakes.authSplunk] = [started[7], started[8]];
});

afterAll(async () => {
  await stack?.close();
  await Promise.allSettled(Object.values(fakes).map((f) => f?.close()));
});

describe('permanent 401 / 403, then fixed credentials and a replay', () => {
  it('fails at once with the reason, and a replay after the fix delivers exactly once', async () => {
    ids.authJira = await connector({
      name: 'jira-bad-token',
      kind: 'jira',
      config: jiraConfig(fakes.authJira.url, 'revoked-token'),
      retry: FAULT_RETRY,
    });
    ids.authSplunk = await connector({
      name: 'splunk-bad-token',
      kind: 'splunk',
      config: { hec_url: fakes.authSplunk.url, hec_token: 'revoked-token', timeout: TIMEOUT },
      retry: FAULT_RETRY,
    });
    const event = makeEvent();
    const eventId = event.event_id as string;
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    const states = await waitUntilSettled(stack.database, [eventId], { timeoutMs: 30_000 });
    expect(states.get(eventId)).toBe('failed');

    type Delivery = {
      id: string;
      connector_id: string;
      status: string;
      attempts: number;
      last_error: string;
    };
    const view = async () =>
      (await (await stack.api(`/v1/violations/${eventId}`)).json()) as {
        status: string;
        deliveries: Delivery[];
      };
    const failed = (await view()).deliveries;
    const jiraDelivery = failed.find((d) => d.connector_id === ids.authJira)!;
    const splunkDelivery = failed.find((d) => d.connector_id === ids.authSplunk)!;
    // One attempt each (no retry of a permanent refusal), the remote's reason kept.
    expect(jiraDelivery).toMatchObject({ status: 'failed', attempts: 1 });
    expect(jiraDelivery.last_error).toMatch(/401|not authenticated/i);
    expect(splunkDelivery).toMatchObject({ status: 'failed', attempts: 1 });
    expect(splunkDelivery.last_error).toMatch(/Invalid token|403|code 4/i);
    expect(fakes.authJira.issues.size).toBe(0);
    expect(fakes.authSplunk.received).toHaveLength(0);

    await patchConnector(ids.authJira, { config: { api_token: 'cloud-token' } });
    await patchConnector(ids.authSplunk, { config: { hec_token: HEC_TOKEN } });
    for (const d of [jiraDelivery, splunkDelivery]) {
      const res = await stack.api(`/v1/deliveries/${d.id}/replay`, { method: 'POST' });
      expect(res.status, await res.clone().text()).toBe(202);
    }
    const after = await eventually(
      async () => {
        const v = await view();
        return v.deliveries.every((d) => d.status === 'delivered') && v.status === 'completed'
          ? v
          : undefined;
      },
      30_000,
      'the replays to deliver',
    );
    expect(after.deliveries.map((d) => d.attempts).sort()).toEqual([2, 2]);

    // A second replay of a delivered delivery is skipped: still exactly one of each.
    const again = await stack.api(`/v1/deliveries/${jiraDelivery.id}/replay`, { method: 'POST' });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ skipped: true, status: 'delivered' });
    expect(fakes.authJira.createsByLabel.get(ticketIdempotencyKey(ids.authJira, eventId))).toBe(1);
    expect(fakes.authJira.issues.size).toBe(1);
    expect(fakes.authSplunk.received.filter((r) => eventIdOf(r) === eventId)).toHaveLength(1);

    // Out of the way of the fault storm below.
    await patchConnector(ids.authJira, { enabled: false });
    await patchConnector(ids.authSplunk, { enabled: false });
  }, 60_000);
});

describe('every fake faulty at once', () => {
  it('completes every violation within the retry policies, one ticket per violation and ITSM', async () => {
    ids.jira = await connector({
      name: 'jira-faulty',
      kind: 'jira',
      config: jiraConfig(fakes.jira.url, 'cloud-token'),
      retry: FAULT_RETRY,
    });
    ids.snow = await connector({
      name: 'snow-faulty',
      kind: 'servicenow',
      config: { instance_url: fakes.snow.url, username: 'svc', password: 'pw', timeout: TIMEOUT },
      retry: FAULT_RETRY,
    });
    ids.splunk = await connector({
      name: 'splunk-faulty',
      kind: 'splunk',
      config: { hec_url: fakes.splunk.url, hec_token: HEC_TOKEN, timeout: TIMEOUT },
      retry: FAULT_RETRY,
    });
    ids.datadog = await connector({
      name: 'datadog-faulty',
      kind: 'datadog',
      config: { logs_url: fakes.datadog.url, api_key: DD_KEY, timeout: TIMEOUT },
      retry: FAULT_RETRY,
    });
    ids.es = await connector({
      name: 'elastic-faulty',
      kind: 'elasticsearch',
      config: { url: fakes.es.url, api_key: ES_KEY, index_prefix: 'faults', timeout: TIMEOUT },
      retry: FAULT_RETRY,
    });
    ids.hook = await connector({
      name: 'webhook-faulty',
      kind: 'webhook',
      config: { url: fakes.hook.url, secret: WHSEC, timeout: TIMEOUT },
      retry: FAULT_RETRY,
    });

    // About 1.5 schedule slots per violation and fake: the first waves of attempts run into faults,
    // later retries find the remote healthy again (as after a real incident).
    const length = Math.ceil(M * 1.5);
    const plans = {
      jira: schedule(length, SEED + 1, { lose: true }),
      snow: schedule(length, SEED + 2, { lose: true }),
      splunk: schedule(length, SEED + 3),
      datadog: schedule(length, SEED + 4),
      es: schedule(length, SEED + 5),
      hook: schedule(length, SEED + 6),
    };
    applyToFaults(fakes.jira.faults, plans.jira);
    applyToServiceNow(fakes.snow.faults, plans.snow);
    applyToFaults(fakes.splunk.faults, plans.splunk);
    applyToFaults(fakes.datadog.faults, plans.datadog);
    applyToFaults(fakes.es.faults, plans.es);
    applyToFaults(fakes.hook.faults, plans.hook);
    // Partial bulk failures as well: some accepted requests reject their item with 429.
    for (let i = 0; i < 5; i++) fakes.es.faults.rejectNextItem();

    const events = Array.from({ length: M }, () => makeEvent());
    const eventIds = events.map((e) => e.event_id as string);
    const posted = await postViolations(stack.api.bind(stack), events, 8);
    expect(tally(posted.map((p) => p.status))).toEqual({ 202: M });

    const states = await waitUntilSettled(stack.database, eventIds, { timeoutMs: 150_000, label: 'faults' });
    const [deliveries, attempts, tickets] = await Promise.all([
      deliveryRows(stack.database, eventIds),
      attemptRows(stack.database, eventIds),
      ticketRows(stack.database, eventIds),
    ]);
    const byConnector = Object.fromEntries(
      Object.entries(ids)
        .filter(([name]) => !name.startsWith('auth'))
        .map(([name, id]) => {
          const mine = new Set(deliveries.filter((d) => d.connector_id === id).map((d) => d.id));
          return [name, tally(attempts.filter((a) => mine.has(a.delivery_id)).map((a) => a.outcome))];
        }),
    );
    const injected = Object.fromEntries(
      Object.entries(plans).map(([name, slots]) => [name, tally(slots.map((s) => s.kind))]),
    );
    console.log(
      `[faults] injected ${JSON.stringify(injected)}; attempts by connector ${JSON.stringify(byConnector)}; ` +
        `max attempts ${Math.max(...deliveries.map((d) => d.attempts))}`,
    );
    const failed = deliveries.filter((d) => d.status !== 'delivered');
    expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
    expect(tally(states.values())).toEqual({ completed: M });

    // The faults did happen: every fake consumed its schedule and saw failed attempts.
    expect(fakes.jira.faults.pending).toBe(0);
    expect(fakes.snow.faults).toHaveLength(0);
    for (const name of Object.keys(plans)) expect(byConnector[name]!.failed ?? 0, name).toBeGreaterThan(0);
    expect(attempts.filter((a) => a.outcome === 'running')).toEqual([]);

    // Exactly one ticket per violation and ITSM, lost responses included.
    for (const id of eventIds) {
      expect(fakes.jira.createsByLabel.get(ticketIdempotencyKey(ids.jira!, id)), `jira ${id}`).toBe(1);
      expect(fakes.snow.creates.get(ticketIdempotencyKey(ids.snow!, id)), `servicenow ${id}`).toBe(1);
    }
    expect(fakes.jira.issues.size).toBe(M);
    expect(fakes.snow.list('incident')).toHaveLength(M);
    expect(tickets).toHaveLength(2 * M);

    // Every SIEM event stored (Elasticsearch by _id, the webhook receiver by webhook-id; Splunk
    // and Datadog at least once).
    const splunkSeen = new Set(fakes.splunk.received.map(eventIdOf));
    const datadogText = fakes.datadog.logs.map((l) => JSON.stringify(l.item));
    const esIds = new Set(fakes.es.docs().map((d) => d.id));
    const hookText = fakes.hook.received.map((r) => r.rawBody);
    for (const id of eventIds) {
      expect(splunkSeen.has(id), `splunk ${id}`).toBe(true);
      expect(
        datadogText.some((t) => t.includes(id)),
        `datadog ${id}`,
      ).toBe(true);
      expect(esIds.has(id), `elasticsearch ${id}`).toBe(true);
      expect(
        hookText.filter((t) => t.includes(id)),
        `webhook ${id}`,
      ).toHaveLength(1);
    }
  }, 180_000);
});
