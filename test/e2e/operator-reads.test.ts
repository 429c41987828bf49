/**
 * The reads the console (and API users) need: the searchable violation list, the overview report,
 * deliveries by kind, and a replay of exactly the selected deliveries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/ports.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let jira: FakeJira;
const marker = `m${Math.random().toString(36).slice(2, 10)}`;
const events = [
  makeEvent({ severity: 'critical', summary: `exfiltration ${marker}` }),
  makeEvent({ severity: 'high', summary: `prompt injection ${marker}` }),
  makeEvent({
    severity: 'low',
    summary: 'unrelated',
    policy: { id: 'pol-other', name: 'Other', action: 'coach' },
  }),
];

async function json<T>(path: string, init?: Parameters<Stack['api']>[1]): Promise<T> {
  const res = await stack.api(path, init);
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as T;
}

beforeAll(async () => {
  [stack, jira] = await Promise.all([startStack(), startFakeJira()]);
  await json('/v1/connectors', { method: 'POST', json: jiraConnector(jira.url, { id: 'jira-sec' }) });
  // A Splunk that nobody listens on, one attempt: its deliveries fail at once.
  await json('/v1/connectors', {
    method: 'POST',
    json: {
      id: 'splunk-down',
      name: 'splunk-down',
      kind: 'splunk',
      config: { hec_url: `http://127.0.0.1:${await freePort()}`, hec_token: 't' },
      retry: { maximum_attempts: 1 },
    },
  });
  for (const e of events) await json('/v1/violations', { method: 'POST', json: e });
  await eventually(
    async () => {
      const page = await json<{ items: { status: string }[] }>(`/v1/violations?q=${marker}`);
      return page.items.length === 2 && page.items.every((v) => v.status !== 'processing');
    },
    60_000,
    'the violations to settle',
  );
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await jira?.close();
});

type Summary = { event_id: string; severity: string; summary: string; user_email: string; status: string };

describe('GET /v1/violations', () => {
  it('searches summary, user, event id and policy, newest first, with filters and cursors', async () => {
    const bySummary = await json<{ items: Summary[] }>(`/v1/violations?q=${marker.toUpperCase()}`);
    expect(bySummary.items.map((v) => v.event_id)).toEqual([events[1]!.event_id, events[0]!.event_id]);
    expect(bySummary.items[0]).toMatchObject({
      severity: 'high',
      summary: `prompt injection ${marker}`,
      user_email: events[1]!.user_email,
      status: 'failed', // its one delivery (the Splunk that is down) failed
    });
    const byUser = await json<{ items: Summary[] }>(
      `/v1/violations?q=${encodeURIComponent(events[2]!.user_email as string)}`,
    );
    expect(byUser.items.map((v) => v.event_id)).toEqual([events[2]!.event_id]);
    const byId = await json<{ items: Summary[] }>(
      `/v1/violations?q=${(events[0]!.event_id as string).slice(0, 13)}`,
    );
    expect(byId.items.map((v) => v.event_id)).toEqual([events[0]!.event_id]);
    const byPolicy = await json<{ items: Summary[] }>('/v1/violations?q=pol-other');
    expect(byPolicy.items.map((v) => v.event_id)).toEqual([events[2]!.event_id]);
    // LIKE wildcards are plain text.
    expect((await json<{ items: Summary[] }>('/v1/violations?q=%25')).items).toEqual([]);

    const critical = await json<{ items: Summary[] }>(`/v1/violations?q=${marker}&severity=critical`);
    expect(critical.items.map((v) => v.event_id)).toEqual([events[0]!.event_id]);
    const first = await json<{ items: Summary[]; next_cursor: string }>(`/v1/violations?limit=2`);
    expect(first.items).toHaveLength(2);
    const second = await json<{ items: Summary[]; next_cursor: null }>(
      `/v1/violations?limit=2&cursor=${first.next_cursor}`,
    );
    expect(second.items.map((v) => v.event_id)).toEqual([events[0]!.event_id]);
    expect(second.next_cursor).toBeNull();
    expect((await stack.api('/v1/violations?cursor=bogus')).status).toBe(400);
  });
});

describe('GET /v1/reports/overview', () => {
  it('counts what needs attention and the violations of each UTC day by severity', async () => {
    const o = await json<{
      days: number;
      violations: { total: number; by_severity: Record<string, number> };
      tickets: { by_status: Record<string, number>; sla_breached_active: number };
      deliveries: { failed: number; pending: number };
      daily: { date: string; total: number; by_severity: Record<string, number> }[];
    }>('/v1/reports/overview');
    expect(o.days).toBe(14);
    expect(o.violations).toEqual({ total: 3, by_severity: { critical: 1, high: 1, medium: 0, low: 1 } });
    // Critical goes to the default Jira; every event to the Splunk that is down.
    expect(o.tickets.by_status).toEqual({ open: 1, in_progress: 0, resolved: 0, closed: 0 });
    expect(o.tickets.sla_breached_active).toBe(0);
    expect(o.deliveries).toEqual({ failed: 3, pending: 0 });
    expect(o.daily).toHaveLength(14);
    const today = new Date().toISOString().slice(0, 10);
    expect(o.daily.at(-1)).toEqual({
      date: today,
      total: 3,
      by_severity: { critical: 1, high: 1, medium: 0, low: 1 },
    });
    expect(o.daily.slice(0, -1).every((d) => d.total === 0)).toBe(true);
    expect((await json<{ daily: unknown[] }>('/v1/reports/overview?days=3')).daily).toHaveLength(3);
    expect((await stack.api('/v1/reports/overview?days=0')).status).toBe(400);
  });
});

describe('deliveries by kind, and replaying the selected ones', () => {
  it('filters by kind and replays exactly the chosen deliveries (dry run first)', async () => {
    const splunk = await json<{ items: { id: string; kind: string; status: string }[] }>(
      '/v1/deliveries?kind=splunk',
    );
    expect(splunk.items).toHaveLength(3);
    expect(splunk.items.every((d) => d.kind === 'splunk' && d.status === 'failed')).toBe(true);
    const jiraOnes = await json<{ items: { kind: string }[] }>('/v1/deliveries?kind=jira');
    expect(jiraOnes.items.map((d) => d.kind)).toEqual(['jira']);
    expect((await stack.api('/v1/deliveries?kind=fax')).status).toBe(400);

    const chosen = splunk.items.slice(0, 2).map((d) => d.id);
    const dry = await json<{ total: number; deliveries: { id: string }[] }>('/v1/deliveries:replay', {
      method: 'POST',
      json: { filter: { delivery_ids: chosen }, dry_run: true },
    });
    expect(dry.total).toBe(2);
    expect(dry.deliveries.map((d) => d.id).sort()).toEqual([...chosen].sort());
  });
});
