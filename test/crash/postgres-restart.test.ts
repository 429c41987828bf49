/**
 * Crash: PostgreSQL (a dedicated embedded server, not the suite's shared one) is stopped mid-run
 * while clients keep posting, left down for ~8 s, then started again on the same data directory
 * and port. While it is down the API must answer 503 with Retry-After (never 500), and /readyz
 * must say so; afterwards the pools recover on their own, every event a client got accepted
 * (202, or 200 on a retry) completes, and each has exactly one Jira issue.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ticketIdempotencyKey } from '../../connectors/idempotency.js';
import { runMigrations } from '../../db/migrate.js';
import { type EmbeddedPg, startEmbeddedPostgres } from '../../infra/embedded-postgres.js';
import { freePort } from '../../infra/ports.js';
import { SecretBox } from '../../infra/secret-box.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import {
  type ApiServer,
  type AttemptRowView,
  attemptRows,
  crashJiraConnector,
  createConnector,
  type DeliveryRowView,
  deliveryRows,
  type InProcessWorker,
  sleep,
  startApiServer,
  startInProcessWorker,
  type TicketRowView,
  tally,
  ticketRows,
  waitUntilSettled,
} from '../helpers/crash-kit.js';
import { eventually, makeEvent } from '../helpers/events.js';

const POSTERS = 5;
/** Pause between two events of one poster (keeps the run to about a hundred violations). */
const POST_PAUSE_MS = 150;
/** Clients honour Retry-After, capped so that the test stays short. */
const RETRY_AFTER_CAP_MS = 1_000;
const BEFORE_MS = 3_000;
const DOWN_MS = 8_000;
const AFTER_MS = 5_000;
/** After posting stops, how long a client keeps retrying the event it has not got accepted yet. */
const DRAIN_MS = 20_000;
const REQUEST_TIMEOUT_MS = 20_000;
/** While PostgreSQL is down a 503 comes within this; once it is back, readyz says 200 within this. */
const PROMPT_MS = 3_000;
/**
 * Fast retries whose budget (~35 s of failures) outlasts the outage: a database error inside a
 * ticket activity is an ordinary failed attempt under the connector's policy.
 */
const RETRY = {
  maximum_attempts: 20,
  initial_interval: '500ms',
  backoff_coefficient: 2,
  maximum_interval: '2s',
};

type Phase = 'before' | 'stopping' | 'down' | 'starting' | 'after' | 'drain';

interface Answer {
  eventId: string;
  phase: Phase;
  /** Sent at (ms since the clients started) and answered after (ms). */
  at: number;
  ms: number;
  status: number;
  retryAfter: string | null;
  body: string;
}

interface Probe {
  phase: Phase;
  at: number;
  ms: number;
  status: number;
  body: string;
}

let root: string;
let pg: EmbeddedPg;
let server: ApiServer;
let worker: InProcessWorker;
let jira: FakeJira;
let workerError: unknown;
let jiraId: string;
let phase: Phase = 'before';
let posting = true;
let t0 = 0;

const seen = {
  answers: [] as Answer[],
  probes: [] as Probe[],
  /** Events a client got a 202 or 200 for. */
  accepted: [] as string[],
  /** Events a client gave up on (never accepted). */
  abandoned: [] as string[],
  ticketsAtStop: 0,
  acceptedAtStop: 0,
  recoveredAfterMs: -1,
  states: new Map<string, string>(),
  deliveries: [] as DeliveryRowView[],
  attempts: [] as AttemptRowView[],
  tickets: [] as TicketRowView[],
  workerState: '',
  timings: {} as Record<string, number>,
};

