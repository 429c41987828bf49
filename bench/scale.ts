/**
 * (c) Scale run: N open TicketSyncWorkflows (ticket rows inserted straight into PostgreSQL, each
 * workflow started by the client as `createTicket` does, from the row it recorded; each arms its
 * SLA timer), then signed status webhooks at a fixed rate through POST /v1/webhooks/itsm, each one
 * a Temporal Update on a distinct ticket (open → in_progress, recorded in PostgreSQL).
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { inArray } from 'drizzle-orm';
import { ticketSyncInit } from '../activities/ticket-sync.js';
import { getConnectorRow } from '../db/repos/connectors.js';
import type { TicketRow } from '../db/repos/tickets.js';
import { tickets } from '../db/schema.js';
import { defaultSettings } from '../domain/settings.js';
import { ticketCreated } from '../infra/workflow-client.js';
import { ticketWorkflowId } from '../workflows/contract.js';
import type { BenchConfig } from './config.js';
import { mapLimit, openLoop, within } from './load.js';
import { warningsSince } from './phase.js';
import { eventLoopDelay, Processes, pgDatabaseSizeMiB, RssSampler, sqliteSizeMiB } from './probes.js';
import { type BenchStack, DATABASE, say, sdkWarnings, TASK_QUEUE } from './stack.js';
import { type LatencySummary, mib, round1, summarize } from './stats.js';

export interface ScaleResult {
  tickets: number;
  /** Workflows actually started (fewer than `tickets` only when the start budget ran out). */
  ticketsStarted: number;
  insertSeconds: number;
  startSeconds: number;
  startsPerSecond: number;
  startLatencyMs: LatencySummary;
  startErrors: number;
  /** From the first start until a sample of the workflows all sat idle on their timers. */
  armedSeconds: number;
  armedSample: number;
  /** False when the arm timeout passed before every sampled workflow sat idle. */
  armedComplete: boolean;
  /**
   * Least-squares slope of this process's RSS over the worker's cached-workflow count over the
   * whole scale run (KiB per cached TicketSyncWorkflow); undefined without enough spread.
   */
  rssPerCachedWorkflowKiB?: number;
  /** Task-queue backlog when arming ended (0 + 0 when complete). */
  backlogAtArmEnd: { workflow: number; activity: number };
  /** Cores used from the first start until armed. */
  creationCores: Record<string, number>;
  creationWarnings: Record<string, number>;
  afterArming: ScaleFootprint;
  /**
   * Webhooks sent while the workflows were still being started (the storm), to tickets whose
   * workflow had been started; with how many were started when the step began and ended.
   */
  stormWebhooks?: WebhookStep & { startedAtBegin: number; startedAtEnd: number };
  /** One step per rate of BENCH_WEBHOOK_RATE, in order (after arming). */
  webhooks: WebhookStep[];
  afterWebhooks: ScaleFootprint;
}

export interface WebhookStep {
  rate: number;
  seconds: number;
  sent: number;
  applied: number;
  errors: Record<string, number>;
  latencyMs: LatencySummary;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  coresUsed: Record<string, number>;
  sdkWarnings: Record<string, number>;
}

