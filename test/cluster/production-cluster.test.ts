/**
 * The production path on a real Temporal cluster (test/cluster/global-setup.ts: the server built
 * from source, PostgreSQL persistence and visibility, 4 history shards, the `escalate` namespace
 * and search attributes set up by deploy/temporal/*.sh): `npm run start:api` and two
 * `npm run start:worker` processes, payload encryption on, violations posted, one worker killed
 * with SIGKILL mid-run. Every violation completes with exactly one ticket, and a visibility query
 * by EscalateSeverity finds them.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { ticketIdempotencyKey } from '../../connectors/idempotency.js';
import { connectDatabase, type Database } from '../../db/client.js';
import { freePort } from '../../infra/ports.js';
import { SecretBox } from '../../infra/secret-box.js';
import { SEARCH_ATTRIBUTES } from '../../infra/temporal-dev-server.js';
import { violationWorkflowId } from '../../workflows/contract.js';
import { violationWorkflowV2 } from '../../workflows/violation.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { apiCaller, postViolations, tally, waitUntilSettled } from '../helpers/crash-kit.js';
import { eventually, makeEvent } from '../helpers/events.js';
import { runNpmScript, type ScriptProcess } from '../helpers/npm-script.js';
import { alertMetricNames } from '../helpers/prometheus-rules.js';

const KEY = 'cluster-admin-key-0123456789';
const PAYLOAD_KEY = randomUUID().replace(/-/g, '').repeat(2);
const CRITICAL = 40;
const HIGH = 5;
const CONNECTOR = 'jira-cluster';
/** Its own task queue: other files share the cluster and the namespace. */
const TASK_QUEUE = `cluster-${randomUUID()}`;

let dir: string;
let jira: FakeJira;
let database: Database;
let api: ScriptProcess;
const workers: ScriptProcess[] = [];
const workerMetricsPorts: number[] = [];
let apiUrl: string;
const critical = Array.from({ length: CRITICAL }, () => makeEvent({ severity: 'critical' }));
const high = Array.from({ length: HIGH }, () => makeEvent({ severity: 'high' }));
const seen = { ticketsAtKill: 0, killed: null as NodeJS.Signals | null, states: new Map<string, string>() };

