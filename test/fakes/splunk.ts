/**
 * Fake Splunk HTTP Event Collector. Enforces what HEC enforces: `Authorization: Splunk <token>`
 * only (code 2 without it, 3 for another scheme, 4 for an unknown token), JSON event envelopes
 * (one or several concatenated objects; code 6 otherwise), a non-blank `event` field (12/13),
 * an index allow-list (code 7) and a numeric `time`. Replies `{"text","code"}` like HEC.
 */
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type Env, Faults, faultMiddleware, rawBody, startServer, type TlsOptions } from './fault.js';

export interface FakeSplunkOptions {
  token: string;
  /** Indexes the token may write to; unset = any. */
  indexes?: string[];
  /** Serve HTTPS with this key and certificate (HEC ships a self-signed one). */
  tls?: TlsOptions;
}

export interface HecReceived {
  envelope: Record<string, unknown>;
  headers: Record<string, string>;
  rawBody: string;
}

/** HEC's reply texts by code. */
export const HEC_TEXT: Record<number, [number, string]> = {
  0: [200, 'Success'],
  1: [403, 'Token disabled'],
  2: [401, 'Token is required'],
  3: [401, 'Invalid authorization'],
  4: [403, 'Invalid token'],
  5: [400, 'No data'],
  6: [400, 'Invalid data format'],
  7: [400, 'Incorrect index'],
  8: [500, 'Internal server error'],
  9: [503, 'Server is busy'],
  12: [400, 'Event field is required'],
  13: [400, 'Event field cannot be blank'],
  17: [200, 'HEC is healthy'],
};

/** A reply body with code `code` (and its HTTP status) as HEC sends it. */
export function hecReply(
  code: number,
  extra: Record<string, unknown> = {},
): { status: number; body: Record<string, unknown> } {
  const [status, text] = HEC_TEXT[code] ?? [400, 'Unknown error'];
  return { status, body: { text, code, ...extra } };
}

function defaultErrorBody(status: number): unknown {
  if (status === 503) return hecReply(9).body;
  if (status === 500) return hecReply(8).body;
  return { text: `HTTP ${status}` };
}

/** HEC accepts several JSON objects back to back in one body; returns undefined when unreadable. */
export function parseConcatenatedJson(body: string): unknown[] | undefined {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}') {
      depth--;
      if (depth < 0) return undefined;
      if (depth === 0) {
        try {
          values.push(JSON.parse(body.slice(start, i + 1)));
        } catch {
          return undefined;
        }
      }
    } else if (depth === 0 && !/\s/.test(ch ?? '')) return undefined;
  }
  return depth === 0 && !inString ? values : undefined;
}

export async function startFakeSplunk(opts: FakeSplunkOptions) {
  const faults = new Faults();
  const received: HecReceived[] = [];
  const app = new Hono<Env>();
  const reply = (c: Context<Env>, code: number, extra: Record<string, unknown> = {}) => {
    const r = hecReply(code, extra);
    return c.json(r.body, r.status as ContentfulStatusCode);
  };

  app.use('*', faultMiddleware(faults, defaultErrorBody));
  app.get('/services/collector/health', (c) => reply(c, 17));
  app.post('/services/collector/event', async (c) => {
    const auth = c.req.header('authorization');
    if (!auth) return reply(c, 2);
    const match = /^Splunk (\S+)$/.exec(auth);
    if (!match) return reply(c, 3);
    if (match[1] !== opts.token) return reply(c, 4);
    const body = await rawBody(c);
    if (body.trim() === '') return reply(c, 5);
    const envelopes = parseConcatenatedJson(body);
    if (!envelopes || envelopes.length === 0) return reply(c, 6, { 'invalid-event-number': 0 });
    for (const [n, envelope] of envelopes.entries()) {
      const e = envelope as Record<string, unknown>;
      if (!('event' in e)) return reply(c, 12, { 'invalid-event-number': n });
      if (e['event'] === null || e['event'] === '') return reply(c, 13, { 'invalid-event-number': n });
      if (e['time'] !== undefined && !Number.isFinite(Number(e['time'])))
        return reply(c, 6, { 'invalid-event-number': n });
      if (e['index'] !== undefined && opts.indexes && !opts.indexes.includes(String(e['index']))) {
        return reply(c, 7, { 'invalid-event-number': n });
      }
    }
    const headers = Object.fromEntries(c.req.raw.headers);
    for (const envelope of envelopes)
      received.push({ envelope: envelope as Record<string, unknown>, headers, rawBody: body });
    return reply(c, 0);
  });

  const server = await startServer(app, faults, opts.tls);
  return { url: server.url, received, faults, close: server.close };
}

export type FakeSplunk = Awaited<ReturnType<typeof startFakeSplunk>>;
