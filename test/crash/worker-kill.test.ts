/**
 * Crash: kill -9 the worker process with hundreds of violations in flight, start a new one.
 * Every violation must complete with exactly one Jira issue (the fake counts creates per
 * idempotency label), every Splunk delivery must be delivered, and no attempt may stay `running`.
 *
 * One scenario (in beforeAll) feeds every assertion below. A kill costs a fixed ~30 s: activities the
 * dead worker held are only retried once their start-to-close timeout expires. Typical run on an
 * idle 2-core machine: ~90 s; the generous timeouts are for a machine shared with other suites.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ticketIdempotencyKey } from '../../connectors/idempotency.js';
import { SecretBox } from '../../infra/secret-box.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import {
  type ApiServer,
  type AttemptRowView,
  attemptRows,
  crashJiraConnector,
  createConnector,
  type DeliveryRowView,
  deliveryRows,
  newSecretKey,
  type PostResult,
  postViolations,
  sleep,
  startApiServer,
  type TicketRowView,
  tally,
  ticketRows,
  waitUntilSettled,
} from '../helpers/crash-kit.js';
import { eventually, makeEvent } from '../helpers/events.js';
import { createTestDatabase } from '../helpers/stack.js';
import { spawnWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

const N = 200;
const HEC_TOKEN = 'crash-hec-token';
/** Retries fast enough for a test, with room for a few faults. */
const RETRY = {
  maximum_attempts: 8,
  initial_interval: '200ms',
  backoff_coefficient: 2,
  maximum_interval: '2s',
};

let databaseUrl: string;
let secretKey: string;
let taskQueue: string;
let server: ApiServer;
let jira: FakeJira;
let splunk: FakeSplunk;
let oneShotSplunk: FakeSplunk;
const workers: WorkerProcess[] = [];
const ids: Record<string, string> = {};

/** What the scenario observed, for the assertions. */
const seen = {
  eventIds: [] as string[],
  posted: [] as PostResult[],
  states: new Map<string, string>(),
  ticketsAtKill: 0,
  runningAtKill: 0,
  killSignal: null as NodeJS.Signals | null,
  deliveries: [] as DeliveryRowView[],
  attempts: [] as AttemptRowView[],
  tickets: [] as TicketRowView[],
  oneShotEventId: '',
  oneShotKillSignal: null as NodeJS.Signals | null,
  timings: {} as Record<string, number>,
};

/** Each fake request waits 50–200 ms (seeded), so many HTTP calls are in flight at once. */
function slowDown(faults: FakeJira['faults'], count: number, seed: number) {
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    faults.delay(50 + (s % 151));
  }
}

async function spawnWorker(): Promise<WorkerProcess> {
  const w = await spawnWorkerProcess({
    temporalAddress: inject('temporalAddress'),
    taskQueue,
    databaseUrl,
    secretKey,
    workflowBundlePath: inject('workflowBundlePath'),
  });
  workers.push(w);
  return w;
}

