import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/http.js';
import { buildSplunkRequest, deliverToSplunk } from '../../connectors/splunk.js';
import type { SplunkConfig } from '../../domain/connector.js';
import { type FakeSplunk, hecReply, startFakeSplunk } from '../fakes/splunk.js';
import { FIXED_NOW, referenceSignature, sampleEvent, thrown } from './siem-fixtures.js';

const TOKEN = '11111111-2222-3333-4444-555555555555';
let fake: FakeSplunk;
const ctx = { connectorId: 'c-splunk', host: 'escalate-test', now: () => FIXED_NOW };
const config = (over: Partial<SplunkConfig> = {}): SplunkConfig => ({
  hec_url: fake.url,
  hec_token: TOKEN,
  sourcetype: 'escalate:security',
  timeout: '2s',
  ...over,
});

beforeAll(async () => {
  fake = await startFakeSplunk({ token: TOKEN, indexes: ['security', 'main'] });
});
afterAll(() => fake.close());
afterEach(() => {
  fake.faults.clear();
  fake.received.length = 0;
});

describe('Splunk HEC request', () => {
  it('is the HEC event envelope with Splunk authorization', () => {
    const req = buildSplunkRequest(config({ index: 'security' }), sampleEvent(), ctx);
    expect(req.method).toBe('POST');
    expect(req.url).toBe(`${fake.url}/services/collector/event`);
    expect(req.headers['Authorization']).toBe(`Splunk ${TOKEN}`);
    expect(req.headers['Content-Type']).toBe('application/json');
    const body = JSON.parse(req.body!);
    expect(body).toEqual({
      time: Date.parse('2025-03-03T23:30:15.250-02:00') / 1000,
      host: 'escalate-test',
      source: 'escalate',
      sourcetype: 'escalate:security',
      index: 'security',
      event: sampleEvent(),
    });
    expect(body.time).toBe(1741051815.25);
  });

  it('omits index when unset, uses the configured sourcetype, fills in a derived severity', () => {
    const event = sampleEvent({ severity: undefined, risk_score: 0.95 });
    const body = JSON.parse(buildSplunkRequest(config({ sourcetype: 'custom:st' }), event, ctx).body!);
    expect(body).not.toHaveProperty('index');
    expect(body.sourcetype).toBe('custom:st');
    expect(body.event.severity).toBe('critical');
  });

  it('has no X-Escalate-Signature without a signing secret', () => {
    expect(buildSplunkRequest(config(), sampleEvent(), ctx).headers).not.toHaveProperty(
      'X-Escalate-Signature',
    );
  });
});

