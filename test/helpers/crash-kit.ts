/**
 * Building blocks for the crash tests: an API served over real HTTP against any PostgreSQL and
 * Temporal address (the shared stack in `stack.ts` is tied to the global ones), an in-process
 * worker, bulk posting and waiting, and database checks on violations, deliveries and attempts.
 */
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { parseApiKeys } from '../../api/api-keys.js';
import type { Database } from '../../db/client.js';
import type { Settings } from '../../domain/settings.js';
import { createLogger } from '../../infra/logger.js';
import { SecretBox } from '../../infra/secret-box.js';
import { startServices } from '../../services.js';
import { jiraConnector } from './events.js';

export const CRASH_ADMIN_KEY = 'crash-admin-key-0123456789';

let runtimeInstalled = false;
/** The Temporal core runtime, quiet, once per process. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      // Core's own logs (gRPC retries while a server is down...) go to the logger, errors only.
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // Already installed by another helper in this process.
  }
  runtimeInstalled = true;
}

export type ApiCall = (
  path: string,
  init?: RequestInit & { json?: unknown; key?: string | null },
) => Promise<Response>;

export function apiCaller(url: string, key = CRASH_ADMIN_KEY): ApiCall {
  return (path, init = {}) => {
    const { json, key: override, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (override !== null) headers.set('authorization', `Bearer ${override ?? key}`);
    if (json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${url}${path}`, {
      ...rest,
      headers,
      body: json !== undefined ? JSON.stringify(json) : rest.body,
    });
  };
}

export interface ApiServer {
  url: string;
  api: ApiCall;
  database: Database;
  client: Client;
  close(): Promise<void>;
}

/** `createApp` served on 127.0.0.1 (random port) against `databaseUrl` and `temporalAddress`. */
export async function startApiServer(opts: {
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  box: SecretBox;
  settings?: Settings;
  /** Fewer connections than production: several of these share one PostgreSQL in tests. */
  poolSize?: number;
}): Promise<ApiServer> {
  const services = await startServices({
    logger: createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
    databaseUrl: opts.databaseUrl,
    poolSize: opts.poolSize ?? 10,
    temporal: { address: opts.temporalAddress, namespace: 'default', taskQueue: opts.taskQueue },
    box: opts.box,
    settings: opts.settings,
    api: {
      apiKeys: parseApiKeys(`${CRASH_ADMIN_KEY}:admin`),
      port: 0,
      hostname: '127.0.0.1',
      sweepPendingStarts: false,
    },
  });
  const url = services.api!.url;
  return {
    url,
    api: apiCaller(url),
    database: services.database,
    client: services.client,
    close: () => services.close(),
  };
}

export interface InProcessWorker {
  worker: Worker;
  /** Graceful shutdown (waits for the worker to stop). */
  stop(): Promise<void>;
  /** The worker's run() promise: rejects if the worker dies with an error. */
  running: Promise<void>;
}

/** `createWorker` in this process, with its own database pool and Temporal connections. */
export async function startInProcessWorker(opts: {
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  box: SecretBox;
  workflowBundlePath: string;
  settings?: Settings;
  poolSize?: number;
}): Promise<InProcessWorker> {
  installQuietRuntime();
  const services = await startServices({
    logger: createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
    databaseUrl: opts.databaseUrl,
    poolSize: opts.poolSize ?? 20,
    temporal: { address: opts.temporalAddress, namespace: 'default', taskQueue: opts.taskQueue },
    box: opts.box,
    settings: opts.settings,
    worker: { workflowBundle: { codePath: opts.workflowBundlePath } },
  });
  const worker = services.worker!;
  return {
    worker: worker.current,
    running: worker.running,
    // Graceful: the worker finishes what it runs, then the connections and the pool close.
    stop: () => services.close(),
  };
}

