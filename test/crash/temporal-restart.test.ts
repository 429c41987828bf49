/**
 * Crash: the Temporal server (a dedicated, file-backed dev server) is killed mid-run and started
 * again on the same port with the same database file. While it is down the API must answer 503
 * (nothing accepted, retry later); the worker must ride out the outage; afterwards every
 * accepted violation completes with exactly one ticket and its SIEM delivery.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ticketIdempotencyKey } from '../../connectors/idempotency.js';
import { freePort } from '../../infra/ports.js';
import { SecretBox } from '../../infra/secret-box.js';
import { type DevServer, startDevServer } from '../../infra/temporal-dev-server.js';
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
  type InProcessWorker,
  type PostResult,
  postViolations,
  startApiServer,
  startInProcessWorker,
  tally,
  waitUntilSettled,
} from '../helpers/crash-kit.js';
import { eventually, makeEvent } from '../helpers/events.js';
import { createTestDatabase } from '../helpers/stack.js';

const N = 100;
const HEC_TOKEN = 'restart-hec-token';
const RETRY = {
  maximum_attempts: 8,
  initial_interval: '200ms',
  backoff_coefficient: 2,
  maximum_interval: '2s',
};

let root: string;
let port: number;
let dbFile: string;
let temporal: DevServer;
let server: ApiServer;
let worker: InProcessWorker;
let jira: FakeJira;
let splunk: FakeSplunk;
let workerError: unknown;
const ids: Record<string, string> = {};

const seen = {
  eventIds: [] as string[],
  posted: [] as PostResult[],
  ticketsAtStop: 0,
  whileDown: { status: 0, body: '', ms: 0 },
  readyWhileDown: { status: 0, body: '' },
  retried: { status: 0, body: '' },
  downEventId: '',
  workerStateAfterRestart: '',
  states: new Map<string, string>(),
  deliveries: [] as DeliveryRowView[],
  attempts: [] as AttemptRowView[],
  timings: {} as Record<string, number>,
};

const startTemporal = () => startDevServer({ cli: inject('temporalCli'), port, dbFile, headless: true });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'escalate-temporal-restart-'));
  dbFile = join(root, 'temporal.db');
  port = await freePort();
  const databaseUrl = await createTestDatabase();
  const box = new SecretBox(SecretBox.generateKey());
  const taskQueue = `crash-temporal-${randomUUID()}`;
  [temporal, jira, splunk] = await Promise.all([
    startTemporal(),
    startFakeJira(),
    startFakeSplunk({ token: HEC_TOKEN }),
  ]);
  const common = { databaseUrl, temporalAddress: temporal.address, taskQueue, box };
  [server, worker] = await Promise.all([
    startApiServer(common),
    startInProcessWorker({ ...common, workflowBundlePath: inject('workflowBundlePath') }),
  ]);
  worker.running.catch((err) => {
    workerError = err;
  });
  ids.jira = await createConnector(server.api, crashJiraConnector(jira.url, 'jira-restart', RETRY));
  ids.splunk = await createConnector(server.api, {
    name: 'splunk-restart',
    kind: 'splunk',
    config: { hec_url: splunk.url, hec_token: HEC_TOKEN, timeout: '3s' },
    retry: RETRY,
  });
  for (let i = 0; i < 3 * N; i++) {
    jira.faults.delay(50 + ((i * 37) % 150));
    splunk.faults.delay(50 + ((i * 53) % 150));
  }

  const t0 = Date.now();
  const events = Array.from({ length: N }, () => makeEvent());
  seen.eventIds = events.map((e) => e.event_id as string);
  seen.posted = await postViolations(server.api, events, 16);
  seen.timings.posted = Date.now() - t0;
  await eventually(async () => jira.issues.size >= N * 0.3, 120_000, '30% of the tickets');

  // Harsh stop: SIGKILL, no chance to flush anything it had not committed.
  seen.ticketsAtStop = jira.issues.size;
  const exited = new Promise((resolve) => temporal.process.once('exit', resolve));
  temporal.process.kill('SIGKILL');
  await exited;
  seen.timings.killed = Date.now() - t0;

  const down = makeEvent();
  seen.downEventId = down.event_id as string;
  const before = Date.now();
  const res = await server.api('/v1/violations', { method: 'POST', json: down });
  seen.whileDown = { status: res.status, body: await res.text(), ms: Date.now() - before };
  const ready = await server.api('/readyz', { key: null });
  seen.readyWhileDown = { status: ready.status, body: await ready.text() };

  temporal = await startTemporal();
  seen.timings.restarted = Date.now() - t0;

  // The client retries what was refused with 503: same body, now accepted.
  const again = await eventually(
    async () => {
      const r = await server.api('/v1/violations', { method: 'POST', json: down });
      return r.status === 503 ? undefined : { status: r.status, body: await r.text() };
    },
    60_000,
    'the API to accept again',
  );
  seen.retried = again;

  const all = [...seen.eventIds, seen.downEventId];
  seen.states = await waitUntilSettled(server.database, all, {
    timeoutMs: 120_000,
    label: 'temporal-restart',
  });
  seen.timings.settled = Date.now() - t0;
  seen.workerStateAfterRestart = worker.worker.getState();
  [seen.deliveries, seen.attempts] = await Promise.all([
    deliveryRows(server.database, all),
    attemptRows(server.database, all),
  ]);
  console.log(
    `[temporal-restart] stopped at ${seen.ticketsAtStop}/${N} tickets; POST while down: ` +
      `${seen.whileDown.status} after ${seen.whileDown.ms} ms; timings ${JSON.stringify(seen.timings)}`,
  );
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await server?.close();
  await temporal?.stop();
  await Promise.allSettled([jira?.close(), splunk?.close()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('Temporal server killed and restarted mid-run', () => {
  it('accepted every violation before the outage, with work still in flight when it hit', () => {
    expect(tally(seen.posted.map((p) => p.status))).toEqual({ 202: N });
    expect(seen.ticketsAtStop).toBeLessThan(N);
  });

  it('answers 503 with Retry-After to POST /v1/violations while Temporal is down, and readyz says so', () => {
    expect(seen.whileDown.status, seen.whileDown.body).toBe(503);
    expect(JSON.parse(seen.whileDown.body)).toMatchObject({ error: { code: 'unavailable' } });
    expect(seen.readyWhileDown.status).toBe(503);
    expect(JSON.parse(seen.readyWhileDown.body)).toMatchObject({
      status: 'unavailable',
      checks: { postgres: { ok: true }, temporal: { ok: false } },
    });
  });

  it('accepts the refused event when the client retries it after the restart', () => {
    // 202, not 200: the 503 acknowledged nothing; this retry is what started the workflow.
    expect(seen.retried.status).toBe(202);
  });

  it('keeps the same worker running through the outage', () => {
    expect(workerError).toBeUndefined();
    expect(seen.workerStateAfterRestart).toBe('RUNNING');
  });

  it('completes every violation with exactly one ticket and its Splunk delivery', () => {
    const all = [...seen.eventIds, seen.downEventId];
    expect(tally(all.map((id) => seen.states.get(id)))).toEqual({ completed: N + 1 });
    const creates = all.map((id) => jira.createsByLabel.get(ticketIdempotencyKey(ids.jira!, id)) ?? 0);
    expect(tally(creates)).toEqual({ 1: N + 1 });
    expect(jira.issues.size).toBe(N + 1);
    const received = tally(splunk.received.map((r) => (r.envelope.event as { event_id: string }).event_id));
    for (const id of all) expect(received[id] ?? 0, `splunk event ${id}`).toBeGreaterThanOrEqual(1);
    expect(tally(seen.deliveries.map((d) => `${d.purpose}:${d.status}`))).toEqual({
      'ticket:delivered': N + 1,
      'event:delivered': N + 1,
    });
    expect(seen.attempts.filter((a) => a.outcome === 'running')).toEqual([]);
  });
});