async function createDatabase(name: string): Promise<string> {
  const admin = postgres(`${inject('clusterPgUrlBase')}postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  return `${inject('clusterPgUrlBase')}${name}`;
}

/** A client as an operator's tooling would have it: with or without the payload key. */
async function clusterClient(withKey: boolean): Promise<Client> {
  const { payloadCodecFromEnv, payloadDataConverter } = await import('../../infra/payload-codec.js');
  const connection = await Connection.connect({ address: inject('clusterAddress') });
  const codec = withKey ? payloadCodecFromEnv({ ESCALATE_PAYLOAD_KEY: PAYLOAD_KEY }) : undefined;
  return new Client({
    connection,
    namespace: inject('clusterNamespace'),
    dataConverter: payloadDataConverter(codec),
  });
}

/** `promise`, failing with the process's output appended. */
const withOutput = <T>(p: ScriptProcess, promise: Promise<T>) =>
  promise.catch((err: Error) => {
    throw new Error(`${err.message}\n${p.output()}`);
  });

const workerLogRunning = (p: ScriptProcess) => p.logLines().some((l) => l.msg === 'worker running');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'escalate-cluster-test-'));
  jira = await startFakeJira();
  // Each create waits 100 ms: work is in flight on both workers when one is killed.
  for (let i = 0; i < 3 * CRITICAL; i++) jira.faults.delay(100, '/rest/api/3/issue');
  const config = join(dir, 'escalate.yaml');
  writeFileSync(
    config,
    [
      'connectors:',
      `  - id: ${CONNECTOR}`,
      '    name: Jira (cluster test)',
      '    kind: jira',
      `    config: { base_url: "${jira.url}", api: cloud, email: bot@example.com, api_token: "\${JIRA_TOKEN}", project_key: SEC, issue_type: Task, timeout: 3s }`,
      '    retry: { maximum_attempts: 8, initial_interval: 200ms, backoff_coefficient: 2, maximum_interval: 2s }',
      '',
    ].join('\n'),
  );
  const databaseUrl = await createDatabase(`escalate_${randomUUID().slice(0, 8)}`);
  database = connectDatabase(databaseUrl, { max: 4 });
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: inject('clusterAddress'),
    TEMPORAL_NAMESPACE: inject('clusterNamespace'),
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    ESCALATE_SECRET_KEY: SecretBox.generateKey(),
    ESCALATE_PAYLOAD_KEY: PAYLOAD_KEY,
    ESCALATE_API_KEYS: `${KEY}:admin`,
    ESCALATE_CONFIG: config,
    JIRA_TOKEN: 'cloud-token', // what the fake Jira accepts
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };
  api = runNpmScript('start:api', { ...env, PORT: String(port) });
  for (let i = 0; i < 2; i++) {
    const metricsPort = await freePort();
    workerMetricsPorts.push(metricsPort);
    workers.push(runNpmScript('start:worker', { ...env, ESCALATE_WORKER_METRICS_PORT: String(metricsPort) }));
  }
  await withOutput(
    api,
    eventually(async () => (await fetch(`${apiUrl}/readyz`)).status === 200, 120_000, 'the API to be ready'),
  );
  for (const w of workers)
    await withOutput(
      w,
      eventually(async () => workerLogRunning(w), 180_000, 'a worker to run'),
    );

  // Half the critical violations, then kill one worker once some tickets exist and the rest are
  // queued or in flight; then the other half, with one worker left.
  const call = apiCaller(apiUrl, KEY);
  const firstHalf = postViolations(call, [...critical.slice(0, CRITICAL / 2), ...high], 8);
  await eventually(async () => jira.issues.size >= 5, 120_000, 'the first tickets');
  seen.ticketsAtKill = jira.issues.size;
  workers[0]!.kill('SIGKILL');
  seen.killed = (await workers[0]!.exited).signal;
  const posted = [...(await firstHalf), ...(await postViolations(call, critical.slice(CRITICAL / 2), 8))];
  expect(tally(posted.map((p) => p.status))).toEqual({ 202: CRITICAL + HIGH });
  seen.states = await waitUntilSettled(
    database,
    [...critical, ...high].map((e) => e.event_id as string),
    { timeoutMs: 240_000, label: 'cluster' },
  );
}, 600_000);

afterAll(async () => {
  for (const p of [api, ...workers]) p?.kill('SIGKILL');
  await database?.close();
  await jira?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a real Temporal cluster set up by deploy/temporal/*.sh', () => {
  it('is the built server with PostgreSQL persistence and visibility, several shards, our namespace and search attributes', async () => {
    const client = await clusterClient(false);
    try {
      const service = client.connection.workflowService;
      const info = await service.getClusterInfo({});
      expect(info.serverVersion).toBe('1.31.2');
      expect(info.historyShardCount).toBe(inject('clusterShards'));
      expect(info.historyShardCount).toBeGreaterThan(1);
      expect(info.persistenceStore).toBe('postgres12');
      expect(info.visibilityStore).toBe('postgres12');
      const ns = await service.describeNamespace({ namespace: inject('clusterNamespace') });
      expect(ns.namespaceInfo?.name).toBe('escalate');
      const attrs = await client.connection.operatorService.listSearchAttributes({
        namespace: inject('clusterNamespace'),
      });
      const types = Object.fromEntries(
        Object.entries(attrs.customAttributes ?? {}).map(([name, t]) => [name, Number(t)]),
      );
      // IndexedValueType: 2 = KEYWORD, 7 = KEYWORD_LIST.
      const expected = { Keyword: 2, KeywordList: 7 } as const;
      for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES))
        expect(types[name], name).toBe(expected[type]);
      expect(inject('clusterSetupOutput')).toContain(
        'database temporal_visibility: visibility schema up to date',
      );
    } finally {
      await client.connection.close();
    }
  });
});

describe('start:api + two start:worker processes, one SIGKILLed mid-run', () => {
  it('killed a worker while violations were in flight', () => {
    expect(seen.killed).toBe('SIGKILL');
    expect(seen.ticketsAtKill).toBeLessThan(CRITICAL);
  });

  it('completes every violation', () => {
    const states = [...critical, ...high].map((e) => seen.states.get(e.event_id as string));
    expect(tally(states)).toEqual({ completed: CRITICAL + HIGH });
  });

  it('opens exactly one Jira issue per critical violation, none for the high ones', () => {
    const creates = critical.map(
      (e) => jira.createsByLabel.get(ticketIdempotencyKey(CONNECTOR, e.event_id as string)) ?? 0,
    );
    expect(tally(creates)).toEqual({ 1: CRITICAL });
    expect(jira.issues.size).toBe(CRITICAL);
  });

  it('finds them through a visibility query by EscalateSeverity', async () => {
    const client = await clusterClient(false);
    try {
      const ids = async (severity: string) => {
        const found: string[] = [];
        for await (const wf of client.workflow.list({
          query: `TaskQueue = "${TASK_QUEUE}" AND WorkflowType = "${violationWorkflowV2.name}" AND EscalateSeverity = "${severity}" AND ExecutionStatus = "Completed"`,
        }))
          found.push(wf.workflowId);
        return found.sort();
      };
      const expected = (events: Record<string, unknown>[]) =>
        events.map((e) => violationWorkflowId(e.event_id as string)).sort();
      // Visibility is written asynchronously (its own database): poll until it caught up.
      await eventually(async () => (await ids('critical')).length === CRITICAL, 60_000, 'visibility');
      expect(await ids('critical')).toEqual(expected(critical));
      expect(await ids('high')).toEqual(expected(high));
    } finally {
      await client.connection.close();
    }
  });

  it("keeps payloads encrypted in the cluster's history; the key's holder reads them", async () => {
    const [raw, keyed] = await Promise.all([clusterClient(false), clusterClient(true)]);
    try {
      const event = critical[0]!;
      const workflowId = violationWorkflowId(event.event_id as string);
      const history = await raw.workflow.getHandle(workflowId).fetchHistory();
      const bytes = JSON.stringify(history);
      expect(bytes).not.toContain(event.user_email as string);
      expect(bytes).not.toContain(event.summary as string);
      expect(bytes).toContain(Buffer.from('binary/encrypted').toString('base64'));
      const description = await keyed.workflow.getHandle(workflowId).describe();
      expect(await description.staticSummary()).toMatch(/^critical policy_violation/);
      const started = await keyed.workflow.getHandle(workflowId).fetchHistory();
      expect(started.events?.length).toBeGreaterThan(0);
    } finally {
      await Promise.all([raw.connection.close(), keyed.connection.close()]);
    }
  });

  it('serves /healthz and /metrics on the surviving worker, with the names the alert rules use', async () => {
    const worker = `http://127.0.0.1:${workerMetricsPorts[1]}`;
    const health = await fetch(`${worker}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'running' });
    const scraped = [
      await (await fetch(`${worker}/metrics`)).text(),
      await (await fetch(`${apiUrl}/metrics`)).text(),
    ].join('\n');
    expect(scraped).toContain('escalate_deliveries_total{');
    expect(scraped).toContain('temporal_workflow_task_schedule_to_start_latency');
    const rules = parse(readFileSync(new URL('../../deploy/prometheus/alerts.yml', import.meta.url), 'utf8'));
    for (const name of alertMetricNames(rules)) {
      if (name === 'up') continue; // Prometheus's own, per scrape target
      expect(scraped, `metric ${name} of deploy/prometheus/alerts.yml`).toMatch(
        new RegExp(`^(# TYPE )?${name}[ {]`, 'm'),
      );
    }
  });

  it('stops the API and the surviving worker on SIGTERM', async () => {
    api.kill('SIGTERM');
    workers[1]!.kill('SIGTERM');
    await Promise.all([api.exited, workers[1]!.exited]);
    expect(workers[1]!.output()).not.toContain('cloud-token');
  });
});