/** Signed generic webhooks at a fixed rate, each to the ticket `nextExternalId()` names. */
async function webhookStep(
  stack: BenchStack,
  cfg: BenchConfig,
  rate: number,
  nextExternalId: () => string,
): Promise<WebhookStep> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let applied = 0;
  let failed = 0;
  const warningsBefore = { ...sdkWarnings };
  const loopDelay = eventLoopDelay();
  const before = stack.processes.snapshot();
  const { pending } = await openLoop({
    rate,
    seconds: cfg.webhookSeconds,
    fire: async (at) => {
      const body = JSON.stringify({ external_ticket_id: nextExternalId(), status: 'in_progress' });
      const ts = String(Math.floor(Date.now() / 1000));
      const signature = `sha256=${createHmac('sha256', stack.webhookSecret).update(`${ts}.${body}`).digest('hex')}`;
      try {
        const res = await fetch(`${stack.apiUrl}/v1/webhooks/itsm`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-escalate-timestamp': ts,
            'x-escalate-signature': signature,
          },
          body,
        });
        const answer = (await res.json().catch(() => ({}))) as { result?: string };
        latencies.push(performance.now() - at.mono);
        if (res.status === 200 && answer.result === 'applied') applied++;
        else {
          const kind = `HTTP ${res.status} ${answer.result ?? ''}`.trim();
          errors[kind] = (errors[kind] ?? 0) + 1;
        }
      } catch (err) {
        failed++;
        const kind = `request failed: ${(err as Error).message.slice(0, 60)}`;
        errors[kind] = (errors[kind] ?? 0) + 1;
      }
    },
  });
  await within(Promise.all(pending), cfg.drainSeconds * 1000, undefined);
  const unanswered = pending.length - latencies.length - failed;
  if (unanswered > 0) errors['no answer before the drain deadline'] = unanswered;
  const after = stack.processes.snapshot();
  return {
    rate,
    seconds: cfg.webhookSeconds,
    sent: pending.length,
    applied,
    errors,
    latencyMs: summarize(latencies),
    eventLoopDelayMs: loopDelay(),
    coresUsed: Processes.coresUsed(before, after),
    sdkWarnings: warningsSince(warningsBefore),
  };
}

export interface ScaleFootprint {
  /** This process (API + workers): process.memoryUsage().rss. */
  workerRssMiB: number;
  peakWorkerRssMiB: number;
  temporalServerRssMiB: number;
  postgresPssMiB: number;
  postgresDatabaseMiB: number;
  temporalDbMiB: { db: number; wal: number; total: number };
  cachedWorkflows: number;
}

const shuffle = <T>(xs: T[]): T[] => {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
};

async function footprint(stack: BenchStack, rss: RssSampler): Promise<ScaleFootprint> {
  const mem = stack.processes.memoryMiB();
  return {
    workerRssMiB: mib(process.memoryUsage().rss),
    peakWorkerRssMiB: mib(Math.max(rss.peak, process.memoryUsage().rss)),
    temporalServerRssMiB: mem.temporal,
    postgresPssMiB: mem.postgres,
    postgresDatabaseMiB: await pgDatabaseSizeMiB(stack.benchSql, DATABASE),
    temporalDbMiB: sqliteSizeMiB(stack.temporalDbFile),
    cachedWorkflows: stack.escalateWorker.getStatus().numCachedWorkflows,
  };
}

function slopeKiB(points: { cached: number; rss: number }[]): number | undefined {
  if (points.length < 5) return undefined;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.cached, 0) / n;
  const my = points.reduce((s, p) => s + p.rss, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.cached - mx) ** 2, 0);
  if (sxx === 0 || Math.max(...points.map((p) => p.cached)) - Math.min(...points.map((p) => p.cached)) < 200)
    return undefined;
  const sxy = points.reduce((s, p) => s + (p.cached - mx) * (p.rss - my), 0);
  return round1(sxy / sxx / 1024);
}

/** Approximate backlog of the task queue (normal queue; sticky queues are not counted). */
async function backlog(client: Client, taskQueue: string): Promise<{ workflow: number; activity: number }> {
  const count = async (taskQueueType: number) => {
    try {
      const r = await client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: taskQueue },
        // TASK_QUEUE_TYPE_WORKFLOW = 1, TASK_QUEUE_TYPE_ACTIVITY = 2
        taskQueueType: taskQueueType as never,
        reportStats: true,
      });
      return Number(r.stats?.approximateBacklogCount?.toString() ?? 0);
    } catch {
      return -1;
    }
  };
  return { workflow: await count(1), activity: await count(2) };
}

/** Idle = running, no workflow task and no activity pending: it waits on its timer (or its start delay). */
async function idle(client: Client, workflowId: string): Promise<boolean> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    // A run started with a start delay has no workflow task until then: idle too.
    return (
      d.status.name === 'RUNNING' &&
      !d.raw.pendingWorkflowTask &&
      (d.raw.pendingActivities?.length ?? 0) === 0
    );
  } catch {
    return false;
  }
}

