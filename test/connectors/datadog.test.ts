import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildDatadogLogRequest,
  buildDatadogMetricRequest,
  buildDatadogRequests,
  datadogTag,
  deliverToDatadog,
} from '../../connectors/datadog.js';
import { ConnectorError } from '../../connectors/http.js';
import type { DatadogConfig } from '../../domain/connector.js';
import { type FakeDatadog, startFakeDatadog } from '../fakes/datadog.js';
import { FIXED_NOW, referenceSignature, sampleEvent, thrown } from './siem-fixtures.js';

const API_KEY = 'dd-api-key-0123456789abcdef';
let fake: FakeDatadog;
const ctx = { connectorId: 'c-dd', host: 'escalate-test', now: () => FIXED_NOW };
const config = (over: Partial<DatadogConfig> = {}): DatadogConfig => ({
  logs_url: fake.url,
  api_key: API_KEY,
  service: 'escalate',
  timeout: '2s',
  ...over,
});

beforeAll(async () => {
  fake = await startFakeDatadog({ apiKey: API_KEY });
});
afterAll(() => fake.close());
afterEach(() => {
  fake.faults.clear();
  fake.logs.length = 0;
  fake.series.length = 0;
});

describe('Datadog requests', () => {
  it('log: array body with reserved attributes, ddtags as a comma string, the event under `escalate`', () => {
    const req = buildDatadogLogRequest(config({ service: 'sec-pipeline' }), sampleEvent(), ctx);
    expect(req).toMatchObject({ method: 'POST', url: `${fake.url}/api/v2/logs` });
    expect(req.headers).toMatchObject({ 'DD-API-KEY': API_KEY, 'Content-Type': 'application/json' });
    const body = JSON.parse(req.body!);
    expect(Array.isArray(body)).toBe(true);
    expect(body).toHaveLength(1);
    expect(body[0]).toEqual({
      ddsource: 'escalate',
      ddtags: 'event_type:policy_violation,severity:high,team:payments,env:prod',
      hostname: 'escalate-test',
      service: 'sec-pipeline',
      status: 'error',
      message: '[escalate] high policy_violation: Prompt contained a customer credit card number',
      escalate: sampleEvent(),
    });
  });

  it('tag values cannot break the comma-separated ddtags', () => {
    expect(datadogTag('team name', 'a,b c')).toBe('team_name:a_b_c');
    const event = sampleEvent({ tags: { region: 'eu, west' } });
    const log = JSON.parse(buildDatadogLogRequest(config(), event, ctx).body!)[0];
    expect(log.ddtags.split(',')).toEqual(['event_type:policy_violation', 'severity:high', 'region:eu_west']);
  });

  it('metric: a v2 count series of escalate.violations tagged with event type and severity', () => {
    expect(buildDatadogMetricRequest(config(), sampleEvent(), ctx)).toBeUndefined();
    const req = buildDatadogMetricRequest(
      config({ metrics_url: 'https://api.example.test' }),
      sampleEvent(),
      ctx,
    )!;
    expect(req.url).toBe('https://api.example.test/api/v2/series');
    expect(req.headers['DD-API-KEY']).toBe(API_KEY);
    expect(JSON.parse(req.body!)).toEqual({
      series: [
        {
          metric: 'escalate.violations',
          type: 1,
          points: [{ timestamp: FIXED_NOW.getTime() / 1000, value: 1 }],
          tags: ['event_type:policy_violation', 'severity:high'],
          resources: [{ name: 'escalate-test', type: 'host' }],
        },
      ],
    });
    expect(
      buildDatadogRequests(config({ metrics_url: 'https://api.example.test' }), sampleEvent(), ctx),
    ).toHaveLength(2);
  });
});