/** One client: posts new events one after the other, retrying each on 503 until it is accepted. */
async function poster(): Promise<void> {
  while (posting) {
    const event = makeEvent();
    const eventId = event.event_id as string;
    const drainUntil = { at: Number.POSITIVE_INFINITY };
    for (;;) {
      const [now, at] = [Date.now(), phase];
      const base = { eventId, phase: at, at: now - t0 };
      let answer: Answer;
      try {
        const res = await server.api('/v1/violations', {
          method: 'POST',
          json: event,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        answer = {
          ...base,
          ms: Date.now() - now,
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          body: await res.text(),
        };
      } catch (err) {
        answer = { ...base, ms: Date.now() - now, status: 0, retryAfter: null, body: (err as Error).message };
      }
      seen.answers.push(answer);
      if (answer.status === 202 || answer.status === 200) {
        seen.accepted.push(eventId);
        break;
      }
      if (answer.status !== 503) {
        // Anything else fails the test; this client stops so that the failure is easy to read.
        seen.abandoned.push(eventId);
        return;
      }
      if (!posting && drainUntil.at === Number.POSITIVE_INFINITY) drainUntil.at = Date.now() + DRAIN_MS;
      if (Date.now() > drainUntil.at) {
        seen.abandoned.push(eventId);
        return;
      }
      const retryAfterMs = Number(answer.retryAfter ?? '1') * 1000;
      await sleep(Math.min(Number.isFinite(retryAfterMs) ? retryAfterMs : 1000, RETRY_AFTER_CAP_MS));
    }
    await sleep(POST_PAUSE_MS);
  }
}

/** GET /readyz every 250 ms until `stop()`. */
function prober() {
  let running = true;
  const done = (async () => {
    while (running) {
      const [now, at] = [Date.now(), phase];
      const base = { phase: at, at: now - t0 };
      try {
        const res = await server.api('/readyz', {
          key: null,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const body = await res.text();
        seen.probes.push({ ...base, ms: Date.now() - now, status: res.status, body });
      } catch (err) {
        seen.probes.push({ ...base, ms: Date.now() - now, status: 0, body: (err as Error).message });
      }
      await sleep(250);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'escalate-pg-restart-'));
  // embedded-postgres runs initdb/postgres as an unprivileged user when we are root.
  chmodSync(root, 0o755);
  const port = await freePort();
  [pg, jira] = await Promise.all([
    // persistent: stop() must keep the data directory, so that start() finds it again.
    startEmbeddedPostgres({ dataDir: join(root, 'pg'), port, persistent: true }),
    startFakeJira(),
  ]);
  await pg.createDatabase('escalate');
  const databaseUrl = pg.url('escalate');
  await runMigrations(databaseUrl);

  const box = new SecretBox(SecretBox.generateKey());
  const taskQueue = `crash-pg-${randomUUID()}`;
  const common = { databaseUrl, temporalAddress: inject('temporalAddress'), taskQueue, box };
  [server, worker] = await Promise.all([
    startApiServer(common),
    startInProcessWorker({ ...common, workflowBundlePath: inject('workflowBundlePath') }),
  ]);
  worker.running.catch((err) => {
    workerError = err;
  });
  jiraId = await createConnector(server.api, crashJiraConnector(jira.url, 'jira-pg-restart', RETRY));
  // Slow Jira a little, so that ticket activities are in flight when PostgreSQL goes away.
  for (let i = 0; i < 20_000; i++) jira.faults.delay(20 + ((i * 37) % 120));

  t0 = Date.now();
  const probes = prober();
  const clients = Array.from({ length: POSTERS }, () => poster());
  await sleep(BEFORE_MS);

  // Fast shutdown (SIGINT): sessions are terminated, then new connections are refused.
  seen.ticketsAtStop = jira.issues.size;
  seen.acceptedAtStop = seen.accepted.length;
  phase = 'stopping';
  seen.timings.stopping = Date.now() - t0;
  await pg.stop();
  phase = 'down';
  seen.timings.down = Date.now() - t0;
  await sleep(DOWN_MS);

  phase = 'starting';
  seen.timings.starting = Date.now() - t0;
  await pg.start();
  phase = 'after';
  seen.timings.started = Date.now() - t0;
  const ready = await eventually(
    async () => seen.probes.find((p) => p.phase === 'after' && p.status === 200),
    30_000,
    'readyz to answer 200',
  );
  seen.timings.ready = ready.at + ready.ms;
  seen.recoveredAfterMs = seen.timings.ready - seen.timings.started;
  await sleep(AFTER_MS);

  phase = 'drain';
  posting = false;
  await Promise.all(clients);
  await probes.stop();
  seen.timings.posted = Date.now() - t0;

  seen.states = await waitUntilSettled(server.database, seen.accepted, {
    timeoutMs: 60_000,
    label: 'postgres-restart',
  });
  seen.timings.settled = Date.now() - t0;
  seen.workerState = worker.worker.getState();
  [seen.deliveries, seen.attempts, seen.tickets] = await Promise.all([
    deliveryRows(server.database, seen.accepted),
    attemptRows(server.database, seen.accepted),
    ticketRows(server.database, seen.accepted),
  ]);
  const byPhase = (['before', 'stopping', 'down', 'starting', 'after', 'drain'] as const).map((p) => {
    const answers = seen.answers.filter((a) => a.phase === p);
    return [
      p,
      { ...tally(answers.map((a) => a.status)), slowest_ms: Math.max(0, ...answers.map((a) => a.ms)) },
    ];
  });
  console.log(
    `[postgres-restart] accepted ${seen.accepted.length} (${seen.acceptedAtStop} before the stop, ` +
      `${seen.ticketsAtStop} tickets then); answers by phase ${JSON.stringify(Object.fromEntries(byPhase))}; ` +
      `readyz 200 ${seen.recoveredAfterMs} ms after the start; attempts ` +
      `${JSON.stringify(tally(seen.attempts.map((a) => a.outcome)))}; timings (ms) ${JSON.stringify(seen.timings)}`,
  );
  if (process.env.CRASH_VERBOSE) {
    const line = (x: { at: number; ms: number; phase: string; status: number; body: string }) =>
      `  ${x.at} +${x.ms} ${x.phase} ${x.status} ${x.body.slice(0, 160)}`;
    console.log(
      `answers other than 202:\n${seen.answers
        .filter((a) => a.status !== 202)
        .map(line)
        .join('\n')}`,
    );
    console.log(`readyz:\n${seen.probes.map(line).join('\n')}`);
  }
}, 180_000);

afterAll(async () => {
  posting = false;
  await worker?.stop();
  await server?.close();
  await pg?.stop();
  await jira?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('PostgreSQL stopped and restarted while clients post', () => {
  it('accepted violations before the outage, with tickets still being opened when it hit', () => {
    expect(seen.acceptedAtStop).toBeGreaterThan(0);
    expect(seen.ticketsAtStop).toBeLessThan(seen.accepted.length);
  });

  it('never answers anything but 202, 200 or 503 with Retry-After', () => {
    const bad = seen.answers.filter(
      (a) => !(a.status === 202 || a.status === 200 || (a.status === 503 && a.retryAfter !== null)),
    );
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('answers 503 (unavailable, Retry-After) within seconds while PostgreSQL is down', () => {
    const down = seen.answers.filter((a) => a.phase === 'down');
    const refused = down.filter((a) => a.status === 503);
    // A request sent just before the restart may wait for it and be accepted: that is fine too.
    expect(down.filter((a) => a.status !== 503 && a.status !== 202 && a.status !== 200)).toEqual([]);
    expect(refused.length).toBeGreaterThanOrEqual(POSTERS * 3);
    for (const a of refused) {
      expect(a.retryAfter).toMatch(/^\d+$/);
      expect(JSON.parse(a.body)).toMatchObject({ error: { code: 'unavailable' } });
    }
    // Promptly: not after waiting out the connection pool's reconnect backoff.
    expect(Math.max(...refused.map((a) => a.ms))).toBeLessThan(PROMPT_MS);
  });

  it('reports not ready while PostgreSQL is down, and ready again soon after the restart', () => {
    expect(seen.probes.filter((p) => p.phase === 'before').map((p) => p.status)).toContain(200);
    const down = seen.probes.filter((p) => p.phase === 'down');
    expect(down.length).toBeGreaterThanOrEqual(3);
    expect(tally(down.map((p) => p.status))).toEqual({ 503: down.length });
    for (const p of down)
      expect(JSON.parse(p.body)).toMatchObject({
        status: 'unavailable',
        checks: { postgres: { ok: false } },
      });
    expect(seen.recoveredAfterMs).toBeGreaterThanOrEqual(0);
    expect(seen.recoveredAfterMs).toBeLessThan(PROMPT_MS);
    // And stays ready: no connection of the pool fails its first query after the restart.
    const later = seen.probes.filter((p) => p.at >= seen.timings.ready!);
    expect(later.length).toBeGreaterThanOrEqual(3);
    expect(tally(later.map((p) => p.status))).toEqual({ 200: later.length });
  });

  it('accepts again after the restart, including every event refused during the outage', () => {
    const onceReady = seen.answers.filter((a) => a.at >= seen.timings.ready!);
    expect(onceReady.filter((a) => a.status === 202).length).toBeGreaterThan(0);
    expect(tally(onceReady.map((a) => a.status === 202 || a.status === 200))).toEqual({
      true: onceReady.length,
    });
    const refused = new Set(seen.answers.filter((a) => a.status === 503).map((a) => a.eventId));
    expect(refused.size).toBeGreaterThan(0);
    const accepted = new Set(seen.accepted);
    expect([...refused].filter((id) => !accepted.has(id))).toEqual([]);
    expect(seen.abandoned).toEqual([]);
  });

  it('keeps the same worker running through the outage', () => {
    expect(workerError).toBeUndefined();
    expect(seen.workerState).toBe('RUNNING');
  });

  it('completes every accepted violation with exactly one Jira issue', () => {
    const n = seen.accepted.length;
    expect(new Set(seen.accepted).size).toBe(n);
    expect(tally(seen.accepted.map((id) => seen.states.get(id)))).toEqual({ completed: n });
    const creates = seen.accepted.map((id) => jira.createsByLabel.get(ticketIdempotencyKey(jiraId, id)) ?? 0);
    expect(tally(creates)).toEqual({ 1: n });
    expect(jira.issues.size).toBe(n);
    // Our side agrees: one ticket row per violation, each pointing at a distinct existing issue.
    expect(seen.tickets).toHaveLength(n);
    const keys = new Set(seen.tickets.map((t) => t.external_id));
    expect(keys.size).toBe(n);
    for (const key of keys) expect(jira.issues.has(key!)).toBe(true);
    expect(tally(seen.deliveries.map((d) => `${d.purpose}:${d.status}`))).toEqual({ 'ticket:delivered': n });
    expect(seen.attempts.filter((a) => a.outcome === 'running')).toEqual([]);
  });
});
