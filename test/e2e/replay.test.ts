import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, type Stack, startStack } from '../helpers/stack.js';

const run = promisify(execFile);
let stack: Stack;
let jira: FakeJira;
let splunk: FakeSplunk;
let splunkId: string;

beforeAll(async () => {
  [stack, jira, splunk] = await Promise.all([
    startStack(),
    startFakeJira(),
    startFakeSplunk({ token: 'hec' }),
  ]);
  await stack.api('/v1/connectors', { method: 'POST', json: jiraConnector(jira.url) });
  const res = await stack.api('/v1/connectors', {
    method: 'POST',
    json: {
      id: 'splunk-prod',
      name: 'splunk-prod',
      kind: 'splunk',
      config: { hec_url: splunk.url, hec_token: 'hec' },
      retry: { maximum_attempts: 3, initial_interval: '20ms', maximum_interval: '50ms' },
    },
  });
  splunkId = ((await res.json()) as { id: string }).id;
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([jira?.close(), splunk?.close()]);
});

const cli = (...args: string[]) =>
  run('node', ['cli/bin.js', ...args], {
    env: { ...process.env, ESCALATE_URL: stack.url, ESCALATE_API_KEY: ADMIN_KEY },
    timeout: 120_000,
  });

describe('bulk replay after a SIEM outage', () => {
  it('lists the failed deliveries, replays them with one CLI command, no duplicate tickets, audited', async () => {
    for (let i = 0; i < 9; i++) splunk.faults.status(503, { path: '/services/collector/event' });
    const events = [makeEvent(), makeEvent(), makeEvent()];
    for (const e of events) await stack.api('/v1/violations', { method: 'POST', json: e });
    for (const e of events) {
      await eventually(
        async () => {
          const v = (await (await stack.api(`/v1/violations/${e.event_id}`)).json()) as { status: string };
          return v.status === 'partially_failed';
        },
        90_000,
        'splunk failure',
      );
    }
    const failed = (await (
      await stack.api(`/v1/deliveries?status=failed&connector_id=${splunkId}`)
    ).json()) as { items: { id: string }[] };
    expect(failed.items).toHaveLength(3);

    const dry = await cli('replay', '--status', 'failed', '--connector', splunkId, '--dry-run');
    expect(dry.stdout).toMatch(/3 deliveries would be replayed/);
    expect(splunk.faults.count('/services/collector/event')).toBe(9);

    const real = await cli('replay', '--status', 'failed', '--connector', splunkId, '--since', '1h');
    expect(real.stdout).toMatch(/succeeded/i);
    for (const e of events) {
      const v = (await (await stack.api(`/v1/violations/${e.event_id}`)).json()) as {
        status: string;
        tickets: unknown[];
      };
      expect(v.status).toBe('completed');
      expect(v.tickets).toHaveLength(1);
      expect(
        splunk.received.filter((r) => (r.envelope.event as { event_id: string }).event_id === e.event_id),
      ).toHaveLength(1);
    }
    expect(jira.issues.size).toBe(3);
    const audit = (await (await stack.api('/v1/audit?action=replay.completed')).json()) as {
      items: { actor: string; details: Record<string, number> }[];
    };
    expect(audit.items[0]).toMatchObject({
      actor: expect.stringContaining('key…'),
      details: { delivered: 3 },
    });

    // Replaying again finds nothing failed.
    const again = await cli('replay', '--status', 'failed', '--connector', splunkId, '--dry-run');
    expect(again.stdout).toMatch(/0 deliveries would be replayed/);
  });
});
