import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSiemRequests, deliverToSiem } from '../../connectors/siem.js';
import {
  type ConfigByKind,
  datadogConfigSchema,
  elasticsearchConfigSchema,
  SIEM_KINDS,
  type SiemKind,
  splunkConfigSchema,
  webhookConfigSchema,
} from '../../domain/connector.js';
import { type FakeDatadog, startFakeDatadog } from '../fakes/datadog.js';
import { type FakeElasticsearch, startFakeElasticsearch } from '../fakes/elasticsearch.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from '../fakes/webhook-receiver.js';
import { referenceSignature, sampleEvent } from './siem-fixtures.js';

const SIGNING = 'shared-signing-secret';
const WHSEC = `whsec_${randomBytes(32).toString('base64')}`;
let splunk: FakeSplunk;
let datadog: FakeDatadog;
let es: FakeElasticsearch;
let hook: FakeWebhookReceiver;
let configs: { [K in SiemKind]: ConfigByKind[K] };

beforeAll(async () => {
  [splunk, datadog, es, hook] = await Promise.all([
    startFakeSplunk({ token: 'hec-token' }),
    startFakeDatadog({ apiKey: 'dd-key' }),
    startFakeElasticsearch({ apiKey: 'es-key' }),
    startFakeWebhookReceiver({ secret: WHSEC }),
  ]);
  // Configs go through the real schemas, as the API would store them.
  configs = {
    splunk: splunkConfigSchema.parse({
      hec_url: `${splunk.url}/`,
      hec_token: 'hec-token',
      signing_secret: SIGNING,
    }),
    datadog: datadogConfigSchema.parse({
      logs_url: datadog.url,
      api_key: 'dd-key',
      metrics_url: datadog.url,
      signing_secret: SIGNING,
    }),
    elasticsearch: elasticsearchConfigSchema.parse({
      url: es.url,
      api_key: 'es-key',
      signing_secret: SIGNING,
    }),
    webhook: webhookConfigSchema.parse({ url: hook.url, secret: WHSEC }),
  };
});
afterAll(() => Promise.all([splunk.close(), datadog.close(), es.close(), hook.close()]));

const ctx = { connectorId: 'c-1', host: 'escalate-test' };
const secretOf = (kind: SiemKind) => (kind === 'webhook' ? WHSEC : SIGNING);

describe('buildSiemRequests', () => {
  it.each(SIEM_KINDS)('%s: every request carries X-Escalate-Signature over its exact body', (kind) => {
    const requests = buildSiemRequests(kind, configs[kind], sampleEvent(), ctx);
    expect(requests.length).toBe(kind === 'datadog' ? 2 : 1);
    for (const req of requests) {
      expect(req.method).toBe('POST');
      expect(req.body).toBeTypeOf('string');
      expect(req.headers['X-Escalate-Signature']).toBe(referenceSignature(secretOf(kind), req.body!));
    }
  });

  it('refuses a kind that is not a SIEM kind', () => {
    expect(() => buildSiemRequests('jira' as SiemKind, configs.splunk, sampleEvent(), ctx)).toThrow(
      /not a SIEM/,
    );
  });
});

describe('deliverToSiem', () => {
  it('one violation lands in every fake with a valid signature', async () => {
    const event = sampleEvent();
    const results = await Promise.all(
      SIEM_KINDS.map((kind) => deliverToSiem(kind, configs[kind], event, ctx)),
    );
    expect(results.map((r) => r.status)).toEqual([200, 202, 201, 200]);

    const hec = splunk.received[0]!;
    expect(hec.envelope['event']).toEqual(event);
    expect(hec.headers['x-escalate-signature']).toBe(referenceSignature(SIGNING, hec.rawBody));

    const log = datadog.logs[0]!;
    expect(log.item['escalate']).toEqual(event);
    expect(log.headers['x-escalate-signature']).toBe(referenceSignature(SIGNING, log.rawBody));
    expect(datadog.series).toHaveLength(1);

    expect(es.docs()).toHaveLength(1);
    expect(es.docs()[0]!.id).toBe(event.event_id);

    const delivered = hook.received[0]!;
    expect(new Webhook(WHSEC).verify(delivered.rawBody, delivered.headers)).toMatchObject({ data: event });
  });
});
