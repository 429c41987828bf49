/**
 * Fake webhook receiver that verifies what a careful Standard Webhooks consumer verifies, with its
 * own node:crypto implementation (independent of connectors/signing.ts): `webhook-id`,
 * `webhook-timestamp` within the tolerance, `webhook-signature` (any `v1,` entry matching
 * HMAC-SHA256 over `id.timestamp.body` keyed by the base64 secret after `whsec_`), and
 * optionally `X-Escalate-Signature`. A repeated `webhook-id` is acknowledged but stored once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { type Env, Faults, faultMiddleware, rawBody, startServer } from './fault.js';

export interface FakeWebhookOptions {
  /** `whsec_<base64>`; when set, unsigned or wrongly signed requests get 401. */
  secret?: string;
  /** When set, `X-Escalate-Signature: sha256=<hex>` keyed by this string is required too. */
  escalateSecret?: string;
  toleranceSeconds?: number;
}

export interface WebhookReceived {
  id: string;
  timestamp: number;
  payload: Record<string, unknown>;
  rawBody: string;
  headers: Record<string, string>;
  path: string;
}

function sameBytes(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function validStandardSignature(
  secret: string,
  id: string,
  timestamp: string,
  body: string,
  header: string,
): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return header
    .split(' ')
    .map((entry) => entry.split(','))
    .some(
      ([version, signature]) => version === 'v1' && signature !== undefined && sameBytes(signature, expected),
    );
}

function validEscalateSignature(secret: string, body: string, header: string | undefined): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return header !== undefined && sameBytes(header, expected);
}

export async function startFakeWebhookReceiver(opts: FakeWebhookOptions = {}) {
  const faults = new Faults();
  const received: WebhookReceived[] = [];
  const seen = new Set<string>();
  const counters = { deliveries: 0, duplicates: 0, rejected: 0 };
  const tolerance = opts.toleranceSeconds ?? 300;
  const app = new Hono<Env>();

  app.use(
    '*',
    faultMiddleware(faults, (status) => ({ error: `HTTP ${status}` })),
  );
  app.post('*', async (c) => {
    counters.deliveries += 1;
    const reject = (status: 400 | 401, error: string) => {
      counters.rejected += 1;
      return c.json({ error }, status);
    };
    const body = await rawBody(c);
    const id = c.req.header('webhook-id');
    const timestamp = c.req.header('webhook-timestamp');
    if (!id || !timestamp) return reject(400, 'missing webhook-id or webhook-timestamp');
    if (!/^\d+$/.test(timestamp)) return reject(400, 'webhook-timestamp must be integer seconds');
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > tolerance)
      return reject(400, 'webhook-timestamp outside tolerance');
    if (opts.secret) {
      const signature = c.req.header('webhook-signature');
      if (!signature) return reject(401, 'missing webhook-signature');
      if (!validStandardSignature(opts.secret, id, timestamp, body, signature))
        return reject(401, 'invalid webhook-signature');
    }
    if (
      opts.escalateSecret &&
      !validEscalateSignature(opts.escalateSecret, body, c.req.header('x-escalate-signature'))
    ) {
      return reject(401, 'invalid X-Escalate-Signature');
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return reject(400, 'body is not JSON');
    }
    if (seen.has(id)) {
      counters.duplicates += 1;
      return c.json({ ok: true, duplicate: true });
    }
    seen.add(id);
    received.push({
      id,
      timestamp: Number(timestamp),
      payload: payload as Record<string, unknown>,
      rawBody: body,
      headers: Object.fromEntries(c.req.raw.headers),
      path: new URL(c.req.url).pathname,
    });
    return c.json({ ok: true });
  });

  const server = await startServer(app, faults);
  return {
    url: `${server.url}/hooks/escalate`,
    baseUrl: server.url,
    received,
    counters,
    faults,
    close: server.close,
  };
}

export type FakeWebhookReceiver = Awaited<ReturnType<typeof startFakeWebhookReceiver>>;
