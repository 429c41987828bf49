/**
 * Every list follows `next_cursor` to the end without losing or repeating a row, even when many
 * rows share one millisecond (PostgreSQL keeps microseconds; a JavaScript Date does not).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
const ROWS = 42;
/** One millisecond: half the rows a microsecond apart, the other half on one identical instant. */
const instant = (i: number) => `2026-03-04T05:06:07.123${String(i < ROWS / 2 ? i : 500).padStart(3, '0')}Z`;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

async function followAll(path: string, idOf: (item: Record<string, unknown>) => string, limit = 3) {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await stack.api(
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const body = JSON.parse(text) as { items: Record<string, unknown>[]; next_cursor: string | null };
    seen.push(...body.items.map(idOf));
    cursor = body.next_cursor;
    if (!cursor) return seen;
  }
  throw new Error(`${path}: more than 1000 pages`);
}

const ids = (n: number) => Array.from({ length: n }, () => randomUUID());

describe('keyset pages over rows created in the same millisecond', () => {
  it('GET /v1/deliveries returns every delivery once, newest first', async () => {
    const connector = `pg-${randomUUID().slice(0, 8)}`;
    const rows = ids(ROWS);
    for (const [i, id] of rows.entries()) {
      await stack.database.sql`
        insert into deliveries (id, event_id, connector_id, kind, purpose, created_at)
        values (${id}, ${randomUUID()}, ${connector}, 'splunk', 'event', ${instant(i)}::timestamptz)`;
    }
    const seen = await followAll(`/v1/deliveries?connector_id=${connector}`, (d) => String(d.id));
    expect(seen).toHaveLength(ROWS);
    expect(new Set(seen)).toEqual(new Set(rows));
    // The shared instant is the latest (ids descending within it), then one row per microsecond.
    const shared = rows
      .slice(ROWS / 2)
      .sort()
      .reverse();
    expect(seen).toEqual([...shared, ...rows.slice(0, ROWS / 2).reverse()]);
  });

  it('GET /v1/tickets returns every ticket once', async () => {
    const connector = `pt-${randomUUID().slice(0, 8)}`;
    const rows = ids(ROWS);
    for (const [i, id] of rows.entries()) {
      await stack.database.sql`
        insert into tickets (id, connector_id, kind, event_id, idempotency_key, external_id, severity, priority, created_at)
        values (${id}, ${connector}, 'jira', ${randomUUID()}, ${`k-${id}`}, ${`SEC-${i}`}, 'low', 'low',
                ${instant(i)}::timestamptz)`;
    }
    const seen = await followAll(`/v1/tickets?connector_id=${connector}`, (t) => String(t.id));
    expect(seen).toHaveLength(ROWS);
    expect(new Set(seen)).toEqual(new Set(rows));
  });

  it('GET /v1/violations returns every violation once', async () => {
    const rows = ids(ROWS);
    for (const [i, id] of rows.entries()) {
      const payload = { event_id: id, event_type: 'anomaly', summary: `s${i}`, severity: 'low' };
      await stack.database.sql`
        insert into violations (event_id, payload, body_hash, event_type, severity, occurred_at, received_at, workflow_id)
        values (${id}, ${JSON.stringify(payload)}::jsonb, 'h', 'anomaly', 'low', now(),
                ${instant(i)}::timestamptz, ${`violation-${id}`})`;
    }
    const seen = await followAll('/v1/violations?event_type=anomaly', (v) => String(v.event_id));
    expect(seen).toHaveLength(ROWS);
    expect(new Set(seen)).toEqual(new Set(rows));
  });

  it('GET /v1/replays returns every replay once', async () => {
    const rows = ids(ROWS);
    for (const [i, id] of rows.entries()) {
      await stack.database.sql`
        insert into replays (id, requested_by, filter, total, created_at)
        values (${id}, 'test', '{}'::jsonb, 0, ${instant(i)}::timestamptz)`;
    }
    const seen = await followAll('/v1/replays', (r) => String(r.id));
    expect(new Set(seen)).toEqual(new Set(rows));
    expect(seen).toHaveLength(ROWS);
  });

  it('GET /v1/connectors, /v1/rules and /v1/audit do too (their keys do not involve time)', async () => {
    const tag = randomUUID().slice(0, 8);
    for (let i = 0; i < ROWS; i++) {
      await stack.database.sql`
        insert into connectors (id, name, kind, config, created_at)
        values (${`c-${tag}-${i}`}, ${`c ${tag} ${i}`}, 'webhook', '{"url":"http://127.0.0.1:1"}'::jsonb,
                ${instant(i)}::timestamptz)`;
      await stack.database.sql`
        insert into rules (id, name, "order", "when", "then", created_at)
        values (${`r-${tag}-${i}`}, ${`r ${tag} ${i}`}, 7, '{}'::jsonb, '{"targets":[]}'::jsonb,
                ${instant(i)}::timestamptz)`;
      await stack.database.sql`
        insert into audit_entries (at, actor, action, subject_type, subject_id)
        values (${instant(i)}::timestamptz, 'test', ${`page.${tag}`}, 'test', ${String(i)})`;
    }
    const connectorIds = await followAll('/v1/connectors', (c) => String(c.id));
    expect(connectorIds.filter((id) => id.startsWith(`c-${tag}-`))).toHaveLength(ROWS);
    expect(new Set(connectorIds).size).toBe(connectorIds.length);
    const ruleIds = await followAll('/v1/rules', (r) => String(r.id));
    expect(ruleIds.filter((id) => id.startsWith(`r-${tag}-`))).toHaveLength(ROWS);
    expect(new Set(ruleIds).size).toBe(ruleIds.length);
    const audit = await followAll(`/v1/audit?action=page.${tag}`, (a) => String(a.subject_id));
    expect(new Set(audit).size).toBe(ROWS);
  });

  it('refuses a cursor it did not issue', async () => {
    const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    for (const path of ['/v1/deliveries', '/v1/tickets', '/v1/violations', '/v1/replays']) {
      const res = await stack.api(`${path}?cursor=${forged}`);
      expect(res.status, path).toBe(400);
    }
  });
});