export async function createConnector(api: ApiCall, body: Record<string, unknown>): Promise<string> {
  const res = await api('/v1/connectors', { method: 'POST', json: body });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`connector creation answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

/** The crash tests' Jira Cloud connector (fake Jira's credentials, a 3 s timeout, their retry policy). */
export const crashJiraConnector = (url: string, name: string, retry: Record<string, unknown>) => {
  const base = jiraConnector(url);
  return { ...base, name, config: { ...base.config, timeout: '3s' }, retry };
};

/** Runs `fn` over `items` with at most `concurrency` at once; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return results;
}

export interface PostResult {
  eventId: string;
  status: number;
  body: string;
}

/** POSTs each event to /v1/violations (a network error counts as status 0). */
export function postViolations(
  api: ApiCall,
  events: readonly Record<string, unknown>[],
  concurrency = 16,
): Promise<PostResult[]> {
  return mapLimit(events, concurrency, async (event) => {
    const eventId = event.event_id as string;
    try {
      const res = await api('/v1/violations', { method: 'POST', json: event });
      return { eventId, status: res.status, body: await res.text() };
    } catch (err) {
      return { eventId, status: 0, body: (err as Error).message };
    }
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ViolationState {
  event_id: string;
  status: string;
}

/** Violation statuses, straight from the database (no API in the way). */
export async function violationStates(database: Database, eventIds: readonly string[]) {
  const rows = await database.sql<ViolationState[]>`
    select event_id::text as event_id, status from violations where event_id = any(${eventIds as string[]}::uuid[])`;
  return new Map(rows.map((r) => [r.event_id, r.status]));
}

/**
 * Waits until no violation in `eventIds` is `processing` any more (or the time is up), logging
 * progress now and then; returns the final statuses.
 */
export async function waitUntilSettled(
  database: Database,
  eventIds: readonly string[],
  opts: { timeoutMs: number; label?: string; onTick?: () => Promise<void> | void },
): Promise<Map<string, string>> {
  const deadline = Date.now() + opts.timeoutMs;
  let states = new Map<string, string>();
  let lastLog = 0;
  for (;;) {
    try {
      states = await violationStates(database, eventIds);
    } catch {
      // The database may be restarting: ask again.
    }
    const pending = eventIds.filter((id) => (states.get(id) ?? 'processing') === 'processing').length;
    if (pending === 0) return states;
    if (Date.now() > deadline) return states;
    if (Date.now() - lastLog > 5_000) {
      lastLog = Date.now();
      if (process.env.CRASH_VERBOSE) console.log(`[${opts.label ?? 'wait'}] ${pending} still processing`);
    }
    await opts.onTick?.();
    await sleep(250);
  }
}

export interface DeliveryRowView {
  id: string;
  event_id: string;
  connector_id: string;
  purpose: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

export const deliveryRows = (database: Database, eventIds: readonly string[]) =>
  database.sql<DeliveryRowView[]>`
    select id::text as id, event_id::text as event_id, connector_id, purpose, status, attempts, last_error
    from deliveries where event_id = any(${eventIds as string[]}::uuid[])`;

export interface AttemptRowView {
  delivery_id: string;
  attempt: number;
  outcome: string;
  message: string | null;
}

export const attemptRows = (database: Database, eventIds: readonly string[]) =>
  database.sql<AttemptRowView[]>`
    select a.delivery_id::text as delivery_id, a.attempt, a.outcome, a.message
    from delivery_attempts a join deliveries d on d.id = a.delivery_id
    where d.event_id = any(${eventIds as string[]}::uuid[])`;

export interface TicketRowView {
  event_id: string;
  connector_id: string;
  idempotency_key: string;
  external_id: string | null;
}

export const ticketRows = (database: Database, eventIds: readonly string[]) =>
  database.sql<TicketRowView[]>`
    select event_id::text as event_id, connector_id, idempotency_key, external_id
    from tickets where event_id = any(${eventIds as string[]}::uuid[])`;

/** Counts values; handy for "how many of each status". */
export function tally<T>(values: Iterable<T>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

export const newSecretKey = () => SecretBox.generateKey();
