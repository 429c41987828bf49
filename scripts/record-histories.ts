/**
 * Records the Temporal histories that `test/e2e/replay-histories.test.ts` replays (the
 * determinism guard): representative runs of every workflow, driven through the real API against
 * a throw-away stack, saved as `test/histories/<name>.json`.
 *
 *   npx tsx scripts/record-histories.ts            # record every scenario
 *   npx tsx scripts/record-histories.ts happy-path # only the named ones (see SCENARIOS below)
 *
 * It starts what the test suite starts (test/global-setup.ts): a headless Temporal dev server
 * (with `limit.historyCount.suggestContinueAsNew=200`) and an embedded PostgreSQL in a temp dir,
 * migrations, the workflow bundle, a worker, the API on a free port, and the fakes from
 * test/fakes/ (Jira, Splunk, Slack, Teams). Nothing outside the temp dir is touched but
 * test/histories/.
 *
 * When to re-record: after an INTENDED change of a workflow's command sequence (new activity,
 * timer, reordering…), once the change is guarded for running workflows (`patched()` or a new
 * workflow type / worker versioning). Keep the old files while runs recorded by the old code may
 * still be open: the replay test then proves the new code still replays them. Add a new scenario
 * here (and record it) when a workflow gains a new path worth guarding.
 *
 * File format: `{ name, description, workflowType, workflowId, runId, recordedAt, history }`,
 * where `history` is the standard JSON history (`historyToJSON`, the format of
 * `temporal workflow show --output json`), which `Worker.runReplayHistories` accepts as is.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parseApiKeys } from '../api/api-keys.js';
import { defaultSettings } from '../domain/settings.js';
import { startEmbeddedPostgres } from '../infra/embedded-postgres.js';
import { createLogger } from '../infra/logger.js';
import { payloadCodecFromEnv } from '../infra/payload-codec.js';
import { freePort } from '../infra/ports.js';
import { SecretBox } from '../infra/secret-box.js';
import { resolveTemporalCli } from '../infra/temporal-cli.js';
import { startDevServer } from '../infra/temporal-dev-server.js';
import { startServices } from '../services.js';
import { startFakeJira } from '../test/fakes/jira.js';
import { startFakeSlack } from '../test/fakes/slack.js';
import { startFakeSplunk } from '../test/fakes/splunk.js';
import { startFakeTeams } from '../test/fakes/teams.js';
import { eventually, FAST_RETRY, jiraConnector, makeEvent } from '../test/helpers/events.js';
import { sign } from '../test/helpers/webhooks.js';
import { bundleWorkflows } from '../worker.js';
import { ticketWorkflowId, violationWorkflowId } from '../workflows/contract.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT_DIR = resolve(ROOT, 'test/histories');
const ADMIN_KEY = 'record-admin-key-0123456789';
const WEBHOOK_SECRET = 'record-webhook-secret';
const HEC_TOKEN = 'hec-token';
const say = (m: string) => process.stderr.write(`[record-histories] ${m}\n`);

/** Whatever has started so far, stopped in reverse order at the end (or on failure). */
const stops: (() => Promise<unknown>)[] = [];

interface Recorded {
  name: string;
  description: string;
  workflowId: string;
  /** A specific run (e.g. the first run of a continued-as-new chain); default: the latest. */
  runId?: string;
}