const runningAttempts = async (eventId?: string, connectorId?: string) => {
  const [row] = await server.database.sql<{ n: number }[]>`
    select count(*)::int as n from delivery_attempts a join deliveries d on d.id = a.delivery_id
    where a.outcome = 'running'
      and (${eventId ?? null}::uuid is null or d.event_id = ${eventId ?? null}::uuid)
      and (${connectorId ?? null}::text is null or d.connector_id = ${connectorId ?? null}::text)`;
  return row!.n;
};

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  secretKey = newSecretKey();
  taskQueue = `crash-kill-${randomUUID()}`;
  [server, jira, splunk, oneShotSplunk] = await Promise.all([
    startApiServer({
      databaseUrl,
      temporalAddress: inject('temporalAddress'),
      taskQueue,
      box: new SecretBox(secretKey),
    }),
    startFakeJira(),
    startFakeSplunk({ token: HEC_TOKEN }),
    startFakeSplunk({ token: HEC_TOKEN }),
  ]);
  ids.jira = await createConnector(server.api, crashJiraConnector(jira.url, 'jira-crash', RETRY));
  ids.splunk = await createConnector(server.api, {
    name: 'splunk-crash',
    kind: 'splunk',
    config: { hec_url: splunk.url, hec_token: HEC_TOKEN, index: 'security', timeout: '3s' },
    retry: RETRY,
  });
  // One attempt only, endpoint hangs: the kill cuts its last allowed try (anomalies only).
  ids.oneShot = await createConnector(server.api, {
    name: 'splunk-one-shot',
    kind: 'splunk',
    filters: { event_types: ['anomaly'] },
    config: { hec_url: oneShotSplunk.url, hec_token: HEC_TOKEN, timeout: '5s' },
    retry: { maximum_attempts: 1 },
  });
  oneShotSplunk.faults.hang();
  slowDown(jira.faults, 3 * N, 7);
  slowDown(splunk.faults, 3 * N, 11);

  // Scene 1, on an idle worker: an anomaly whose one-shot SIEM attempt hangs; kill the worker
  // while that attempt (its last allowed try) is in flight.
  const t0 = Date.now();
  const first = await spawnWorker();
  const oneShot = makeEvent({ event_type: 'anomaly' });
  seen.oneShotEventId = oneShot.event_id as string;
  expect((await postViolations(server.api, [oneShot]))[0]!.status).toBe(202);
  await eventually(
    async () => (await runningAttempts(seen.oneShotEventId, ids.oneShot)) > 0,
    30_000,
    'the one-shot attempt to start',
  );
  await first.kill();
  seen.oneShotKillSignal = first.child.signalCode;

  // Scene 2: 200 violations; kill the next worker once ~30% of the tickets exist (the rest is
  // queued, running or half-done), then start a third one.
  const second = await spawnWorker();
  const events = Array.from({ length: N }, () => makeEvent());
  seen.eventIds = events.map((e) => e.event_id as string);
  const posting = postViolations(server.api, events, 16);
  await eventually(async () => jira.issues.size >= N * 0.3, 150_000, '30% of the tickets');
  // ...and at a moment when HTTP attempts of the 200 are in flight (the one-shot's not counted).
  seen.runningAtKill = await eventually(
    async () => (await runningAttempts()) - (await runningAttempts(seen.oneShotEventId)),
    30_000,
    'attempts in flight',
  );
  seen.ticketsAtKill = jira.issues.size;
  const [retriedBeforeKill] = await server.database.sql<{ n: number }[]>`
    select count(*)::int as n from delivery_attempts where attempt > 1`;
  await second.kill();
  seen.killSignal = second.child.signalCode;
  seen.timings.kill = Date.now() - t0;

  seen.posted = await posting;
  seen.timings.posted = Date.now() - t0;
  await sleep(500);
  await spawnWorker();
  const all = [...seen.eventIds, seen.oneShotEventId];
  seen.states = await waitUntilSettled(server.database, all, { timeoutMs: 150_000, label: 'worker-kill' });
  seen.timings.settled = Date.now() - t0;
  [seen.deliveries, seen.attempts, seen.tickets] = await Promise.all([
    deliveryRows(server.database, all),
    attemptRows(server.database, all),
    ticketRows(server.database, all),
  ]);
  const perDelivery = tally(seen.attempts.map((a) => a.delivery_id));
  const received = tally(splunk.received.map((r) => (r.envelope.event as { event_id: string }).event_id));
  console.log(
    `[worker-kill] attempts per delivery ${JSON.stringify(tally(Object.values(perDelivery)))}; ` +
      `splunk copies per event ${JSON.stringify(tally(Object.values(received)))}; ` +
      `adopted ${seen.attempts.filter((a) => a.message?.startsWith('adopted')).length}; ` +
      `retries before the kill ${retriedBeforeKill!.n}`,
  );
  console.log(
    `[worker-kill] killed at ${seen.ticketsAtKill}/${N} tickets with ${seen.runningAtKill} attempts running; ` +
      `attempts ${JSON.stringify(tally(seen.attempts.map((a) => a.outcome)))}; ` +
      `timings (ms from the start) ${JSON.stringify(seen.timings)}`,
  );
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.stop(5_000)));
  await server?.close();
  await Promise.allSettled([jira?.close(), splunk?.close(), oneShotSplunk?.close()]);
});

