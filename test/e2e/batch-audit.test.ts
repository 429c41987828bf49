// biome-ignore-all lint/suspicious/noThenProperty: rules have a `then` field; plain data.
/**
 * POST /v1/violations:batch (≤ 500 events, a result per event, the single POST's
 * idempotency) and GET /v1/audit (filters, newest first, keyset pages).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import { createApp } from '../../api/app.js';
import { defaultSettings } from '../../domain/settings.js';
import { createLogger } from '../../infra/logger.js';
import { violationWorkflowId } from '../../workflows/contract.js';
import { makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, INGEST_KEY, type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
const ADMIN_ACTOR = `key…${ADMIN_KEY.slice(-4)}`;

type Json = Record<string, unknown>;
type Item = {
  index: number;
  event_id: string | null;
  status: string;
  http_status: number;
  workflow_id?: string;
  status_url?: string;
  error?: { code: string; message: string; details?: { path: string; message: string }[] };
};
type ErrorBody = { error: { code: string; message: string; details?: { path: string; message: string }[] } };
type AuditEntry = {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  details: Json | null;
};

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text.slice(0, 2000)).toBe(status);
  return JSON.parse(text) as T;
}

const batch = (events: unknown, key?: string) =>
  stack.api('/v1/violations:batch', { method: 'POST', json: { events }, key });

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('POST /v1/violations:batch', () => {
  it('answers per event: accepted, invalid, duplicate and conflict, like single posts', async () => {
    const a = makeEvent();
    const b = makeEvent({ severity: undefined, risk_score: 0.42, mystery_field: { kept: true } });
    const single = makeEvent();
    expect((await stack.api('/v1/violations', { method: 'POST', json: single })).status).toBe(202);

    const events: unknown[] = [
      a,
      { ...makeEvent(), summary: '', severity: 'huge', event_id: 'not-a-uuid' },
      b,
      a, // again in the same batch, same body
      { ...a, summary: 'changed' }, // same id, another body
      single, // posted before, same body
      { ...single, severity: 'low' }, // posted before, another body
      42,
    ];
    const { items } = await json<{ items: Item[] }>(await batch(events), 200);
    expect(items.map((i) => [i.index, i.status, i.http_status])).toEqual([
      [0, 'accepted', 202],
      [1, 'invalid', 400],
      [2, 'accepted', 202],
      [3, 'duplicate', 200],
      [4, 'conflict', 409],
      [5, 'duplicate', 200],
      [6, 'conflict', 409],
      [7, 'invalid', 400],
    ]);
    expect(items[0]).toEqual({
      index: 0,
      event_id: a.event_id,
      status: 'accepted',
      http_status: 202,
      workflow_id: violationWorkflowId(a.event_id as string),
      status_url: `/v1/violations/${a.event_id}`,
    });
    expect(items[3]).toMatchObject({ workflow_id: violationWorkflowId(a.event_id as string) });
    expect(items[1]!.event_id).toBe('not-a-uuid');
    expect(items[1]!.error!.code).toBe('validation_failed');
    expect(items[1]!.error!.details!.map((d) => d.path).sort()).toEqual(
      ['events[1].event_id', 'events[1].severity', 'events[1].summary'].sort(),
    );
    expect(items[4]!.error).toMatchObject({ code: 'conflict' });
    expect(items[4]!.workflow_id).toBeUndefined();
    expect(items[7]).toMatchObject({ event_id: null, error: { details: [{ path: 'events[7]' }] } });

    // Accepted events are stored whole (unknown fields kept) with their derived severity.
    const stored = await json<{ severity: string; payload: Json }>(
      await stack.api(`/v1/violations/${b.event_id}`),
      200,
    );
    expect(stored.severity).toBe('low');
    expect(stored.payload.mystery_field).toEqual({ kept: true });
    // The conflicting body did not replace the stored one.
    const storedA = await json<{ payload: Json }>(await stack.api(`/v1/violations/${a.event_id}`), 200);
    expect(storedA.payload.summary).toBe(a.summary);
    // A single POST of a batch-accepted event is a duplicate too.
    expect((await stack.api('/v1/violations', { method: 'POST', json: b })).status).toBe(200);

    // Retrying the whole batch is safe: what was accepted is now a duplicate.
    const again = await json<{ items: Item[] }>(await batch(events), 200);
    expect(again.items.map((i) => i.status)).toEqual([
      'duplicate',
      'invalid',
      'duplicate',
      'duplicate',
      'conflict',
      'duplicate',
      'conflict',
      'invalid',
    ]);
    const rows = await stack.database.sql`select count(*)::int as n from violations`;
    expect(rows[0]!.n).toBe(3);
  });

  it('takes up to 500 events and 8 MiB, refuses more, and keeps each event within 256 KiB', async () => {
    const padding = 'x'.repeat(2_000);
    const many = Array.from({ length: 500 }, () => makeEvent({ details: { padding } }));
    const body = JSON.stringify({ events: many });
    expect(Buffer.byteLength(body)).toBeGreaterThan(256 * 1024);
    const ok = await json<{ items: Item[] }>(await batch(many, INGEST_KEY), 200);
    expect(ok.items).toHaveLength(500);
    expect(ok.items.every((i, n) => i.index === n && i.status === 'accepted')).toBe(true);

    const tooMany = await json<ErrorBody>(await batch([...many, makeEvent()]), 400);
    expect(tooMany.error.code).toBe('validation_failed');
    expect(tooMany.error.details!.map((d) => d.path)).toEqual(['events']);
    expect((await json<ErrorBody>(await batch([]), 400)).error.details![0]!.path).toBe('events');
    const notBatch = await stack.api('/v1/violations:batch', { method: 'POST', json: makeEvent() });
    expect((await json<ErrorBody>(notBatch, 400)).error.code).toBe('validation_failed');

    const huge = makeEvent({ details: { blob: 'y'.repeat(300 * 1024) } });
    const small = makeEvent();
    const mixed = await json<{ items: Item[] }>(await batch([huge, small]), 200);
    expect(mixed.items.map((i) => [i.status, i.http_status])).toEqual([
      ['invalid', 413],
      ['accepted', 202],
    ]);
    expect(mixed.items[0]!.error!.code).toBe('payload_too_large');
    expect((await stack.api(`/v1/violations/${huge.event_id}`)).status).toBe(404);
    // The single endpoint keeps its 256 KiB limit.
    expect((await stack.api('/v1/violations', { method: 'POST', json: huge })).status).toBe(413);

    const overall = Array.from({ length: 40 }, () =>
      makeEvent({ details: { blob: 'z'.repeat(220 * 1024) } }),
    );
    expect((await json<ErrorBody>(await batch(overall), 413)).error.code).toBe('payload_too_large');
  }, 120_000);

  it('refuses an 8 MiB array of zeros from its value count, before parsing it (413)', async () => {
    const body = `{"events":[${'0,'.repeat(4 * 1024 * 1024 - 8)}0]}`;
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(8 * 1024 * 1024);
    const res = await stack.api('/v1/violations:batch', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    const answer = await json<ErrorBody>(res, 413);
    expect(answer.error.code).toBe('too_many_values');
    // A single event has its own, smaller budget.
    const deep = makeEvent({ details: { samples: new Array(60_000).fill(0) } });
    expect(
      (await json<ErrorBody>(await stack.api('/v1/violations', { method: 'POST', json: deep }), 413)).error
        .code,
    ).toBe('too_many_values');
  });

  it('is its own route: not swallowed by /violations/{event_id}, POST only, JSON only', async () => {
    expect((await stack.api('/v1/violations:batch')).status).toBe(404);
    expect((await stack.api(`/v1/violations/${randomUUID()}`)).status).toBe(404);
    const text = await stack.api('/v1/violations:batch', {
      method: 'POST',
      body: 'events',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(
      (await stack.api('/v1/violations:batch', { method: 'POST', json: { events: [] }, key: null })).status,
    ).toBe(401);
  });

  it('answers 503 when Temporal is down; the retried batch then gets duplicates and starts them', async () => {
    // The same API and database, with a Temporal client that cannot reach any server.
    const dead = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) });
    const app = createApp({
      database: stack.database,
      workflows: { client: dead, taskQueue: stack.taskQueue },
      box: stack.box,
      settings: defaultSettings(),
      apiKeys: parseApiKeys(`${ADMIN_KEY}:admin`),
      logger: createLogger({ level: 'silent' }),
    });
    const events = [makeEvent(), makeEvent(), makeEvent()];
    const down = await app.request('/v1/violations:batch', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(((await down.json()) as ErrorBody).error.code).toBe('unavailable');

    const retried = await json<{ items: Item[] }>(await batch(events), 200);
    // Stored by the failed call but never acknowledged: this call starts them, so it accepts them.
    expect(retried.items.map((i) => i.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(retried.items.map((i) => i.http_status)).toEqual([202, 202, 202]);
    // Asked again: now they are duplicates.
    const again = await json<{ items: Item[] }>(await batch(events), 200);
    expect(again.items.map((i) => i.status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    for (const e of events) {
      const rows = await stack.database.sql`
        select started_at from violations where event_id = ${e.event_id as string}`;
      expect(rows[0]!.started_at).not.toBeNull();
      await stack.client.workflow.getHandle(violationWorkflowId(e.event_id as string)).describe();
    }
  });
});

describe('GET /v1/audit', () => {
  it('filters by actor, action (exact or prefix*), subject and time, newest first with keyset pages', async () => {
    const start = new Date(Date.now() - 1000).toISOString();
    const ruleIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await stack.api('/v1/rules', {
        method: 'POST',
        json: { id: `audit-${i}`, name: `Audit ${i}`, then: { targets: ['jira-x'] } },
      });
      expect(res.status).toBe(201);
      ruleIds.push(`audit-${i}`);
    }
    expect((await stack.api('/v1/rules/audit-0', { method: 'PATCH', json: { order: 3 } })).status).toBe(200);
    expect((await stack.api('/v1/rules/audit-1', { method: 'DELETE' })).status).toBe(204);

    const all = await json<{ items: AuditEntry[]; next_cursor: string | null }>(
      await stack.api(`/v1/audit?subject_type=rule&since=${encodeURIComponent(start)}`),
      200,
    );
    expect(all.items.map((e) => `${e.action}:${e.subject_id}`)).toEqual([
      'rule.deleted:audit-1',
      'rule.updated:audit-0',
      ...[...ruleIds].reverse().map((id) => `rule.created:${id}`),
    ]);
    expect(all.next_cursor).toBeNull();
    const entry = all.items[0]!;
    expect(entry).toMatchObject({ actor: ADMIN_ACTOR, subject_type: 'rule', details: { name: 'Audit 1' } });
    expect(typeof entry.id).toBe('number');
    expect(Date.parse(entry.at)).not.toBeNaN();
    const ids = all.items.map((e) => e.id);
    expect([...ids].sort((x, y) => y - x)).toEqual(ids);

    // Pages of 2 walk the same list without gaps or repeats.
    const walked: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/v1/audit?subject_type=rule&since=${encodeURIComponent(start)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const p: { items: AuditEntry[]; next_cursor: string | null } = await json(await stack.api(q), 200);
      walked.push(...p.items.map((e) => e.id));
      cursor = p.next_cursor;
      pages++;
    } while (cursor);
    expect(walked).toEqual(ids);
    expect(pages).toBe(4);

    const created = await json<{ items: AuditEntry[] }>(
      await stack.api('/v1/audit?action=rule.created'),
      200,
    );
    expect(created.items.every((e) => e.action === 'rule.created')).toBe(true);
    expect(created.items.length).toBeGreaterThanOrEqual(5);
    const prefixed = await json<{ items: AuditEntry[] }>(
      await stack.api('/v1/audit?action=rule.*&limit=500'),
      200,
    );
    expect(new Set(prefixed.items.map((e) => e.action))).toEqual(
      new Set(['rule.created', 'rule.updated', 'rule.deleted']),
    );
    const one = await json<{ items: AuditEntry[] }>(await stack.api('/v1/audit?subject_id=audit-0'), 200);
    expect(one.items.map((e) => e.action)).toEqual(['rule.updated', 'rule.created']);
    const byActor = await json<{ items: AuditEntry[] }>(
      await stack.api(`/v1/audit?actor=${encodeURIComponent(ADMIN_ACTOR)}&limit=500`),
      200,
    );
    expect(byActor.items.length).toBeGreaterThanOrEqual(7);
    expect(byActor.items.every((e) => e.actor === ADMIN_ACTOR)).toBe(true);
    const nobody = await json<{ items: AuditEntry[] }>(await stack.api('/v1/audit?actor=nobody'), 200);
    expect(nobody.items).toEqual([]);
    const before = await json<{ items: AuditEntry[] }>(
      await stack.api(`/v1/audit?subject_type=rule&until=${encodeURIComponent(start)}`),
      200,
    );
    expect(before.items).toEqual([]);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect(
      (
        await json<{ items: AuditEntry[] }>(
          await stack.api(`/v1/audit?since=${encodeURIComponent(future)}`),
          200,
        )
      ).items,
    ).toEqual([]);

    expect((await json<ErrorBody>(await stack.api('/v1/audit?cursor=abc'), 400)).error.code).toBe(
      'invalid_cursor',
    );
    const badSince = await json<ErrorBody>(await stack.api('/v1/audit?since=yesterday'), 400);
    expect(badSince.error.details!.map((d) => d.path)).toEqual(['since']);
    expect((await stack.api('/v1/audit', { key: INGEST_KEY })).status).toBe(403);

    for (const id of ruleIds.filter((x) => x !== 'audit-1'))
      expect((await stack.api(`/v1/rules/${id}`, { method: 'DELETE' })).status).toBe(204);
  });
});
