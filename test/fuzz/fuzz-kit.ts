/**
 * Shared pieces of the property-based (fast-check) tests on the HTTP API: the endpoint table,
 * response invariants, "nothing written" snapshots, and arbitraries for hostile input.
 */
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { expect } from 'vitest';
import { MAX_JSON_DEPTH } from '../../api/json-body.js';
import type { Stack } from '../helpers/stack.js';

/** FUZZ_SCALE=4 runs every property four times as long (nightly); defaults keep a file under ~60 s. */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
export const runs = (n: number): fc.Parameters<unknown> => ({
  numRuns: Math.max(1, Math.round(n * SCALE)),
  ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
});

// ---------------------------------------------------------------------------------------------
// The endpoints. Adding an endpoint to the fuzzing is one line here; everything listed in
// /openapi.json is picked up on top of it automatically (see `discoverOperations`).
// ---------------------------------------------------------------------------------------------

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Endpoint {
  method: Method;
  /** OpenAPI-style template: `{name}` segments are filled with fuzzed path parameters. */
  path: string;
  /** An `ingest` key may call it (only posting violations). */
  ingest?: boolean;
  /**
   * A 2xx may start background work (workflows) that writes later: fuzzed in a property of its
   * own, last, so its writes cannot be mistaken for a refused request's.
   */
  async?: boolean;
}

export const ENDPOINTS: Endpoint[] = [
  { method: 'POST', path: '/v1/violations', ingest: true, async: true },
  { method: 'GET', path: '/v1/violations' },
  { method: 'GET', path: '/v1/violations/{event_id}' },
  { method: 'POST', path: '/v1/violations/{event_id}/tickets' },
  { method: 'POST', path: '/v1/violations/{event_id}/tickets:preview' },
  { method: 'GET', path: '/v1/connectors' },
  { method: 'POST', path: '/v1/connectors' },
  { method: 'GET', path: '/v1/connectors/{id}' },
  { method: 'PATCH', path: '/v1/connectors/{id}' },
  { method: 'DELETE', path: '/v1/connectors/{id}' },
  { method: 'POST', path: '/v1/connectors/{id}/test', async: true },
  { method: 'POST', path: '/v1/connectors/{id}/install-template', async: true },
  { method: 'GET', path: '/v1/deliveries' },
  { method: 'GET', path: '/v1/deliveries/{id}' },
  { method: 'POST', path: '/v1/deliveries/{id}/replay', async: true },
  // Being built now; listed so they are fuzzed as soon as they answer (404 until then):
  { method: 'POST', path: '/v1/violations:batch', ingest: true, async: true },
  { method: 'POST', path: '/v1/deliveries:replay', async: true },
  { method: 'GET', path: '/v1/rules' },
  { method: 'POST', path: '/v1/rules' },
  { method: 'GET', path: '/v1/rules/{id}' },
  { method: 'PATCH', path: '/v1/rules/{id}' },
  { method: 'DELETE', path: '/v1/rules/{id}' },
  { method: 'POST', path: '/v1/rules/dry-run' },
  { method: 'GET', path: '/v1/tickets' },
  { method: 'GET', path: '/v1/audit' },
  { method: 'GET', path: '/v1/reports/summary' },
];

/** Paths that authenticate with their own secrets, not API keys. */
export const isWebhook = (path: string) => path.startsWith('/v1/webhooks/');

/**
 * Paths that take no bearer API key: the webhooks, and the codec's browser sign-in (a form that
 * takes an admin key in its body; test/e2e/payload-encryption.test.ts fuzzes it).
 */
export const bearerExempt = (path: string) => isWebhook(path) || path === '/v1/temporal-codec/sign-in';

const METHODS = new Set<Method>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** The static table plus every operation the running API documents in /openapi.json. */
export async function discoverOperations(stack: Stack): Promise<Endpoint[]> {
  const res = await stack.api('/openapi.json');
  expect(res.status).toBe(200);
  const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
  const out = new Map<string, Endpoint>(ENDPOINTS.map((e) => [`${e.method} ${e.path}`, e]));
  for (const [path, ops] of Object.entries(doc.paths)) {
    const full = path.startsWith('/v1') ? path : `/v1${path}`;
    for (const m of Object.keys(ops)) {
      const method = m.toUpperCase() as Method;
      if (!METHODS.has(method)) continue;
      const key = `${method} ${full}`;
      if (!out.has(key)) out.set(key, { method, path: full });
    }
  }
  return [...out.values()];
}