export async function runScale(stack: BenchStack, cfg: BenchConfig): Promise<ScaleResult> {
  const n = cfg.tickets;
  const rss = new RssSampler().start(1000);
  // RSS against the worker's cached workflows, all along (the cache fills as runs wake up).
  const cacheSamples: { cached: number; rss: number }[] = [];
  const cacheSampler = setInterval(
    () =>
      cacheSamples.push({
        cached: stack.escalateWorker.getStatus().numCachedWorkflows,
        rss: process.memoryUsage().rss,
      }),
    500,
  );
  const run = randomUUID().slice(0, 8);
  const ids = Array.from({ length: n }, () => randomUUID());
  const eventIds = ids.map(() => randomUUID());
  const externalId = (i: number) => `BENCH-${i + 1}`;

  say(`scale: inserting ${n} ticket rows`);
  const insertStart = performance.now();
  const now = Date.now();
  const slaMs = 4 * 3600_000;
  for (let i = 0; i < n; i += 1000) {
    const rows = ids.slice(i, i + 1000).map((id, k) => ({
      id,
      connector_id: stack.connectors.jira,
      kind: 'jira',
      event_id: eventIds[i + k],
      idempotency_key: `bench-${run}-${i + k}`,
      external_id: externalId(i + k),
      external_url: `https://jira.example/browse/${externalId(i + k)}`,
      status: 'open',
      severity: 'high',
      priority: 'high',
      sla_ms: slaMs,
      sla_due_at: new Date(now + slaMs),
    }));
    await stack.benchSql`insert into tickets ${stack.benchSql(rows)}`;
  }
  const insertSeconds = (performance.now() - insertStart) / 1000;
  // What the creator knows when it starts the ticket's workflow (activities/tickets.ts): the row
  // just recorded and its connector; read here before the clock starts.
  const db = stack.database.db;
  const connector = await getConnectorRow(db, stack.connectors.jira);
  const rowsById = new Map<string, TicketRow>();
  for (let i = 0; i < n; i += 1000)
    for (const row of await db
      .select()
      .from(tickets)
      .where(inArray(tickets.id, ids.slice(i, i + 1000))))
      rowsById.set(row.id, row);
  const settings = defaultSettings();

  say(`scale: starting ${n} TicketSyncWorkflows (${cfg.ticketStartConcurrency} concurrent starts)`);
  const startLatencies: number[] = [];
  let startErrors = 0;
  const startStart = performance.now();
  const creationCpu = stack.processes.snapshot();
  const creationWarningsBefore = { ...sdkWarnings };
  const budgetEnd = startStart + cfg.ticketStartBudgetSeconds * 1000;
  let lastReport = startStart;
  const started: string[] = [];
  // The storm: webhooks to tickets already followed while the others are still being started.
  const startedIndexes: number[] = [];
  const stormTouched = new Set<number>();
  const stormTarget = () => {
    for (;;) {
      const i = startedIndexes[Math.floor(Math.random() * startedIndexes.length)]!;
      if (!stormTouched.has(i) || stormTouched.size >= startedIndexes.length) {
        stormTouched.add(i);
        return externalId(i);
      }
    }
  };
  let storm: Promise<NonNullable<ScaleResult['stormWebhooks']>> | undefined;
  const startStorm = () => {
    const startedAtBegin = started.length;
    say(`scale: storm webhooks at ${cfg.stormWebhookRate}/s while starting (${startedAtBegin} started)`);
    storm = webhookStep(stack, cfg, cfg.stormWebhookRate, stormTarget).then((step) => ({
      ...step,
      startedAtBegin,
      startedAtEnd: started.length,
    }));
  };
  await mapLimit(ids, cfg.ticketStartConcurrency, async (ticketId, i) => {
    const t0 = performance.now();
    if (t0 > budgetEnd) return;
    try {
      // As the activity that created the ticket does (activities/tickets.ts createTicket).
      const row = rowsById.get(ticketId)!;
      await ticketCreated(
        { client: stack.client, taskQueue: TASK_QUEUE },
        row,
        ticketSyncInit(row, connector as Parameters<typeof ticketSyncInit>[1], settings),
      );
      startLatencies.push(performance.now() - t0);
      started.push(ticketId);
      startedIndexes.push(i);
      if (!storm && cfg.stormWebhookRate > 0 && started.length >= Math.ceil(n / 10)) startStorm();
    } catch {
      startErrors++;
    }
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      say(`scale: ${startLatencies.length + startErrors}/${n} started`);
    }
  });
  const startSeconds = (performance.now() - startStart) / 1000;
  const stormWebhooks = storm ? await storm : undefined;
  if (stormWebhooks)
    say(
      `scale: storm webhooks → ${stormWebhooks.applied}/${stormWebhooks.sent} applied, p50/p99 ` +
        `${stormWebhooks.latencyMs.p50}/${stormWebhooks.latencyMs.p99} ms`,
    );
  if (started.length + startErrors < n)
    say(
      `scale: start budget (${cfg.ticketStartBudgetSeconds} s) spent after ${started.length} of ${n} workflows`,
    );
  const open = new Set(started);

  // Armed = the task queue has no backlog left and a sample (the last ones started plus random
  // ones) sits idle on its timer.
  const sample = [...new Set([...started.slice(-50), ...shuffle([...started]).slice(0, 50)])];
  let pendingSample = sample.map(ticketWorkflowId);
  const armDeadline = performance.now() + cfg.armTimeoutSeconds * 1000;
  let lastBacklog = { workflow: -1, activity: -1 };
  let lastSay = performance.now();
  while (performance.now() < armDeadline) {
    lastBacklog = await backlog(stack.client, TASK_QUEUE);
    if (lastBacklog.workflow === 0 && lastBacklog.activity === 0) {
      const states = await mapLimit(pendingSample, 10, (id) => idle(stack.client, id));
      pendingSample = pendingSample.filter((_, i) => !states[i]);
      if (!pendingSample.length) break;
    }
    if (performance.now() - lastSay > 10_000) {
      lastSay = performance.now();
      say(`scale: arming, backlog ${lastBacklog.workflow} workflow + ${lastBacklog.activity} activity tasks`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (pendingSample.length)
    say(
      `scale: arm timeout: backlog ${lastBacklog.workflow} + ${lastBacklog.activity} tasks, ${pendingSample.length}/${sample.length} sampled workflows not idle`,
    );
  const armedSeconds = (performance.now() - startStart) / 1000;
  const creationWarnings = warningsSince(creationWarningsBefore);
  const creationCores = Processes.coresUsed(creationCpu, stack.processes.snapshot());
  say(`scale: ${started.length} workflows armed after ${round1(armedSeconds)} s`);
  const afterArming = await footprint(stack, rss);

  // Only tickets whose workflow was started (all of them unless the start budget ran out); each
  // webhook goes to a ticket no earlier webhook touched (open → in_progress is then always applied).
  const targets = shuffle(
    Array.from({ length: n }, (_, i) => i).filter((i) => open.has(ids[i]!) && !stormTouched.has(i)),
  );
  let nextTarget = 0;
  const webhooks: WebhookStep[] = [];
  for (const rate of cfg.webhookRates) {
    say(`scale: webhooks at ${rate}/s for ${cfg.webhookSeconds} s`);
    webhooks.push(
      await webhookStep(stack, cfg, rate, () => externalId(targets[nextTarget++ % targets.length]!)),
    );
    const last = webhooks[webhooks.length - 1]!;
    say(
      `scale: ${rate}/s → ${last.applied}/${last.sent} applied, p50/p99 ${last.latencyMs.p50}/${last.latencyMs.p99} ms`,
    );
    await new Promise((r) => setTimeout(r, 3000));
  }
  const afterWebhooks = await footprint(stack, rss);
  rss.stop();
  clearInterval(cacheSampler);

  return {
    tickets: n,
    ticketsStarted: started.length,
    insertSeconds: round1(insertSeconds),
    startSeconds: round1(startSeconds),
    startsPerSecond: round1(started.length / startSeconds),
    startLatencyMs: summarize(startLatencies),
    startErrors,
    armedSeconds: round1(armedSeconds),
    armedSample: sample.length,
    armedComplete: pendingSample.length === 0,
    rssPerCachedWorkflowKiB: slopeKiB(cacheSamples),
    backlogAtArmEnd: lastBacklog,
    creationCores,
    creationWarnings,
    afterArming,
    stormWebhooks,
    webhooks,
    afterWebhooks,
  };
}