describe('deliverToSplunk against the fake HEC', () => {
  it('lands the event, signed over the exact raw body', async () => {
    const result = await deliverToSplunk(
      config({ index: 'security', signing_secret: 'hec-signing' }),
      sampleEvent(),
      ctx,
    );
    expect(result).toMatchObject({ status: 200, remoteCode: '0' });
    expect(result.message).toContain('Success');
    expect(fake.received).toHaveLength(1);
    const got = fake.received[0]!;
    expect(got.envelope['event']).toEqual(sampleEvent());
    expect(got.envelope['index']).toBe('security');
    expect(got.headers['x-escalate-signature']).toBe(referenceSignature('hec-signing', got.rawBody));
  });

  it('wrong token: HEC code 4, fails at once', async () => {
    const err = await thrown(() => deliverToSplunk(config({ hec_token: 'nope' }), sampleEvent(), ctx));
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ status: 403, retryable: false, remoteCode: '4' });
    expect(err.message).toContain('Invalid token');
    expect(fake.received).toHaveLength(0);
  });

  it('index outside the token allow-list: HEC code 7, fails at once', async () => {
    const err = await thrown(() => deliverToSplunk(config({ index: 'secret-index' }), sampleEvent(), ctx));
    expect(err).toMatchObject({ status: 400, retryable: false, remoteCode: '7' });
    expect(err.message).toContain('Incorrect index');
  });

  it('the fake refuses other authorization schemes and a missing token', async () => {
    const post = (headers: Record<string, string>, body = '{"event":"x"}') =>
      fetch(`${fake.url}/services/collector/event`, { method: 'POST', headers, body }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    expect(await post({})).toEqual({ status: 401, body: { text: 'Token is required', code: 2 } });
    expect(await post({ Authorization: `Bearer ${TOKEN}` })).toEqual({
      status: 401,
      body: { text: 'Invalid authorization', code: 3 },
    });
    expect(await post({ Authorization: `Splunk ${TOKEN}` }, '{"event":')).toMatchObject({
      status: 400,
      body: { code: 6 },
    });
    expect(await post({ Authorization: `Splunk ${TOKEN}` }, '{"time":1}')).toMatchObject({
      status: 400,
      body: { code: 12 },
    });
    expect(await post({ Authorization: `Splunk ${TOKEN}` }, '{"event":"a"}{"event":"b"}')).toEqual({
      status: 200,
      body: { text: 'Success', code: 0 },
    });
    expect(fake.received.map((r) => r.envelope['event'])).toEqual(['a', 'b']);
  });

  it.each([
    [9, true],
    [8, true],
    [2, false],
    [3, false],
    [4, false],
    [5, false],
    [6, false],
    [7, false],
    [12, false],
    [13, false],
  ])('HEC code %i → retryable %s', async (code, retryable) => {
    const reply = hecReply(code);
    fake.faults.status(reply.status, { body: reply.body });
    const err = await thrown(() => deliverToSplunk(config(), sampleEvent(), ctx));
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ status: reply.status, retryable, remoteCode: String(code) });
    expect(err.message).toContain(String(reply.body['text']));
  });

  it('HEC code 14 (ack disabled) fails at once even on an odd status', async () => {
    fake.faults.status(400, { body: { text: 'ACK is disabled', code: 14 } });
    expect(await thrown(() => deliverToSplunk(config(), sampleEvent(), ctx))).toMatchObject({
      retryable: false,
      remoteCode: '14',
    });
  });

  it('503 server busy honours Retry-After', async () => {
    fake.faults.status(503, { retryAfter: 7 });
    const err = await thrown(() => deliverToSplunk(config(), sampleEvent(), ctx));
    expect(err).toMatchObject({ status: 503, retryable: true, retryAfterMs: 7000, remoteCode: '9' });
  });

  it('429 from a proxy without a HEC code retries, with Retry-After', async () => {
    fake.faults.status(429, { body: { message: 'slow down' }, retryAfter: 3 });
    const err = await thrown(() => deliverToSplunk(config(), sampleEvent(), ctx));
    expect(err).toMatchObject({ status: 429, retryable: true, retryAfterMs: 3000 });
    expect(err['remoteCode']).toBeUndefined();
  });

  it('a hanging HEC is a retryable timeout', async () => {
    fake.faults.hang();
    const err = await thrown(() => deliverToSplunk(config({ timeout: '200ms' }), sampleEvent(), ctx));
    expect(err).toMatchObject({ retryable: true, remoteCode: 'timeout' });
    expect(err.message).toContain('no response within 200 ms');
  });

  it('a dropped connection is a retryable network error', async () => {
    fake.faults.drop();
    const err = await thrown(() => deliverToSplunk(config(), sampleEvent(), ctx));
    expect(err).toMatchObject({ retryable: true });
    expect(err['status']).toBeUndefined();
    expect(fake.faults.count('/services/collector/event')).toBeGreaterThan(0);
  });

  it('succeeds after a slow answer within the timeout', async () => {
    fake.faults.delay(100);
    await expect(deliverToSplunk(config({ timeout: '2s' }), sampleEvent(), ctx)).resolves.toMatchObject({
      status: 200,
    });
    expect(fake.received).toHaveLength(1);
  });
});