describe('worker killed with SIGKILL mid-flight, then a new worker process', () => {
  it('was killed with work in flight', () => {
    expect(seen.killSignal).toBe('SIGKILL');
    expect(seen.ticketsAtKill).toBeLessThan(N);
    expect(seen.runningAtKill).toBeGreaterThan(0);
    expect(seen.oneShotKillSignal).toBe('SIGKILL');
    expect(tally(seen.posted.map((p) => p.status))).toEqual({ 202: N });
  });

  it('completes every violation', () => {
    expect(tally(seen.eventIds.map((id) => seen.states.get(id)))).toEqual({ completed: N });
  });

  it('opens exactly one Jira issue per violation', async () => {
    const creates = seen.eventIds.map(
      (id) => jira.createsByLabel.get(ticketIdempotencyKey(ids.jira!, id)) ?? 0,
    );
    expect(tally(creates)).toEqual({ 1: N });
    // The one-shot anomaly is critical too: it has its own issue.
    expect(jira.createsByLabel.get(ticketIdempotencyKey(ids.jira!, seen.oneShotEventId))).toBe(1);
    expect(jira.issues.size).toBe(N + 1);

    // Our side agrees: one ticket row per violation, each pointing at a distinct existing issue.
    expect(seen.tickets).toHaveLength(N + 1);
    const keys = new Set(seen.tickets.map((t) => t.external_id));
    expect(keys.size).toBe(N + 1);
    for (const key of keys) expect(jira.issues.has(key!)).toBe(true);
  });

  it('delivers every event to Splunk (at least once) and marks every delivery delivered', () => {
    // HEC is not idempotent: an attempt cut by the kill may be re-sent; consumers de-duplicate
    // by event_id. None may be missing.
    const received = tally(splunk.received.map((r) => (r.envelope.event as { event_id: string }).event_id));
    for (const id of seen.eventIds) expect(received[id] ?? 0, `splunk event ${id}`).toBeGreaterThanOrEqual(1);
    const mine = seen.deliveries.filter((d) => seen.eventIds.includes(d.event_id));
    expect(mine).toHaveLength(2 * N);
    expect(tally(mine.map((d) => `${d.purpose}:${d.status}`))).toEqual({
      'ticket:delivered': N,
      'event:delivered': N,
    });
  });

  it('leaves no attempt running; the ones the dead worker held are closed as interrupted', () => {
    const outcomes = tally(seen.attempts.map((a) => a.outcome));
    expect(outcomes.running ?? 0).toBe(0);
    expect(outcomes.interrupted ?? 0).toBeGreaterThan(0);
  });

  it('fails an attempt cut on its last allowed try with a reason, not left running', () => {
    const eventId = seen.oneShotEventId;
    expect(seen.states.get(eventId)).toBe('partially_failed');
    const deliveries = seen.deliveries.filter((d) => d.event_id === eventId);
    const oneShot = deliveries.find((d) => d.connector_id === ids.oneShot)!;
    expect(oneShot).toMatchObject({ status: 'failed', attempts: 1 });
    expect(oneShot.last_error).toBeTruthy();
    expect(deliveries.filter((d) => d !== oneShot).map((d) => d.status)).toEqual(['delivered', 'delivered']);
    const attempts = seen.attempts.filter((a) => a.delivery_id === oneShot.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.outcome).not.toBe('running');
  });
});