interface Ctx {
  api(
    path: string,
    init?: { method?: string; json?: unknown; body?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  client: Client;
  jira: Awaited<ReturnType<typeof startFakeJira>>;
  splunk: Awaited<ReturnType<typeof startFakeSplunk>>;
  slack: Awaited<ReturnType<typeof startFakeSlack>>;
  teams: Awaited<ReturnType<typeof startFakeTeams>>;
  connectors: { jira: string; splunk: string };
}

type View = {
  status: string;
  tickets: { id: string; external_id: string | null; connector_id: string }[];
  deliveries: { id: string; connector_id: string; status: string; attempts: number }[];
};

async function json<T>(res: Response, expected: number[] = [200, 201, 202]): Promise<T> {
  const text = await res.text();
  if (!expected.includes(res.status)) throw new Error(`${res.url}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function postViolation(ctx: Ctx, event: Record<string, unknown>): Promise<string> {
  await json(await ctx.api('/v1/violations', { method: 'POST', json: event }), [202]);
  return event.event_id as string;
}

/** Waits for the violation workflow to end and returns the violation as the API shows it. */
async function finished(ctx: Ctx, eventId: string): Promise<View> {
  await ctx.client.workflow.getHandle(violationWorkflowId(eventId)).result();
  return json<View>(await ctx.api(`/v1/violations/${eventId}`));
}

async function workflowCompleted(ctx: Ctx, workflowId: string, runId?: string): Promise<void> {
  await eventually(
    async () =>
      (await ctx.client.workflow.getHandle(workflowId, runId).describe()).status.name === 'COMPLETED',
    60_000,
    `${workflowId} to complete`,
  );
}

async function ticketOf(ctx: Ctx, eventId: string) {
  const v = await finished(ctx, eventId);
  const t = v.tickets.find((x) => x.connector_id === ctx.connectors.jira && x.external_id);
  if (!t) throw new Error(`violation ${eventId} has no Jira ticket: ${JSON.stringify(v)}`);
  return { id: t.id, externalId: t.external_id!, workflowId: ticketWorkflowId(t.id) };
}

async function setStatus(ctx: Ctx, ticketId: string, status: string, note?: string) {
  const body = await json<{ result: string }>(
    await ctx.api(`/v1/tickets/${ticketId}/status`, { method: 'POST', json: { status, note } }),
  );
  if (body.result !== 'applied') throw new Error(`status ${status}: ${JSON.stringify(body)}`);
}

/** Resolves then closes a ticket from our side, so its workflow ends and its history is whole. */
async function closeTicket(ctx: Ctx, ticket: { id: string; workflowId: string }) {
  await setStatus(ctx, ticket.id, 'resolved', 'recorded scenario done');
  await setStatus(ctx, ticket.id, 'closed');
  await workflowCompleted(ctx, ticket.workflowId);
}

const SCENARIOS: Record<string, (ctx: Ctx) => Promise<Recorded[]>> = {
  /** A critical violation: one Jira issue, one Splunk event, ticket workflow started. */
  async 'happy-path'(ctx) {
    const eventId = await postViolation(ctx, makeEvent());
    const v = await finished(ctx, eventId);
    if (v.status !== 'completed' || v.deliveries.length !== 2) throw new Error(JSON.stringify(v));
    return [
      {
        name: 'happy-path',
        description: 'critical violation → Jira issue created + Splunk event delivered',
        workflowId: violationWorkflowId(eventId),
      },
    ];
  },

  /** Jira answers 503 twice: the activity retries under the connector's policy, one ticket. */
  async retries(ctx) {
    ctx.jira.faults.status(503, { path: '/rest/api/3/issue' }).status(503, { path: '/rest/api/3/issue' });
    const eventId = await postViolation(ctx, makeEvent());
    const v = await finished(ctx, eventId);
    const jira = v.deliveries.find((d) => d.connector_id === ctx.connectors.jira);
    if (v.status !== 'completed' || jira?.attempts !== 3) throw new Error(JSON.stringify(v));
    return [
      {
        name: 'retries',
        description: 'Jira create answers 503 twice, then succeeds on the third attempt',
        workflowId: violationWorkflowId(eventId),
      },
    ];
  },

  /** Same user and policy twice: the second joins the first's ticket as a recurrence. */
  async recurrence(ctx) {
    const shared = {
      user_email: `recur+${randomUUID().slice(0, 8)}@example.com`,
      policy: { id: 'pol-exfil', name: 'Exfiltration', action: 'block' },
    };
    const first = await postViolation(ctx, makeEvent(shared));
    const ticket = await ticketOf(ctx, first);
    const second = await postViolation(ctx, makeEvent(shared));
    const v = await finished(ctx, second);
    if (!v.tickets.some((t) => t.id === ticket.id)) throw new Error(`no recurrence: ${JSON.stringify(v)}`);
    await eventually(
      async () => (ctx.jira.issues.get(ticket.externalId)?.comments.length ?? 0) >= 1,
      30_000,
      'recurrence comment in Jira',
    );
    await closeTicket(ctx, ticket);
    return [
      {
        name: 'recurrence-violation',
        description: 'second violation with the same correlation key: claims recurrence, signals the ticket',
        workflowId: violationWorkflowId(second),
      },
      {
        name: 'recurrence-ticket',
        description: 'ticket workflow receiving a recurrence signal (Jira comment), then resolved and closed',
        workflowId: ticket.workflowId,
      },
    ];
  },

  /** setStatus Updates from the signed ITSM webhook and from the API, until closed. */
  async 'webhook-updates'(ctx) {
    const ticket = await ticketOf(ctx, await postViolation(ctx, makeEvent()));
    const body = JSON.stringify({ external_ticket_id: ticket.externalId, status: 'in_progress' });
    // The signature covers "<timestamp>.<body>" (a webhook without its timestamp is refused).
    const ts = String(Math.floor(Date.now() / 1000));
    const hook = await json<{ result: string }>(
      await ctx.api('/v1/webhooks/itsm', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-escalate-timestamp': ts,
          'x-escalate-signature': sign(WEBHOOK_SECRET, `${ts}.${body}`),
        },
        body,
      }),
    );
    if (hook.result !== 'applied') throw new Error(`webhook: ${JSON.stringify(hook)}`);
    await setStatus(ctx, ticket.id, 'resolved', 'token limit raised for the team');
    await eventually(
      async () => ctx.jira.issues.get(ticket.externalId)?.status.category === 'done',
      30_000,
      'resolution pushed to Jira',
    );
    await setStatus(ctx, ticket.id, 'closed');
    await workflowCompleted(ctx, ticket.workflowId);
    return [
      {
        name: 'webhook-updates',
        description:
          'ticket workflow: setStatus Update from the ITSM webhook (in_progress, not echoed), then resolved and closed from the API (pushed to Jira)',
        workflowId: ticket.workflowId,
      },
    ];
  },

  /** Enough comments for the server to suggest continue-as-new (history limit 200). */
  async 'continue-as-new'(ctx) {
    const ticket = await ticketOf(ctx, await postViolation(ctx, makeEvent()));
    const handle = ctx.client.workflow.getHandle(ticket.workflowId);
    const firstRun = (await handle.describe()).runId;
    // Small batches, each drained before the next: the run continues as new soon after the
    // server's suggestion (history ≈ 200 events) instead of growing while signals pile up.
    let sent = 0;
    while ((await handle.describe()).runId === firstRun) {
      if (sent >= 100) throw new Error('no continue-as-new after 100 comments');
      for (let i = 0; i < 5; i++, sent++) {
        await json(
          await ctx.api(`/v1/tickets/${ticket.id}/comments`, {
            method: 'POST',
            json: { text: `note ${sent}` },
          }),
        );
      }
      await eventually(
        async () => (ctx.jira.issues.get(ticket.externalId)?.comments.length ?? 0) >= sent,
        30_000,
        'comments delivered',
      );
      await eventually(
        async () => {
          const d = await handle.describe();
          return d.runId !== firstRun || d.raw.pendingActivities?.length === 0 ? true : undefined;
        },
        30_000,
        'comments drained',
      );
    }
    await closeTicket(ctx, ticket);
    return [
      {
        name: 'continue-as-new',
        description: 'first run of a ticket workflow that continued as new after many comment signals',
        workflowId: ticket.workflowId,
        runId: firstRun,
      },
    ];
  },

  /** A Splunk delivery that failed for good, replayed through deliveryWorkflow. */
  async 'delivery-replay'(ctx) {
    ctx.splunk.faults.status(400, {
      path: '/services/collector',
      body: { text: 'Invalid data format', code: 6 },
    });
    const eventId = await postViolation(ctx, makeEvent({ severity: 'high' }));
    const v = await finished(ctx, eventId);
    const delivery = v.deliveries.find((d) => d.connector_id === ctx.connectors.splunk);
    if (delivery?.status !== 'failed') throw new Error(`expected a failed delivery: ${JSON.stringify(v)}`);
    const replay = await json<{ workflow_id: string }>(
      await ctx.api(`/v1/deliveries/${delivery.id}/replay`, { method: 'POST' }),
    );
    await ctx.client.workflow.getHandle(replay.workflow_id).result();
    return [
      {
        name: 'delivery-failed',
        description: 'violation whose only target (Splunk) fails for good with HEC code 6',
        workflowId: violationWorkflowId(eventId),
      },
      {
        name: 'delivery-replay',
        description: 'replay of that failed Splunk delivery: same delivery row, delivered',
        workflowId: replay.workflow_id,
      },
    ];
  },

  /** Two failed Splunk deliveries replayed in bulk: replayWorkflow with deliveryWorkflow children. */
  async 'bulk-replay'(ctx) {
    const eventIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      ctx.splunk.faults.status(400, {
        path: '/services/collector',
        body: { text: 'Invalid data format', code: 6 },
      });
      const eventId = await postViolation(ctx, makeEvent({ severity: 'high' }));
      const v = await finished(ctx, eventId);
      if (v.deliveries[0]?.status !== 'failed')
        throw new Error(`expected a failed delivery: ${JSON.stringify(v)}`);
      eventIds.push(eventId);
    }
    const started = await json<{ workflow_id: string; total: number }>(
      await ctx.api('/v1/deliveries:replay', {
        method: 'POST',
        json: { filter: { status: 'failed', connector_id: ctx.connectors.splunk, event_ids: eventIds } },
      }),
    );
    if (started.total !== 2) throw new Error(`bulk replay selected ${started.total} deliveries`);
    await ctx.client.workflow.getHandle(started.workflow_id).result();
    return [
      {
        name: 'bulk-replay',
        description: 'bulk replay of two failed Splunk deliveries: one deliveryWorkflow child each',
        workflowId: started.workflow_id,
      },
    ];
  },

  /**
   * Slack (bot) and Teams told by the workflows: the ticket opened, its SLA breach in the thread,
   * three recurrences in one summary, its status changes; a Jira failure told (Teams refusing the
   * notice: told to nobody); that Teams notice replayed. The connectors and the rule live only
   * in this scenario, so the others record as before.
   */
  async notifications(ctx) {
    const create = async (path: string, body: unknown) =>
      json<{ id: string }>(await ctx.api(path, { method: 'POST', json: body }), [201]);
    await create('/v1/connectors', {
      id: 'slack-bot',
      name: 'slack-bot',
      kind: 'slack',
      config: { bot_token: ctx.slack.botToken, channel: ctx.slack.channel, api_url: ctx.slack.apiUrl },
      notify_on: ['ticket_created', 'recurrence', 'status_changed', 'sla_breached', 'delivery_failed'],
      retry: FAST_RETRY,
    });
    await create('/v1/connectors', {
      id: 'teams',
      name: 'teams',
      kind: 'teams',
      config: { webhook_url: ctx.teams.webhookUrl },
      retry: FAST_RETRY,
    });
    await create('/v1/rules', {
      id: 'record-fast-sla',
      name: 'record: fast SLA',
      when: { tags: { sla: 'fast' } },
      // biome-ignore lint/suspicious/noThenProperty: a rule's field is named `then`; plain data.
      then: { targets: [ctx.connectors.jira], sla: '1s' },
    });
    const shared = {
      user_email: `notify+${randomUUID().slice(0, 8)}@example.com`,
      tags: { sla: 'fast' },
      policy: { id: 'pol-notify', name: 'Notify', action: 'block' },
    };
    const first = await postViolation(ctx, makeEvent(shared));
    const ticket = await ticketOf(ctx, first);
    const root = await eventually(
      async () => ctx.slack.posted.find((m) => m.via === 'api' && JSON.stringify(m.raw).includes(first)),
      30_000,
      'the ticket_created message',
    );
    await eventually(
      async () =>
        ctx.slack.posted.some(
          (m) => m.thread_ts === root.ts && JSON.stringify(m.raw).includes('SLA breached'),
        ),
      30_000,
      'the SLA breach in the thread',
    );
    for (let i = 0; i < 3; i++) await finished(ctx, await postViolation(ctx, makeEvent(shared)));
    await eventually(
      async () =>
        ctx.slack.posted.some(
          (m) => m.thread_ts === root.ts && JSON.stringify(m.raw).includes('3 recurrences'),
        ),
      30_000,
      'the recurrence summary',
    );
    await closeTicket(ctx, ticket);

    ctx.jira.faults.status(400, {
      path: '/rest/api/3/issue',
      body: { errorMessages: ['refused'], errors: {} },
    });
    ctx.teams.faults.status(400, { body: { error: { code: 'InvalidAdaptiveCard', message: 'refused' } } });
    const failedId = await postViolation(ctx, makeEvent());
    await finished(ctx, failedId);
    const teamsNotice = await eventually(
      async () => {
        const page = await json<{ items: { id: string; connector_id: string; status: string }[] }>(
          await ctx.api(`/v1/deliveries?event_id=${failedId}&purpose=notify`),
        );
        return page.items.find((d) => d.connector_id === 'teams' && d.status === 'failed');
      },
      30_000,
      'the failed Teams notice',
    );
    const replay = await json<{ workflow_id: string }>(
      await ctx.api(`/v1/deliveries/${teamsNotice.id}/replay`, { method: 'POST' }),
    );
    await ctx.client.workflow.getHandle(replay.workflow_id).result();

    for (const path of ['/v1/rules/record-fast-sla', '/v1/connectors/slack-bot', '/v1/connectors/teams']) {
      const res = await ctx.api(path, { method: 'DELETE' });
      if (res.status !== 204) throw new Error(`DELETE ${path}: HTTP ${res.status}`);
    }
    return [
      {
        name: 'notifications-violation',
        description: 'violation whose Jira ticket is told to Slack (bot) and Teams (ticket_created)',
        workflowId: violationWorkflowId(first),
      },
      {
        name: 'notifications-ticket',
        description:
          'ticket workflow telling its SLA breach, a summary of three recurrences and its status changes, then closed',
        workflowId: ticket.workflowId,
      },
      {
        name: 'notifications-delivery-failed',
        description:
          'Jira refuses the ticket: delivery_failed told to Slack and Teams; the Teams notice fails, told to nobody',
        workflowId: violationWorkflowId(failedId),
      },
      {
        name: 'notifications-replay',
        description: 'replay of the failed Teams notice through deliveryWorkflow: delivered',
        workflowId: replay.workflow_id,
      },
    ];
  },

  /** An admin's "test connection" through connectorActionWorkflow. */
  async 'connector-test'(ctx) {
    const verdict = await json<{ ok: boolean }>(
      await ctx.api(`/v1/connectors/${ctx.connectors.splunk}/test`, { method: 'POST' }),
    );
    if (!verdict.ok) throw new Error(`test connection: ${JSON.stringify(verdict)}`);
    const workflowId = await eventually(
      async () => {
        const query = `WorkflowId STARTS_WITH "connector-test-${ctx.connectors.splunk}-"`;
        for await (const wf of ctx.client.workflow.list({ query })) return wf.workflowId;
        return undefined;
      },
      30_000,
      'connector action workflow in visibility',
    );
    await workflowCompleted(ctx, workflowId);
    return [
      {
        name: 'connector-test',
        description: 'test connection of the Splunk connector (one activity, one attempt)',
        workflowId,
      },
    ];
  },
};

async function main() {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((n) => !(n in SCENARIOS));
  if (unknown.length)
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const names = wanted.length ? wanted : Object.keys(SCENARIOS);

  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const tmp = mkdtempSync(join(tmpdir(), 'escalate-record-'));
  stops.push(async () => rmSync(tmp, { recursive: true, force: true }));
  // embedded-postgres runs initdb as an unprivileged user when we are root: it must reach its dir.
  chmodSync(tmp, 0o755);
  const cli = resolveTemporalCli({ root: ROOT, log: say });
  if (!cli) throw new Error('no Temporal CLI (see infra/temporal-cli.ts)');

  say('starting Temporal dev server, PostgreSQL and the workflow bundle');
  const [temporalPort, pgPort] = [await freePort(), await freePort()];
  const [temporal, pg, bundle] = await Promise.all([
    startDevServer({
      cli,
      port: temporalPort,
      headless: true,
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 200 },
    }).then((s) => {
      stops.push(() => s.stop());
      return s;
    }),
    startEmbeddedPostgres({ dataDir: join(tmp, 'pg'), port: pgPort, persistent: false }).then((p) => {
      stops.push(() => p.stop());
      return p;
    }),
    bundleWorkflows(),
  ]);
  await pg.createDatabase('escalate');
  const services = await startServices({
    logger: createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
    databaseUrl: pg.url('escalate'),
    temporal: {
      address: temporal.address,
      namespace: 'default',
      taskQueue: 'record-histories',
      // With ESCALATE_PAYLOAD_KEY set, histories are recorded encrypted (replay then needs the key).
      payloadCodec: payloadCodecFromEnv(),
    },
    box: new SecretBox(SecretBox.generateKey()),
    // Recurrences are summarised within seconds, so the notifications scenario sees its summary.
    settings: { ...defaultSettings(), notifications: { recurrence_window: '2s' } },
    worker: { workflowBundle: bundle },
    api: {
      apiKeys: parseApiKeys(`${ADMIN_KEY}:admin`),
      webhookSecret: WEBHOOK_SECRET,
      port: 0,
      hostname: '127.0.0.1',
    },
  });
  stops.push(() => services.close());
  const { client } = services;
  const apiUrl = services.api!.url;

  const [jira, splunk, slack, teams] = await Promise.all([
    startFakeJira(),
    startFakeSplunk({ token: HEC_TOKEN }),
    startFakeSlack(),
    startFakeTeams(),
  ]);
  stops.push(
    () => jira.close(),
    () => splunk.close(),
    () => slack.close(),
    () => teams.close(),
  );

  const api: Ctx['api'] = (path, init = {}) =>
    fetch(`${apiUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  const create = async (body: unknown) =>
    (await json<{ id: string }>(await api('/v1/connectors', { method: 'POST', json: body }), [201])).id;
  const connectors = {
    jira: await create(jiraConnector(jira.url, { id: 'jira-sec' })),
    splunk: await create({
      id: 'splunk-prod',
      name: 'splunk-prod',
      kind: 'splunk',
      config: { hec_url: splunk.url, hec_token: HEC_TOKEN, index: 'security' },
      retry: { ...FAST_RETRY, maximum_attempts: 3 },
    }),
  };
  const ctx: Ctx = { api, client, jira, splunk, slack, teams, connectors };

  mkdirSync(OUT_DIR, { recursive: true });
  for (const name of names) {
    say(`scenario ${name}`);
    for (const fake of [jira, splunk, slack, teams]) fake.faults.clear();
    for (const rec of await SCENARIOS[name]!(ctx)) {
      const handle = client.workflow.getHandle(rec.workflowId, rec.runId);
      const [history, description] = await Promise.all([handle.fetchHistory(), handle.describe()]);
      const file = join(OUT_DIR, `${rec.name}.json`);
      const record = {
        name: rec.name,
        description: rec.description,
        workflowType: description.type,
        workflowId: rec.workflowId,
        runId: description.runId,
        recordedAt: new Date().toISOString(),
        history: JSON.parse(historyToJSON(history)) as unknown,
      };
      writeFileSync(file, `${JSON.stringify(record)}\n`);
      say(`  wrote ${file.slice(ROOT.length + 1)} (${history.events?.length ?? 0} events)`);
    }
  }
}

async function stopAll() {
  for (const stop of stops.splice(0).reverse()) await stop().catch((err) => say(`stop: ${err}`));
}

main()
  .then(async () => {
    await stopAll();
    process.exit(0);
  })
  .catch(async (err) => {
    console.error(`[record-histories] failed: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
    await stopAll();
    process.exit(1);
  });
