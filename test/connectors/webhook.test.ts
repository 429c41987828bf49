import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/http.js';
import { buildWebhookRequest, deliverToWebhook, webhookMessageId } from '../../connectors/webhook.js';
import type { WebhookConfig } from '../../domain/connector.js';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from '../fakes/webhook-receiver.js';
import { referenceSignature, sampleEvent, thrown } from './siem-fixtures.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
let receiver: FakeWebhookReceiver;
const ctx = { connectorId: 'c-hook' };
const config = (over: Partial<WebhookConfig> = {}): WebhookConfig => ({
  url: receiver.url,
  secret: SECRET,
  timeout: '2s',
  ...over,
});

beforeAll(async () => {
  receiver = await startFakeWebhookReceiver({ secret: SECRET, escalateSecret: SECRET });
});
afterAll(() => receiver.close());
afterEach(() => {
  receiver.faults.clear();
  receiver.received.length = 0;
});

describe('webhook request', () => {
  it('is {type, timestamp, data} with Standard Webhooks headers the reference library accepts', () => {
    const now = new Date();
    const req = buildWebhookRequest(config(), sampleEvent(), { ...ctx, now: () => now });
    expect(req).toMatchObject({ method: 'POST', url: receiver.url });
    expect(req.headers['Content-Type']).toBe('application/json');
    const seconds = Math.floor(now.getTime() / 1000);
    expect(req.headers['webhook-timestamp']).toBe(String(seconds));
    expect(req.headers['webhook-id']).toBe(webhookMessageId('c-hook', sampleEvent().event_id));
    const payload = new Webhook(SECRET).verify(req.body!, req.headers);
    expect(payload).toEqual({
      type: 'violation',
      timestamp: new Date(seconds * 1000).toISOString(),
      data: sampleEvent(),
    });
  });

  it('webhook-id is stable per event and connector and differs across either', () => {
    const id = webhookMessageId('c-hook', 'e-1');
    expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(webhookMessageId('c-hook', 'e-1')).toBe(id);
    expect(webhookMessageId('c-other', 'e-1')).not.toBe(id);
    expect(webhookMessageId('c-hook', 'e-2')).not.toBe(id);
  });

  it('without a secret: id and timestamp, no signatures', () => {
    const req = buildWebhookRequest(config({ secret: undefined }), sampleEvent(), ctx);
    expect(req.headers['webhook-id']).toMatch(/^msg_/);
    expect(req.headers).not.toHaveProperty('webhook-signature');
    expect(req.headers).not.toHaveProperty('X-Escalate-Signature');
  });
});

describe('deliverToWebhook against the verifying receiver', () => {
  it('lands with valid Standard Webhooks and X-Escalate-Signature signatures', async () => {
    const result = await deliverToWebhook(config(), sampleEvent(), ctx);
    expect(result.status).toBe(200);
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.payload['data']).toEqual(sampleEvent());
    expect(new Webhook(SECRET).verify(got.rawBody, got.headers)).toEqual(got.payload);
    expect(got.headers['x-escalate-signature']).toBe(referenceSignature(SECRET, got.rawBody));
  });

  it('a redelivery carries the same webhook-id, so the receiver de-duplicates it', async () => {
    const before = receiver.counters.duplicates;
    const event = sampleEvent({ event_id: randomUUID() });
    await deliverToWebhook(config(), event, ctx);
    await deliverToWebhook(config(), event, ctx);
    expect(receiver.counters.duplicates).toBe(before + 1);
    expect(
      receiver.received.filter(
        (r) => (r.payload['data'] as { event_id: string }).event_id === event.event_id,
      ),
    ).toHaveLength(1);
  });

  it('a wrong secret is refused by the receiver: 401, permanent, remote message kept', async () => {
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    const err = await thrown(() =>
      deliverToWebhook(config({ secret: other }), sampleEvent({ event_id: randomUUID() }), ctx),
    );
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ status: 401, retryable: false });
    expect(err.message).toContain('invalid webhook-signature');
    expect(receiver.received).toHaveLength(0);
  });

  it('an unsigned request is refused by a receiver that expects signatures', async () => {
    const err = await thrown(() => deliverToWebhook(config({ secret: undefined }), sampleEvent(), ctx));
    expect(err).toMatchObject({ status: 401, retryable: false });
  });

  it('a stale timestamp is refused by the receiver', async () => {
    const old = new Date(Date.now() - 3_600_000);
    const err = await thrown(() => deliverToWebhook(config(), sampleEvent(), { ...ctx, now: () => old }));
    expect(err).toMatchObject({ status: 400, retryable: false });
    expect(err.message).toContain('tolerance');
  });

  it.each([
    [400, false],
    [404, false],
    [410, false],
    [422, false],
    [408, true],
    [409, true],
    [429, true],
    [500, true],
    [503, true],
  ])('HTTP %i → retryable %s', async (status, retryable) => {
    receiver.faults.status(status);
    expect(await thrown(() => deliverToWebhook(config(), sampleEvent(), ctx))).toMatchObject({
      status,
      retryable,
    });
  });

  it('429 honours Retry-After given as an HTTP date', async () => {
    receiver.faults.status(429, { retryAfter: new Date(Date.now() + 30_000).toUTCString() });
    const err = await thrown(() => deliverToWebhook(config(), sampleEvent(), ctx));
    expect(err['retryAfterMs']).toBeGreaterThan(25_000);
    expect(err['retryAfterMs']).toBeLessThanOrEqual(30_000);
  });

  it('a hang is a retryable timeout; a dropped connection retries too', async () => {
    receiver.faults.hang();
    expect(
      await thrown(() => deliverToWebhook(config({ timeout: '200ms' }), sampleEvent(), ctx)),
    ).toMatchObject({
      retryable: true,
      remoteCode: 'timeout',
    });
    receiver.faults.drop();
    expect(await thrown(() => deliverToWebhook(config(), sampleEvent(), ctx))).toMatchObject({
      retryable: true,
    });
    expect(receiver.received).toHaveLength(0);
  });
});