describe('deliverToDatadog against the fake intake', () => {
  it('202: the log lands, signed over the raw body', async () => {
    const result = await deliverToDatadog(config({ signing_secret: 'dd-sign' }), sampleEvent(), ctx);
    expect(result.status).toBe(202);
    expect(result.message).toContain('log accepted');
    expect(fake.logs).toHaveLength(1);
    const got = fake.logs[0]!;
    expect(got.item['escalate']).toEqual(sampleEvent());
    expect(got.headers['x-escalate-signature']).toBe(referenceSignature('dd-sign', got.rawBody));
    expect(fake.series).toHaveLength(0);
  });

  it('also sends the count metric when metrics_url is set, signed too', async () => {
    const result = await deliverToDatadog(
      config({ metrics_url: fake.url, signing_secret: 'dd-sign' }),
      sampleEvent(),
      ctx,
    );
    expect(result.message).toContain('metric sent');
    expect(fake.series).toHaveLength(1);
    const got = fake.series[0]!;
    expect(got.item).toMatchObject({
      metric: 'escalate.violations',
      type: 1,
      tags: ['event_type:policy_violation', 'severity:high'],
    });
    expect(got.headers['x-escalate-signature']).toBe(referenceSignature('dd-sign', got.rawBody));
  });

  it('a failed metric does not fail the delivered log', async () => {
    fake.faults.status(503, { path: '/api/v2/series' });
    const result = await deliverToDatadog(config({ metrics_url: fake.url }), sampleEvent(), ctx);
    expect(result.status).toBe(202);
    expect(result.message).toMatch(/metric failed: HTTP 503/);
    expect(fake.logs).toHaveLength(1);
    expect(fake.series).toHaveLength(0);
  });

  it('a failed log sends no metric (a retry must not count twice)', async () => {
    fake.faults.status(500, { path: '/api/v2/logs' });
    await thrown(() => deliverToDatadog(config({ metrics_url: fake.url }), sampleEvent(), ctx));
    expect(fake.faults.count('/api/v2/series')).toBe(0);
  });

  it('a wrong API key is a permanent 403 with the remote message', async () => {
    const err = await thrown(() => deliverToDatadog(config({ api_key: 'wrong' }), sampleEvent(), ctx));
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ status: 403, retryable: false });
    expect(err.message).toContain('Forbidden');
    expect(fake.logs).toHaveLength(0);
  });

  it.each([
    [400, false],
    [401, false],
    [403, false],
    [413, false],
    [408, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
  ])('HTTP %i → retryable %s', async (status, retryable) => {
    fake.faults.status(status);
    const err = await thrown(() => deliverToDatadog(config(), sampleEvent(), ctx));
    expect(err).toMatchObject({ status, retryable });
  });

  it('keeps detailed v2 error bodies', async () => {
    fake.faults.status(400, {
      body: { errors: [{ status: '400', title: 'Bad Request', detail: 'ddtags too long' }] },
    });
    const err = await thrown(() => deliverToDatadog(config(), sampleEvent(), ctx));
    expect(err.message).toContain('Bad Request: ddtags too long');
  });

  it('429 honours Retry-After', async () => {
    fake.faults.status(429, { retryAfter: 12 });
    expect(await thrown(() => deliverToDatadog(config(), sampleEvent(), ctx))).toMatchObject({
      retryable: true,
      retryAfterMs: 12_000,
    });
  });

  it('a hang is a retryable timeout', async () => {
    fake.faults.hang('/api/v2/logs');
    const err = await thrown(() => deliverToDatadog(config({ timeout: '200ms' }), sampleEvent(), ctx));
    expect(err).toMatchObject({ retryable: true, remoteCode: 'timeout' });
  });

  it('the fake enforces the contract: ddtags must be a string, body must be JSON', async () => {
    const post = (body: string) =>
      fetch(`${fake.url}/api/v2/logs`, {
        method: 'POST',
        headers: { 'DD-API-KEY': API_KEY, 'Content-Type': 'application/json' },
        body,
      });
    expect((await post('[{"message":"m","ddtags":["a:b"]}]')).status).toBe(400);
    expect((await post('not json')).status).toBe(400);
    const ok = await post('{"message":"single"}');
    expect(ok.status).toBe(202);
    expect(await ok.json()).toEqual({});
    const noKey = await fetch(`${fake.url}/api/v2/logs`, { method: 'POST', body: '[]' });
    expect(noKey.status).toBe(403);
    expect(await noKey.json()).toEqual({ errors: ['Forbidden'] });
  });
});