/** Percent-encodes the UTF-8 bytes (lone surrogates become U+FFFD, as a client would send them). */
export const pct = (s: string) =>
  [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** Fills `{param}` segments (percent-encoded); `fill` gets the parameter name. */
export const fillPath = (template: string, fill: (name: string) => string) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = fill(name);
    return /^[\w-]*$/.test(v) ? v : pct(v);
  });

// ---------------------------------------------------------------------------------------------
// Sending. `fetch` normalises paths and re-encodes bodies, so raw sends go through node:http.
// ---------------------------------------------------------------------------------------------

export interface Sent {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

async function settle(res: Response): Promise<Sent> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface SendInit {
  method?: string;
  /** A JS value to send as JSON (content type set), a string, or raw bytes. */
  json?: unknown;
  body?: string | Uint8Array;
  /** `null`: no Content-Type header at all. Defaults to application/json when a body is given. */
  contentType?: string | null;
  /** API key; `null` for none. Defaults to the admin key. */
  key?: string | null;
  headers?: Record<string, string>;
}

export async function send(stack: Stack, path: string, init: SendInit = {}): Promise<Sent> {
  const headers = new Headers(init.headers);
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
  if (body !== undefined) {
    const type = init.contentType === undefined ? 'application/json' : init.contentType;
    if (type !== null) headers.set('content-type', type);
  }
  const res = await stack.api(path, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    // fetch would add `text/plain` to a string body without a type; bytes carry none.
    body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
    key: init.key,
  });
  return settle(res);
}

/** A request exactly as given (path not normalised, any method, bytes as they are). */
export function sendRaw(
  stack: Stack,
  init: { method: string; path: string; headers?: Record<string, string>; body?: Uint8Array | string },
): Promise<Sent> {
  const url = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: init.method,
        path: init.path,
        headers: init.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            if (typeof v === 'string') headers.set(k, v);
            else if (Array.isArray(v)) for (const x of v) headers.append(k, x);
          settle(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: 200 })).then(
            (s) => resolve({ ...s, status: res.statusCode ?? 0, headers }),
            reject,
          );
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

// ---------------------------------------------------------------------------------------------
// Invariants.
// ---------------------------------------------------------------------------------------------

/** The API's error shape; validation errors name every offending field. */
export function expectErrorShape(res: Sent, context = '') {
  const where = `${context} → ${res.status} ${res.text.slice(0, 500)}`;
  expect(res.headers.get('content-type') ?? '', where).toMatch(/^application\/json/);
  const body = res.json as { error?: { code?: unknown; message?: unknown; details?: unknown } };
  expect(body, where).toBeTypeOf('object');
  expect(body.error?.code, where).toBeTypeOf('string');
  expect((body.error!.code as string).length, where).toBeGreaterThan(0);
  expect(body.error?.message, where).toBeTypeOf('string');
  expect((body.error!.message as string).length, where).toBeGreaterThan(0);
  if (body.error!.code === 'validation_failed') {
    const details = body.error!.details as { path?: unknown; message?: unknown }[];
    expect(Array.isArray(details) && details.length > 0, where).toBe(true);
    for (const d of details) {
      expect(d.path, where).toBeTypeOf('string');
      expect((d.path as string).length, where).toBeGreaterThan(0);
      expect(d.message, where).toBeTypeOf('string');
    }
  }
}

export const detailPaths = (res: Sent): string[] =>
  ((res.json as { error?: { details?: { path: string }[] } }).error?.details ?? []).map((d) => d.path);

/** Never a 5xx; only the listed statuses; 4xx answers carry the error shape. */
export function expectHandled(res: Sent, allowed: readonly number[], context = '') {
  expect(res.status, `${context} → ${res.status} ${res.text.slice(0, 500)}`).toBeLessThan(500);
  expect(allowed, `${context} → ${res.status} ${res.text.slice(0, 500)}`).toContain(res.status);
  if (res.status >= 400) expectErrorShape(res, context);
}

/** The API process still answers: liveness and readiness (PostgreSQL and Temporal reachable). */
export async function expectAlive(stack: Stack) {
  const health = await send(stack, '/healthz', { key: null });
  expect(health.status).toBe(200);
  expect(health.json).toEqual({ status: 'ok' });
  const ready = await send(stack, '/readyz', { key: null });
  expect(ready.status, ready.text).toBe(200);
}

