/**
 * The `escalate` CLI against a fake API (test/cli/fake-api.ts): most commands in-process through
 * `runCli`, and `replay` and `send` as real subprocesses through `cli/bin.js` (proving the tsx shim).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processIO } from '../../cli/io.js';
import { buildProgram } from '../../cli/program.js';
import { replayBody } from '../../cli/replay.js';
import { toTimestamp } from '../../cli/time.js';
import { API_KEY, makeDeliveries, makeRules, startFakeApi } from '../cli/fake-api.js';
import { cliHarness, NOW, REPO_BIN } from '../cli/harness.js';

let api: Awaited<ReturnType<typeof startFakeApi>>;
let dir: string;

beforeAll(async () => {
  api = await startFakeApi();
  dir = await mkdtemp(join(tmpdir(), 'escalate-cli-'));
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  api.state.requests.length = 0;
  api.state.deliveries = makeDeliveries();
  api.state.failOnReplay.clear();
  api.state.replays.clear();
  api.state.rules = makeRules();
  api.state.createdConnectors.length = 0;
});

/** A local URL nobody listens on (a port just released). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const { cli, bin } = cliHarness(() => api.url);

const event = (overrides: Record<string, unknown> = {}) => ({
  event_id: '3f1c0a52-7e3b-4b8e-9d0e-0c9b8f6e2a11',
  event_type: 'policy_violation',
  severity: 'critical',
  summary: 'max-tokens exceeded',
  ...overrides,
});

const requestsTo = (method: string, path: string) =>
  api.state.requests.filter((r) => r.method === method && r.path === path);

describe('durations for --since / --until', () => {
  it('turns a duration into the ISO time that long before now, and passes ISO through', () => {
    expect(toTimestamp('24h', NOW)).toBe('2026-11-20T12:00:00.000Z');
    expect(toTimestamp('30m', NOW)).toBe('2026-11-21T11:30:00.000Z');
    expect(toTimestamp('7d', NOW)).toBe('2026-11-14T12:00:00.000Z');
    expect(toTimestamp('2026-11-01T00:00:00Z', NOW)).toBe('2026-11-01T00:00:00Z');
    expect(toTimestamp('2026-11-01T02:00:00.5+02:00', NOW)).toBe('2026-11-01T02:00:00.5+02:00');
    expect(() => toTimestamp('yesterday', NOW)).toThrow(/invalid time "yesterday"/);
    expect(() => toTimestamp('2026-11-01', NOW)).toThrow(/invalid time/);
  });

  it('builds the replay filter with converted times and without unset fields', () => {
    const body = replayBody({ status: 'failed', connector: 'splunk-prod', since: '24h', until: '1h' }, NOW);
    expect(JSON.parse(JSON.stringify(body))).toEqual({
      filter: {
        status: 'failed',
        connector_id: 'splunk-prod',
        since: '2026-11-20T12:00:00.000Z',
        until: '2026-11-21T11:00:00.000Z',
      },
      dry_run: false,
    });
  });

  it('rejects a bad duration before calling the API', async () => {
    const r = await cli(['deliveries', 'list', '--since', 'soon']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid time "soon"/);
    expect(api.state.requests).toHaveLength(0);
  });
});

describe('replay (subprocess through cli/bin.js)', () => {
  it('replays with plain progress lines when not a TTY, summarises, and exits 1 when one failed', async () => {
    api.state.failOnReplay.add(api.state.deliveries[2]!.id);
    const before = Date.now();
    const r = await bin(['replay', '--status', 'failed', '--connector', 'splunk-prod', '--since', '24h']);
    const after = Date.now();

    expect(r.code, r.stderr).toBe(1);
    const [start] = requestsTo('POST', '/v1/deliveries:replay');
    const body = start!.body as { filter: Record<string, unknown>; dry_run: boolean };
    expect(body.dry_run).toBe(false);
    expect(body.filter).toMatchObject({ status: 'failed', connector_id: 'splunk-prod' });
    const since = Date.parse(body.filter['since'] as string);
    expect(since).toBeGreaterThanOrEqual(before - 24 * 3_600_000 - 1_000);
    expect(since).toBeLessThanOrEqual(after - 24 * 3_600_000);
    expect(start!.authorization).toBe(`Bearer ${API_KEY}`);

    // Polled until completed; progress on stderr as plain lines (no bar escape codes).
    expect(requestsTo('GET', '/v1/replays/rep-1').length).toBeGreaterThanOrEqual(6);
    expect(r.stderr).toContain('replay rep-1 started: 5 deliveries (workflow replay-rep-1)');
    expect(r.stderr).toContain('replay rep-1: 0/5 done (0 succeeded, 0 failed, 0 skipped)');
    expect(r.stderr).toContain('replay rep-1: 3/5 done (2 succeeded, 1 failed, 0 skipped)');
    expect(r.stderr).toContain('replay rep-1: 5/5 done (4 succeeded, 1 failed, 0 skipped)');
    expect(r.stderr).not.toContain('\u001b[');

    // Summary on stdout: counts and the failed delivery with its error.
    expect(r.stdout).toContain('Replay rep-1: completed');
    expect(r.stdout).toMatch(/│ succeeded │ failed │ skipped │ total │/);
    expect(r.stdout).toMatch(/│ 4\s+│ 1\s+│ 0\s+│ 5\s+│/);
    expect(r.stdout).toContain('Failed deliveries');
    expect(r.stdout).toContain(api.state.deliveries[2]!.id);
    expect(r.stdout).toContain('HTTP 503 from splunk-prod: still down');
  }, 30_000);

  it('exits 0 when every delivery is replayed, with --event-id filters', async () => {
    const ids = [api.state.deliveries[0]!.event_id, api.state.deliveries[5]!.event_id];
    const r = await bin(['replay', '--event-id', ids[0]!, '--event-id', ids[1]!]);
    expect(r.code, r.stderr).toBe(0);
    const body = requestsTo('POST', '/v1/deliveries:replay')[0]!.body as { filter: Record<string, unknown> };
    expect(body.filter).toEqual({ status: 'failed', event_ids: ids });
    expect(r.stdout).toMatch(/│ 2\s+│ 0\s+│ 0\s+│ 2\s+│/);
    expect(r.stdout).not.toContain('Failed deliveries');
  }, 30_000);

  it('Ctrl-C stops following (exit 130) and says the replay goes on on the server', async () => {
    const child = spawn(process.execPath, [REPO_BIN, 'replay'], {
      env: { ...process.env, ESCALATE_URL: api.url, ESCALATE_API_KEY: API_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes('1/7 done') && !child.killed) child.kill('SIGINT');
      });
      child.on('close', resolve);
    });
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted: replay rep-1 goes on on the server (workflow replay-rep-1)');
    expect(stderr).not.toContain('7/7 done');
    expect(stdout).toBe('');
  }, 30_000);

  it('--json prints the final replay status on stdout and keeps progress on stderr', async () => {
    api.state.failOnReplay.add(api.state.deliveries[5]!.id);
    const r = await bin(['--json', 'replay', '--connector', 'jira-sec']);
    expect(r.code).toBe(1);
    const final = JSON.parse(r.stdout);
    expect(final).toMatchObject({ status: 'completed', total: 2, done: 2, succeeded: 1, failed: 1 });
    expect(final.items.find((i: { outcome: string }) => i.outcome === 'failed').error).toMatch(/still down/);
    expect(r.stderr).toContain('2/2 done (1 succeeded, 1 failed, 0 skipped)');
  }, 30_000);
});

describe('replay (in-process)', () => {
  it('--dry-run prints what would be replayed and replays nothing', async () => {
    const r = await cli([
      'replay',
      '--status',
      'failed',
      '--connector',
      'jira-sec',
      '--since',
      '7d',
      '--dry-run',
    ]);
    expect(r.code).toBe(0);
    expect(requestsTo('POST', '/v1/deliveries:replay')[0]!.body).toEqual({
      filter: { status: 'failed', connector_id: 'jira-sec', since: '2026-11-14T12:00:00.000Z' },
      dry_run: true,
    });
    expect(api.state.replays.size).toBe(0);
    expect(r.stdout).toContain(api.state.deliveries[5]!.id);
    expect(r.stdout).toContain('HTTP 503 from https://jira.example.com');
    expect(r.stdout).toContain('2 deliveries would be replayed');
    expect(requestsTo('GET', '/v1/replays/rep-1')).toHaveLength(0);
  });

  it('--dry-run --json prints the raw answer', async () => {
    const r = await cli(['replay', '--dry-run', '--json', '--connector', 'jira-sec']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, total: 2 });
  });

  it('draws a cli-progress bar on a terminal', async () => {
    const r = await cli(['replay', '--connector', 'jira-sec'], { tty: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/replay \[[█░]+\] 2\/2 \| 2 ok, 0 failed, 0 skipped/);
    expect(r.stderr).not.toContain('done (');
    expect(r.stdout).toContain('Replay rep-');
  });

  it('rejects an unknown --status', async () => {
    const r = await cli(['replay', '--status', 'delivered']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Allowed choices are failed, pending/);
    expect(api.state.requests).toHaveLength(0);
  });
});

describe('send (subprocess through cli/bin.js)', () => {
  it('sends an event from standard input', async () => {
    const r = await bin(['send', '-'], { stdin: JSON.stringify(event()) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('accepted 3f1c0a52-7e3b-4b8e-9d0e-0c9b8f6e2a11');
    expect(r.stdout).toContain('violation-3f1c0a52-7e3b-4b8e-9d0e-0c9b8f6e2a11');
    expect(requestsTo('POST', '/v1/violations')[0]!.body).toEqual(event());
  }, 30_000);

  it('prints the validation error with its field paths and exits 1', async () => {
    const r = await bin(['send', '-'], { stdin: JSON.stringify({ summary: 'no ids' }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: validation_failed: invalid request: event_id, event_type, severity\n' +
        '  - event_id: Required\n  - event_type: Required\n  - severity: Required\n',
    );
    expect(r.stdout).toBe('');
  }, 30_000);

  it('sends a JSON array file as one batch and exits 1 when an item is invalid or in conflict', async () => {
    const file = join(dir, 'events.json');
    await writeFile(
      file,
      JSON.stringify([
        event({ event_id: '11111111-1111-4111-8111-111111111111' }),
        event({ event_id: '11111111-1111-4111-8111-111111111111' }),
        event({ event_id: '3f1c0a52-7e3b-4b8e-9d0e-0c9b8f6e2a11', summary: 'changed' }),
        { event_id: '22222222-2222-4222-8222-222222222222' },
      ]),
    );
    const r = await bin(['send', file]);
    expect(r.code).toBe(1);
    expect(requestsTo('POST', '/v1/violations:batch')[0]!.body).toMatchObject({ events: expect.any(Array) });
    expect(r.stdout).toContain('1 accepted, 1 duplicate, 1 conflict, 1 invalid');
    expect(r.stdout).toContain('validation_failed: invalid request: event_type, severity');
    expect(r.stdout).toContain('- event_type: Required');
  }, 30_000);

  it('splits an array longer than 500 events into several batch calls', async () => {
    const file = join(dir, 'many.json');
    const events = Array.from({ length: 501 }, (_, i) =>
      event({ event_id: `55555555-5555-4555-8555-${String(i).padStart(12, '0')}` }),
    );
    await writeFile(file, JSON.stringify(events));
    const r = await bin(['--json', 'send', file]);
    expect(r.code, r.stderr).toBe(0);
    const calls = requestsTo('POST', '/v1/violations:batch').map(
      (q) => (q.body as { events: unknown[] }).events,
    );
    expect(calls.map((e) => e.length)).toEqual([500, 1]);
    const items = JSON.parse(r.stdout).items as { event_id: string; status: string }[];
    expect(items).toHaveLength(501);
    expect(items.every((i) => i.status === 'accepted')).toBe(true);
    expect(items[500]!.event_id).toBe(events[500]!['event_id']);
  }, 30_000);

  it('cannot reach a server that is not there: exit 2', async () => {
    const url = await deadUrl();
    const r = await bin(['send', '-'], { stdin: JSON.stringify(event()), env: { ESCALATE_URL: url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: cannot reach the escalate API at ${url}/v1/violations`);
    expect(r.stderr).toContain('ECONNREFUSED');
  }, 30_000);
});

describe('send (in-process)', () => {
  it('--json prints the raw answer; a repeat is answered as a duplicate', async () => {
    const body = JSON.stringify(event({ event_id: '44444444-4444-4444-8444-444444444444' }));
    const first = await cli(['--json', 'send', '-'], { stdin: body });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      event_id: '44444444-4444-4444-8444-444444444444',
      workflow_id: 'violation-44444444-4444-4444-8444-444444444444',
      status_url: '/v1/violations/44444444-4444-4444-8444-444444444444',
    });
    const again = await cli(['send', '-', '--json'], { stdin: body });
    expect(again.code).toBe(0);
  });

  it('--json on an API error prints the error body on stdout and the error line on stderr', async () => {
    const r = await cli(['--json', 'send', '-'], {
      stdin: JSON.stringify(event({ event_id: '44444444-4444-4444-8444-444444444444', summary: 'other' })),
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'conflict' } });
    expect(r.stderr).toMatch(/^error: conflict: event 4444.* was accepted with another body\n$/);
  });

  it('reports unreadable input without calling the API', async () => {
    const notJson = await cli(['send', '-'], { stdin: '{nope' });
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^error: standard input is not valid JSON/);
    const missing = await cli(['send', join(dir, 'missing.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error: cannot read .*missing\.json/);
    expect(api.state.requests).toHaveLength(0);
  });
});

describe('configuration and auth', () => {
  it('--url and --api-key override the environment', async () => {
    const r = await cli(['--url', `${api.url}/`, '--api-key', API_KEY, 'connectors', 'list'], {
      env: { ESCALATE_URL: 'http://127.0.0.1:1', ESCALATE_API_KEY: 'wrong' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(requestsTo('GET', '/v1/connectors')[0]!.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('401 without a key prints the error and a hint', async () => {
    const r = await cli(['connectors', 'list'], { env: { ESCALATE_URL: api.url } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: unauthorized: missing or invalid API key\nhint: set ESCALATE_API_KEY or pass --api-key\n',
    );
    expect(api.state.requests[0]!.authorization).toBeUndefined();
  });

  it('a network error exits 2 in-process too', async () => {
    const url = await deadUrl();
    const r = await cli(['tickets'], { env: { ESCALATE_URL: url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot reach the escalate API at ${url}/v1/tickets`);
  });
});

describe('read commands', () => {
  it('violations get prints status, severity, tickets and deliveries', async () => {
    const id = api.uuid(201);
    const r = await cli(['violations', 'get', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Violation ${id}`);
    expect(r.stdout).toMatch(/status:\s+partially_failed/);
    expect(r.stdout).toMatch(/severity:\s+critical/);
    expect(r.stdout).toMatch(/Jira SEC \(jira-sec\)\s+│ ticket/);
    expect(r.stdout).toMatch(/SEC-42 .*open.*https:\/\/jira\.example\.com\/browse\/SEC-42/);
    expect(r.stdout).toContain('(breached)');
    expect(r.stdout).toMatch(/splunk-prod .*failed\s+│ 5\s+│ connect ECONNREFUSED/);
    expect(r.stdout).toMatch(/jira-sec .*delivered\s+│ 2\s+│ -/);
  });

  it('violations get of an unknown id: error and exit 1', async () => {
    const r = await cli(['violations', 'get', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: not_found: no violation with event_id nope\n');
  });

  it('tickets list passes the filters (duration converted) and prints a table', async () => {
    const r = await cli(['tickets', 'list', '--status', 'open', '--severity', 'critical', '--since', '7d']);
    expect(r.code).toBe(0);
    expect(requestsTo('GET', '/v1/tickets')[0]!.query).toEqual({
      status: 'open',
      severity: 'critical',
      since: '2026-11-14T12:00:00.000Z',
      limit: '100',
    });
    expect(r.stdout).toMatch(/│ key\s+│ connector\s+│ status/);
    expect(r.stdout).toContain('SEC-42');
    expect(r.stdout).toContain('1 ticket');
  });

  it('deliveries list follows next_cursor up to --limit', async () => {
    const r = await cli(['deliveries', '--status', 'failed', '--limit', '6', '--json']);
    expect(r.code).toBe(0);
    const page = JSON.parse(r.stdout);
    expect(page.items).toHaveLength(6);
    expect(page.next_cursor).toBe('6');

    api.state.requests.length = 0;
    const table = await cli(['deliveries', 'list', '--status', 'failed', '--until', '1h']);
    expect(table.code).toBe(0);
    expect(requestsTo('GET', '/v1/deliveries')[0]!.query).toEqual({
      status: 'failed',
      until: '2026-11-21T11:00:00.000Z',
      limit: '100',
    });
    expect(table.stdout).toContain('7 deliveries');
    expect(table.stdout).not.toContain('more exist');
  });

  it('deliveries list asks page after page', async () => {
    const many = Array.from({ length: 3 }, () => makeDeliveries()).flat();
    api.state.deliveries = many.map((d, i) => ({ ...d, id: `d-${i}` }));
    const r = await cli(['--json', 'deliveries', 'list', '--limit', '600']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).items).toHaveLength(24);
    expect(JSON.parse(r.stdout).next_cursor).toBeNull();

    const small = api.state.deliveries.length;
    api.state.deliveries = Array.from({ length: 700 }, (_, i) => ({ ...many[0]!, id: `d-${i}` }));
    api.state.requests.length = 0;
    const big = await cli(['--json', 'deliveries', 'list', '--limit', '600']);
    expect(JSON.parse(big.stdout).items).toHaveLength(600);
    expect(requestsTo('GET', '/v1/deliveries').map((q) => q.query)).toEqual([
      { limit: '500' },
      { limit: '100', cursor: '500' },
    ]);
    expect(small).toBe(24);
  });

  it('connectors list shows the last test', async () => {
    const r = await cli(['connectors']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/jira-sec .*Jira SEC .*jira .*yes .*yes .*✓ 2026-11-20T09:00:00.000Z/);
    expect(r.stdout).toMatch(/splunk-prod .*never/);
  });

  it('connectors test: ok exits 0, a failed test exits 1', async () => {
    const ok = await cli(['connectors', 'test', 'jira-sec']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('✓ jira-sec: authenticated as bot@example.com');
    expect(requestsTo('POST', '/v1/connectors/jira-sec/test')).toHaveLength(1);

    const bad = await cli(['connectors', 'test', 'splunk-prod']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('✗ splunk-prod: HEC rejected the token');
    expect(bad.stdout).toMatch(/remote code:\s+invalid_token/);

    const json = await cli(['--json', 'connectors', 'test', 'splunk-prod']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, remote_code: 'invalid_token' });

    const unknown = await cli(['connectors', 'test', 'ghost']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: not_found: no connector ghost\n');
  });

  it('connectors reencrypt asks the API and exits 1 when some secrets cannot be decrypted', async () => {
    const ok = await cli(['connectors', 'reencrypt']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('sealed again under the current key: 1 (jira-sec); already current: 1');
    expect(requestsTo('POST', '/v1/connectors:reencrypt')).toHaveLength(1);

    api.state.unreadableSecrets = [
      { id: 'splunk-prod', reason: 'sealed with a key this process does not have' },
    ];
    try {
      const bad = await cli(['connectors', 'reencrypt']);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain('✗ splunk-prod: sealed with a key this process does not have');
    } finally {
      api.state.unreadableSecrets = [];
    }
  });

  it('rules dry-run prints each rule with ✓/✗ conditions, the decisions and the planned tickets', async () => {
    const file = join(dir, 'event.json');
    await writeFile(file, JSON.stringify(event({ severity: 'high' })));
    const r = await cli(['rules', 'dry-run', file]);
    expect(r.code).toBe(0);
    expect(requestsTo('POST', '/v1/rules/dry-run')[0]!.body).toEqual({ event: event({ severity: 'high' }) });
    expect(r.stdout).toContain('severity: high');
    expect(r.stdout).toContain('✗ #1 Critical to SEC [not_matched]');
    expect(r.stdout).toContain('    ✗ min_severity: min_severity critical: event is high ✗');
    expect(r.stdout).toContain('- #2 Old rule [disabled]');
    expect(r.stdout).toContain('No rule matched: default routing (auto_push connectors, from severity high)');
    expect(r.stdout).toMatch(/Jira SEC \(jira-sec\) │ ticket\s+│ default routing \(auto_push\)/);
    expect(r.stdout).toMatch(/Jira SEC \(jira-sec\) │ default routing │ high\s+│ SEC\s+│ -/);
    expect(r.stdout).toContain('SIEM deliveries: splunk-prod');

    const matched = await cli(['rules', 'dry-run', '-'], { stdin: JSON.stringify(event()) });
    expect(matched.stdout).toContain('✓ #1 Critical to SEC [matched]');
    expect(matched.stdout).toContain('    ✓ min_severity');
    expect(matched.stdout).toContain('    → jira-sec: claimed (Jira SEC: ticket)');
    expect(matched.stdout).toMatch(/│ rule Critical to SEC │ critical │ secops \/ SEC │ 4h\s+│/);
    expect(matched.stdout).not.toContain('No rule matched');

    const invalid = await cli(['rules', 'dry-run', '-'], { stdin: '{"summary":"x"}' });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('  - event.event_id: Required');
  });

  it('rules dry-run also reads camelCase explanations (ruleName, connectorId)', async () => {
    api.state.camelCaseDryRun = true;
    try {
      const r = await cli(['rules', 'dry-run', '-'], { stdin: JSON.stringify(event()) });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('✓ #1 Critical to SEC [matched]');
      expect(r.stdout).toContain('    → jira-sec: claimed (Jira SEC: ticket)');
      expect(r.stdout).not.toContain('Tickets that would be opened');
    } finally {
      api.state.camelCaseDryRun = false;
    }
  });
});

describe('operator commands', () => {
  it('deliveries get prints the delivery and its attempt log', async () => {
    const id = api.state.deliveries[0]!.id;
    const r = await cli(['deliveries', 'get', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Delivery ${id}`);
    expect(r.stdout).toMatch(/status:\s+failed/);
    expect(r.stdout).toMatch(/connector:\s+splunk-prod \(splunk\)/);
    expect(r.stdout).toContain('Attempts (5)');
    expect(r.stdout).toMatch(
      /│ 1\s+│ failed\s+│ 2026-11-20T10:10:00.000Z │ 250 ms\s+│ 503\s+│ 9\s+│ yes\s+│ HTTP 503: Server is busy \(code 9\)/,
    );
    expect(r.stdout).toContain(`replay it: escalate replay --event-id ${api.state.deliveries[0]!.event_id}`);
    const json = await cli(['--json', 'deliveries', 'get', id]);
    expect(JSON.parse(json.stdout).attempt_log).toHaveLength(5);
    const unknown = await cli(['deliveries', 'get', '00000000-0000-4000-8000-000000000999']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: not_found: no such delivery\n');
  });

  it('rules list prints the rules in order with their conditions and targets', async () => {
    const r = await cli(['rules', 'list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /│ 10\s+│ critical-to-sec │ Critical to SEC\s+│ yes\s+│ min_severity critical\s+│ jira-sec\s+│ no\s+│ api/,
    );
    expect(r.stdout).toMatch(/│ 20\s+│ coach\s+│ .*│ policy_actions coach\s+│ jira-sec\s+│ yes\s+│ config/);
    expect(r.stdout).toMatch(/│ 30\s+│ old-rule .*│ no\s+│ every event/);
    expect((await cli(['rules'])).stdout).toBe(r.stdout);
  });

  const rulesFile = async (yaml: string) => {
    const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, yaml);
    return file;
  };
  const RULES_YAML = [
    'rules:',
    '  - id: critical-to-sec',
    '    name: Critical to SEC',
    '    order: 5',
    '    when: { min_severity: critical }',
    '    then: { targets: [jira-sec], priority: high }',
    '  - id: coach',
    '    name: coaching resolves itself',
    '    order: 20',
    '    when: { policy_actions: [coach] }',
    '    then: { targets: [jira-sec], priority: low, auto_resolve_after: 24h }',
    '    stop: true',
    '  - id: exfil',
    '    name: exfiltration to the SOC',
    '    order: 1',
    '    when: { classifications: [CREDIT_CARD] }',
    '    then: { targets: [jira-sec], priority: critical }',
    '',
  ].join('\n');

  it('rules apply --dry-run prints the diff and changes nothing', async () => {
    const r = await cli(['rules', 'apply', '-f', await rulesFile(RULES_YAML), '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        '~ critical-to-sec: update order, then',
        '    order: 10 → 5',
        '    then: {"targets":["jira-sec"],"priority":"critical"} → {"targets":["jira-sec"],"priority":"high"}',
        '= coach: unchanged',
        '+ exfil: create "exfiltration to the SOC"',
        'dry run: 2 changes not applied',
        '',
      ].join('\n'),
    );
    expect(api.state.requests.map((q) => q.method)).toEqual(['GET']);
  });

  it('rules apply prints the diff, then creates and patches only what changed; --prune deletes API rules', async () => {
    const file = await rulesFile(RULES_YAML);
    const r = await cli(['rules', 'apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('+ exfil: create');
    expect(r.stdout).toContain('applied: 1 created, 1 updated, 0 deleted');
    const patch = requestsTo('PATCH', '/v1/rules/critical-to-sec')[0]!.body as Record<string, unknown>;
    expect(Object.keys(patch)).toEqual(['order', 'then']);
    expect(patch.order).toBe(5);
    expect(patch['then']).toEqual({ targets: ['jira-sec'], priority: 'high' });
    expect(requestsTo('POST', '/v1/rules')[0]!.body).toMatchObject({ id: 'exfil', order: 1 });
    expect(requestsTo('PATCH', '/v1/rules/coach')).toHaveLength(0);

    const again = await cli(['rules', 'apply', '-f', file]);
    expect(again.stdout).toContain('nothing to change');

    // old-rule (API) goes; coach is declared, and a config rule is never pruned anyway.
    const pruned = await cli(['rules', 'apply', '-f', file, '--prune']);
    expect(pruned.stdout).toContain('- old-rule: delete "Old rule" (not in the file; --prune)');
    expect(pruned.stdout).toContain('applied: 0 created, 0 updated, 1 deleted');
    expect(api.state.rules.map((x) => x.id).sort()).toEqual(['coach', 'critical-to-sec', 'exfil']);
  });

  it('rules apply notes a change to a rule declared in ESCALATE_CONFIG', async () => {
    const yaml = RULES_YAML.replace('auto_resolve_after: 24h', 'auto_resolve_after: 48h');
    const r = await cli(['rules', 'apply', '-f', await rulesFile(yaml), '--dry-run']);
    expect(r.stdout).toContain(
      '~ coach: update then (declared in ESCALATE_CONFIG: the next start of escalate restores it)',
    );
  });

  it('rules apply refuses an invalid file before calling the API, naming every problem', async () => {
    const bad = await rulesFile(
      [
        '- name: no id',
        '  then: { targets: [x] }',
        '- id: Bad Id',
        '  name: x',
        '  when: { min_severity: huge }',
        '  then: { targets: [] }',
      ].join('\n'),
    );
    const r = await cli(['rules', 'apply', '-f', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is invalid:');
    expect(r.stderr).toContain('  - rules[0].id: id is required');
    expect(r.stderr).toMatch(/ {2}- rules\[1\]\.id: ids are lower-case/);
    expect(r.stderr).toMatch(/ {2}- rules\[1\]\.when\.min_severity: /);
    expect(api.state.requests).toHaveLength(0);
  });

  it('connectors create -f reads YAML, expands $VAR references from the environment and prints the masked result', async () => {
    const file = join(dir, 'jira-sec.yaml');
    await writeFile(
      file,
      [
        'id: jira-new',
        'name: Jira new',
        'kind: jira',
        'config:',
        '  base_url: https://acme.atlassian.net',
        '  email: bot@acme.com',
        `  api_token: "\${JIRA_TOKEN}"`,
        '  project_key: SEC',
      ].join('\n'),
    );
    const env = { ESCALATE_URL: api.url, ESCALATE_API_KEY: API_KEY, JIRA_TOKEN: 's3cret' };
    const r = await cli(['connectors', 'create', '-f', file], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(api.state.createdConnectors[0]).toMatchObject({ id: 'jira-new', config: { api_token: 's3cret' } });
    expect(r.stdout).toContain('created jira-new (jira, "Jira new")');
    expect(r.stdout).toMatch(/api_token:\s+\*{8}/);
    expect(r.stdout).not.toContain('s3cret');
    expect(r.stdout).toContain('next: escalate connectors check jira-new');

    const missing = await cli(['connectors', 'create', '-f', file]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `error: ${file} config.api_token: environment variable JIRA_TOKEN is not set\n`,
    );
    expect(api.state.createdConnectors).toHaveLength(1);

    const invalid = await cli(['connectors', 'create', '-f', '-'], { stdin: '{"name": "x"}' });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('error: validation_failed: invalid request: kind, name');
  });

  it('connectors check prints each step; exit 1 when one fails', async () => {
    const ok = await cli(['connectors', 'check', 'jira-sec']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(
      [
        '✓ jira-sec: every check passed',
        '    ✓ authenticate: authenticated as escalate bot (bot@example.com)',
        '    ✓ permissions: in SEC: BROWSE_PROJECTS, CREATE_ISSUES',
        '',
      ].join('\n'),
    );
    const both = await cli(['connectors', 'check', 'jira-sec', 'splunk-prod']);
    expect(both.code).toBe(1);
    expect(both.stdout).toContain('✗ splunk-prod: some checks failed');
    expect(both.stdout).toContain('    ✗ authenticate: HTTP 403: Invalid token (code 4)');
    const json = await cli(['--json', 'connectors', 'check', 'splunk-prod']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, connector_id: 'splunk-prod' });
    expect(requestsTo('POST', '/v1/connectors/splunk-prod/check')).toHaveLength(2);
  });
});

/** Every command of the program, as the words that reach it (`['rules', 'apply']`). */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

describe('help', () => {
  const paths = [[], ...commandPaths(buildProgram(processIO(), () => {}))];

  it('covers the operator commands', () => {
    expect(paths).toEqual(
      expect.arrayContaining([
        ['deliveries', 'get'],
        ['rules', 'list'],
        ['rules', 'apply'],
        ['connectors', 'create'],
        ['connectors', 'check'],
      ]),
    );
  });

  it.each(paths.map((words) => [words]))('escalate %j --help shows usage and examples', async (words) => {
    const r = await cli([...words, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: escalate${words.length ? ` ${words.join(' ')}` : ''}`);
    expect(r.stdout).toContain('Examples:');
    expect(api.state.requests).toHaveLength(0);
  });

  it('an unknown command fails with a suggestion', async () => {
    const r = await cli(['replya']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown command 'replya'[\s\S]*Did you mean replay\?/);
  });
});
