/**
 * The two measured paths. (a) baseline: the bench's client starts `baselineWorkflow` (one no-op
 * activity) and waits for its result. (b) escalate: POST /v1/violations over HTTP (202), then the
 * violation's `completed_at` (set by the workflow's last activity, after the Jira ticket and the
 * Splunk delivery are done and recorded) is found by one batched PostgreSQL poll for all items
 * in flight — no per-event HTTP polling.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type postgres from 'postgres';
import { Agent, request } from 'undici';
import { makeEvent } from '../test/helpers/events.js';
import { type Stamp, within } from './load.js';
import { ItemError, type ItemOutcome } from './phase.js';
import { BASELINE_QUEUE } from './stack.js';

const runId = randomUUID().slice(0, 8);
let baselineSeq = 0;
/** One started baseline workflow, for the history sample in the report. */
export const baselineSample = { workflowId: '' };

export function baselineItem(client: Client, timeoutMs: number) {
  return async (at: Stamp): Promise<ItemOutcome> => {
    let handle: Awaited<ReturnType<Client['workflow']['start']>>;
    try {
      handle = await client.workflow.start('baselineWorkflow', {
        taskQueue: BASELINE_QUEUE,
        workflowId: `baseline-${runId}-${baselineSeq++}`,
        args: [],
      });
    } catch (err) {
      throw new ItemError(`start failed: ${(err as Error).name}`);
    }
    const acceptMs = performance.now() - at.mono;
    baselineSample.workflowId = handle.workflowId;
    const timedOut = Symbol('timeout');
    let result: unknown;
    try {
      result = await within(handle.result(), timeoutMs, timedOut);
    } catch (err) {
      throw new ItemError(`workflow failed: ${(err as Error).name}`, acceptMs);
    }
    if (result === timedOut) throw new ItemError('not completed before the drain deadline', acceptMs);
    const doneMono = performance.now();
    return { acceptMs, e2eMs: doneMono - at.mono, doneMono };
  };
}

interface Waiter {
  resolve: (v: { completedAtWall: number; status: string }) => void;
  reject: (err: Error) => void;
}

/** Finds completed violations with one query per poll for every event still in flight. */
export class CompletionWatcher {
  private readonly waiting = new Map<string, Waiter>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** Queries issued and rows they looked up (left out of the per-violation PostgreSQL counters). */
  polls = 0;
  rowsLookedUp = 0;

  constructor(
    private readonly sql: postgres.Sql,
    private readonly everyMs: number,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.poll(), this.everyMs);
    return this;
  }

  stop() {
    clearInterval(this.timer);
    this.expire();
  }

  wait(eventId: string): Promise<{ completedAtWall: number; status: string }> {
    return new Promise((resolve, reject) => this.waiting.set(eventId, { resolve, reject }));
  }

  /** Everything still waiting times out now. */
  expire() {
    for (const [id, w] of this.waiting) {
      this.waiting.delete(id);
      w.reject(new ItemError('not completed before the drain deadline'));
    }
  }

  private async poll() {
    if (this.busy || this.waiting.size === 0) return;
    this.busy = true;
    try {
      const ids = [...this.waiting.keys()];
      for (let i = 0; i < ids.length; i += 5000) {
        const chunk = ids.slice(i, i + 5000);
        this.polls++;
        this.rowsLookedUp += chunk.length;
        const rows = await this.sql<{ event_id: string; status: string; ms: number }[]>`
          select event_id, status, extract(epoch from completed_at) * 1000 as ms
          from violations where event_id = any(${chunk}::uuid[]) and completed_at is not null`;
        for (const row of rows) {
          const w = this.waiting.get(row.event_id);
          if (!w) continue;
          this.waiting.delete(row.event_id);
          w.resolve({ completedAtWall: Number(row.ms), status: row.status });
        }
      }
    } catch {
      // next poll
    } finally {
      this.busy = false;
    }
  }
}

/**
 * The load generator's HTTP client: undici's `request` on keep-alive connections. It shares the
 * bench process with the API and the worker, and the baseline's client (Temporal's, in Rust) costs
 * almost nothing: `fetch` (WHATWG streams, Request/Response objects) would charge escalate for
 * the client's own work.
 */
const loadClient = new Agent({ connections: 256, keepAliveTimeout: 30_000 });

export function escalateItem(opts: { apiUrl: string; apiKey: string; watcher: CompletionWatcher }) {
  return async (at: Stamp): Promise<ItemOutcome> => {
    const event = makeEvent();
    const eventId = event.event_id as string;
    let status: number;
    try {
      const res = await request(`${opts.apiUrl}/v1/violations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(event),
        dispatcher: loadClient,
      });
      status = res.statusCode;
      await res.body.dump();
    } catch (err) {
      throw new ItemError(`HTTP request failed: ${(err as Error).message.slice(0, 60)}`);
    }
    const acceptMs = performance.now() - at.mono;
    if (status !== 202) throw new ItemError(`HTTP ${status}`, acceptMs);
    // The clocks agree: completed_at is written by this process (the activity runs here).
    const offset = at.mono - at.wall;
    let done: { completedAtWall: number; status: string };
    try {
      done = await opts.watcher.wait(eventId);
    } catch (err) {
      throw new ItemError((err as Error).message, acceptMs);
    }
    if (done.status !== 'completed') throw new ItemError(`violation ${done.status}`, acceptMs);
    return {
      acceptMs,
      e2eMs: done.completedAtWall - at.wall,
      doneMono: done.completedAtWall + offset,
    };
  };
}