/** Row counts of every table in the test database: compare before/after to prove nothing was written. */
export async function tableCounts(stack: Stack, only?: string[]): Promise<Record<string, number>> {
  const tables = only ?? (await userTables(stack));
  const select = tables.map((t) => `(select count(*)::int from "${t}") as "${t}"`).join(', ');
  const [row] = await stack.database.sql.unsafe(`select ${select}`);
  return { ...(row as Record<string, number>) };
}

let cachedTables: string[] | undefined;
async function userTables(stack: Stack): Promise<string[]> {
  cachedTables ??= (
    await stack.database.sql<{ table_name: string }[]>`
      select table_name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`
  ).map((r) => r.table_name);
  return cachedTables;
}

export async function workflowExists(stack: Stack, workflowId: string): Promise<boolean> {
  try {
    await stack.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// What the API must refuse before storing (mirrors api/json-body.ts, as an independent oracle).
// ---------------------------------------------------------------------------------------------

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const unstorableText = (s: string) => s.includes('\u0000') || LONE_SURROGATE.test(s);

/** True when some string or key holds NUL or a lone surrogate (PostgreSQL cannot store either). */
export function hasUnstorable(value: unknown): boolean {
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (unstorableText(v)) return true;
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (unstorableText(k)) return true;
        stack.push(x);
      }
    }
  }
  return false;
}

/** Container nesting depth (a scalar is 0, `{}` is 1). Iterative: works on any depth. */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v && typeof v === 'object') {
      max = Math.max(max, d + 1);
      for (const x of Object.values(v)) stack.push([x, d + 1]);
    }
  }
  return max;
}

export const tooDeep = (value: unknown) => jsonDepth(value) > MAX_JSON_DEPTH;

/** `depth` levels of `{"a": …}` (or `[…]`) around `leaf`, built without recursion. */
export function nested(depth: number, leaf: unknown = 1, kind: 'object' | 'array' = 'object'): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = kind === 'object' ? { a: v } : [v];
  return v;
}

/** The JSON text of `nested(...)`, for depths where JSON.stringify itself would overflow. */
export const nestedText = (depth: number, leaf = '1', kind: 'object' | 'array' = 'object') =>
  kind === 'object'
    ? `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`
    : `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;

// ---------------------------------------------------------------------------------------------
// Arbitraries.
// ---------------------------------------------------------------------------------------------

/** Strings that hit encoders: astral, combining, RTL, zero-width, NUL, lone surrogates, controls. */
export const hostileChars = fc.constantFrom(
  '\u0000',
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
  'e\u0301',
  '\u202e',
  '\u200b',
  '\ufeff',
  '\u0007',
  '\n',
  '"',
  '\\',
  '</script>',
  '{{constructor.constructor}}',
  '%00',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal template-injection probe
  '${process.env.HOME}',
);

/** Any string, weighted towards hostile content. */
export const hostileString = (maxLength = 40) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc
      .tuple(fc.string({ maxLength: 8 }), hostileChars, fc.string({ maxLength: 8 }))
      .map(([a, b, c]) => a + b + c),
  );

/** Any JSON value, its strings sometimes hostile. */
export const anyJson = (maxDepth = 4) =>
  fc.oneof(
    fc.jsonValue({ maxDepth }),
    fc.jsonValue({ maxDepth, stringUnit: 'binary' }),
    fc.jsonValue({ maxDepth, stringUnit: 'grapheme' }),
  );

/** `fc.anything()` as the JSON text a client would send (`undefined` becomes the text "undefined"). */
export const anythingAsJsonText = fc
  .anything({
    maxDepth: 4,
    stringUnit: 'binary',
    withBoxedValues: true,
    withSet: true,
    withMap: true,
    withObjectString: true,
    withNullPrototype: true,
    withBigInt: true,
    withDate: true,
    withTypedArray: true,
    withSparseArray: true,
  })
  .map((v) => {
    try {
      return JSON.stringify(v) ?? 'undefined';
    } catch {
      return 'undefined';
    }
  });

/** Values a client can put in a header (latin1, no control characters, no outer whitespace). */
export const headerSafe = (s: string) => {
  try {
    new Headers({ x: s });
    return [...s].every((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f) && s === s.trim();
  } catch {
    return false;
  }
};
