/**
 * Fake Datadog logs intake (`POST /api/v2/logs`) and metrics API (`POST /api/v2/series`).
 * Enforces `DD-API-KEY` (403 `{"errors":["Forbidden"]}`), JSON bodies (array or single log,
 * ≤ 1000 logs, ≤ 5 MB), `ddtags` as a comma string, and the v2 series shape; answers 202 `{}` for
 * logs and 202 `{"errors":[]}` for series, like Datadog.
 */
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type Env, Faults, faultMiddleware, rawBody, startServer } from './fault.js';

export interface FakeDatadogOptions {
  apiKey: string;
}

export interface DatadogReceived<T> {
  item: T;
  headers: Record<string, string>;
  rawBody: string;
}

const MAX_PAYLOAD_BYTES = 5 * 1024 * 1024;
const MAX_LOGS = 1000;

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const errors = (...messages: string[]) => ({ errors: messages });
const defaultErrorBody = (status: number) => errors(REASON[status] ?? `HTTP ${status}`);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function validateLog(log: unknown, n: number): string | undefined {
  if (!isObject(log)) return `log ${n}: expected a JSON object`;
  if (log['ddtags'] !== undefined && typeof log['ddtags'] !== 'string')
    return `log ${n}: ddtags must be a comma-separated string`;
  for (const key of ['ddsource', 'hostname', 'service', 'message'] as const) {
    if (log[key] !== undefined && typeof log[key] !== 'string') return `log ${n}: ${key} must be a string`;
  }
  return undefined;
}

function validateSeries(series: unknown, n: number): string | undefined {
  if (!isObject(series)) return `series[${n}]: expected an object`;
  if (typeof series['metric'] !== 'string' || series['metric'] === '')
    return `series[${n}].metric is required`;
  const type = series['type'];
  if (type !== undefined && !(Number.isInteger(type) && (type as number) >= 0 && (type as number) <= 3)) {
    return `series[${n}].type must be 0 (unspecified), 1 (count), 2 (rate) or 3 (gauge)`;
  }
  const points = series['points'];
  if (!Array.isArray(points) || points.length === 0) return `series[${n}].points must be a non-empty array`;
  for (const p of points) {
    if (!isObject(p) || !Number.isInteger(p['timestamp']) || typeof p['value'] !== 'number') {
      return `series[${n}].points: each point needs an integer timestamp (seconds) and a numeric value`;
    }
  }
  const tags = series['tags'];
  if (tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) {
    return `series[${n}].tags must be an array of strings`;
  }
  return undefined;
}

export async function startFakeDatadog(opts: FakeDatadogOptions) {
  const faults = new Faults();
  const logs: DatadogReceived<Record<string, unknown>>[] = [];
  const series: DatadogReceived<Record<string, unknown>>[] = [];
  const app = new Hono<Env>();
  const fail = (c: Context<Env>, status: number, ...messages: string[]) =>
    c.json(errors(...messages), status as ContentfulStatusCode);

  /** Shared checks: API key, size, JSON. Returns the parsed body or a Response. */
  async function accept(c: Context<Env>): Promise<{ body: string; json: unknown } | Response> {
    if (c.req.header('dd-api-key') !== opts.apiKey) return fail(c, 403, 'Forbidden');
    const body = await rawBody(c);
    if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) return fail(c, 413, 'Payload Too Large');
    try {
      return { body, json: JSON.parse(body) };
    } catch {
      return fail(c, 400, 'Bad Request', 'malformed JSON body');
    }
  }

  app.use('*', faultMiddleware(faults, defaultErrorBody));

  // Served on the API host (api.<site>), which is this same fake in tests.
  app.get('/api/v1/validate', (c) =>
    c.req.header('dd-api-key') === opts.apiKey ? c.json({ valid: true }) : fail(c, 403, 'Forbidden'),
  );

  app.post('/api/v2/logs', async (c) => {
    const got = await accept(c);
    if (got instanceof Response) return got;
    const items = Array.isArray(got.json) ? got.json : [got.json];
    if (items.length > MAX_LOGS) return fail(c, 400, 'Bad Request', `at most ${MAX_LOGS} logs per request`);
    for (const [n, log] of items.entries()) {
      const problem = validateLog(log, n);
      if (problem) return fail(c, 400, 'Bad Request', problem);
    }
    const headers = Object.fromEntries(c.req.raw.headers);
    for (const item of items)
      logs.push({ item: item as Record<string, unknown>, headers, rawBody: got.body });
    return c.json({}, 202);
  });

  app.post('/api/v2/series', async (c) => {
    const got = await accept(c);
    if (got instanceof Response) return got;
    const list = isObject(got.json) ? got.json['series'] : undefined;
    if (!Array.isArray(list) || list.length === 0) return fail(c, 400, 'series must be a non-empty array');
    for (const [n, s] of list.entries()) {
      const problem = validateSeries(s, n);
      if (problem) return fail(c, 400, problem);
    }
    const headers = Object.fromEntries(c.req.raw.headers);
    for (const item of list)
      series.push({ item: item as Record<string, unknown>, headers, rawBody: got.body });
    return c.json({ errors: [] }, 202);
  });

  const server = await startServer(app, faults);
  return { url: server.url, received: logs, logs, series, faults, close: server.close };
}

export type FakeDatadog = Awaited<ReturnType<typeof startFakeDatadog>>;
