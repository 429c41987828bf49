import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildElasticsearchRequest,
  deliverToElasticsearch,
  elasticsearchIndexName,
} from '../../connectors/elasticsearch.js';
import { buildIndexTemplateRequest, installIndexTemplate } from '../../connectors/elasticsearch-template.js';
import { ConnectorError } from '../../connectors/http.js';
import type { ElasticsearchConfig } from '../../domain/connector.js';
import { type FakeElasticsearch, startFakeElasticsearch } from '../fakes/elasticsearch.js';
import { FIXED_NOW, referenceSignature, sampleEvent, thrown } from './siem-fixtures.js';

const API_KEY = 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==';
let fake: FakeElasticsearch;
const ctx = { connectorId: 'c-es', now: () => FIXED_NOW };
const config = (over: Partial<ElasticsearchConfig> = {}): ElasticsearchConfig => ({
  url: fake.url,
  api_key: API_KEY,
  index_prefix: 'escalate',
  timeout: '2s',
  ...over,
});
const event = sampleEvent();
// occurred_at 2025-03-03T23:30:15.250-02:00 is 2025-03-04 01:30 UTC
const INDEX = 'escalate-2025.03.04';

beforeAll(async () => {
  fake = await startFakeElasticsearch({ apiKey: API_KEY, username: 'elastic', password: 'changeme' });
});
afterAll(() => fake.close());
afterEach(() => {
  fake.faults.clear();
  fake.store.clear();
  fake.received.length = 0;
  fake.templates.clear();
});

describe('Elasticsearch bulk request', () => {
  it('is one create action with _id = event_id into the UTC day index, NDJSON with a trailing newline', () => {
    const req = buildElasticsearchRequest(config(), event, ctx);
    expect(req).toMatchObject({ method: 'POST', url: `${fake.url}/_bulk` });
    expect(req.headers).toMatchObject({
      'Content-Type': 'application/x-ndjson',
      Authorization: `ApiKey ${API_KEY}`,
    });
    expect(req.body!.endsWith('\n')).toBe(true);
    const lines = req.body!.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[0]!)).toEqual({ create: { _index: INDEX, _id: event.event_id } });
    expect(JSON.parse(lines[1]!)).toEqual({ '@timestamp': '2025-03-04T01:30:15.250Z', ...event });
  });

  it('derives the index day in UTC and uses the prefix', () => {
    const newYear = { ...ctx, receivedAt: new Date('2026-01-01T08:00:00Z') };
    expect(
      elasticsearchIndexName(
        config({ index_prefix: 'sec' }),
        sampleEvent({ occurred_at: '2025-12-31T23:59:59Z' }),
        newYear,
      ),
    ).toBe('sec-2025.12.31');
    expect(
      elasticsearchIndexName(config(), sampleEvent({ occurred_at: '2026-01-01T00:30:00+01:00' }), newYear),
    ).toBe('escalate-2025.12.31');
  });

  it('takes the day from occurred_at only within 7 days before / 1 day after the receipt', () => {
    const received = { ...ctx, receivedAt: new Date('2026-05-20T12:00:00Z') };
    const at = (occurred_at: string) =>
      elasticsearchIndexName(config(), sampleEvent({ occurred_at }), received);
    expect(at('2026-05-14T00:00:00Z')).toBe('escalate-2026.05.14');
    expect(at('2026-05-21T11:00:00Z')).toBe('escalate-2026.05.21');
    // Far past, far future, or a year of indices from one ingest key: the day it was received.
    expect(at('2026-05-12T00:00:00Z')).toBe('escalate-2026.05.20');
    expect(at('2026-05-22T00:00:00Z')).toBe('escalate-2026.05.20');
    expect(at('1970-01-01T00:00:00Z')).toBe('escalate-2026.05.20');
    expect(at('9999-12-31T23:59:59Z')).toBe('escalate-2026.05.20');
    // Without a receipt time (a connector test), the delivery time is the reference.
    expect(elasticsearchIndexName(config(), sampleEvent({ occurred_at: '2019-01-01T00:00:00Z' }), ctx)).toBe(
      'escalate-2025.03.04',
    );
  });

  it('uses Basic auth with username + password', () => {
    const req = buildElasticsearchRequest(
      config({ api_key: undefined, username: 'elastic', password: 'changeme' }),
      event,
      ctx,
    );
    expect(req.headers['Authorization']).toBe(`Basic ${Buffer.from('elastic:changeme').toString('base64')}`);
  });
});

describe('deliverToElasticsearch against the fake cluster', () => {
  it('stores the document once, signed over the raw NDJSON', async () => {
    const result = await deliverToElasticsearch(config({ signing_secret: 'es-sign' }), event, ctx);
    expect(result).toMatchObject({ status: 201, remoteCode: 'created' });
    expect(result.message).toContain(`${INDEX}/${event.event_id}`);
    expect(fake.docs()).toEqual([
      { index: INDEX, id: event.event_id, source: { '@timestamp': '2025-03-04T01:30:15.250Z', ...event } },
    ]);
  });

  it('works with Basic auth', async () => {
    const basic = config({ api_key: undefined, username: 'elastic', password: 'changeme' });
    await expect(deliverToElasticsearch(basic, event, ctx)).resolves.toMatchObject({ status: 201 });
  });

  it('a retry of the same event is "already stored" and never a second document', async () => {
    await deliverToElasticsearch(config(), event, ctx);
    const again = await deliverToElasticsearch(config(), event, ctx);
    expect(again).toMatchObject({ status: 409, remoteCode: 'version_conflict_engine_exception' });
    expect(again.message).toContain('already stored');
    expect(fake.docs()).toHaveLength(1);
  });

  it('a lost response then a retry: still exactly one document', async () => {
    fake.faults.loseResponse('/_bulk');
    const err = await thrown(() => deliverToElasticsearch(config(), event, ctx));
    expect(err).toMatchObject({ retryable: true });
    expect(fake.docs()).toHaveLength(1);
    await expect(deliverToElasticsearch(config(), event, ctx)).resolves.toMatchObject({ status: 409 });
    expect(fake.docs()).toHaveLength(1);
    expect(fake.faults.count('/_bulk')).toBe(2);
  });

  it('per-item 429 inside a 200 is retryable, and the retry stores the document', async () => {
    fake.faults.rejectNextItem();
    const err = await thrown(() => deliverToElasticsearch(config(), event, ctx));
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({
      status: 429,
      retryable: true,
      remoteCode: 'es_rejected_execution_exception',
    });
    expect(fake.docs()).toHaveLength(0);
    await expect(deliverToElasticsearch(config(), event, ctx)).resolves.toMatchObject({ status: 201 });
    expect(fake.docs()).toHaveLength(1);
  });

  it('per-item 400 mapper_parsing_exception fails at once with the ES reason', async () => {
    fake.faults.failNextItemMapping('risk_score');
    const err = await thrown(() => deliverToElasticsearch(config(), event, ctx));
    expect(err).toMatchObject({ status: 400, retryable: false, remoteCode: 'mapper_parsing_exception' });
    expect(err.message).toContain('failed to parse field [risk_score]');
  });

  it('an invalid index name is a permanent per-item failure', async () => {
    const err = await thrown(() => deliverToElasticsearch(config({ index_prefix: 'Bad' }), event, ctx));
    expect(err).toMatchObject({ status: 400, retryable: false, remoteCode: 'invalid_index_name_exception' });
  });

  it('wrong credentials: 401 security_exception, permanent', async () => {
    const err = await thrown(() => deliverToElasticsearch(config({ api_key: 'wrong' }), event, ctx));
    expect(err).toMatchObject({ status: 401, retryable: false, remoteCode: 'security_exception' });
    expect(err.message).toContain('unable to authenticate');
  });

  it('whole-request 429 honours Retry-After; 503 retries', async () => {
    fake.faults.status(429, { retryAfter: 4 });
    expect(await thrown(() => deliverToElasticsearch(config(), event, ctx))).toMatchObject({
      status: 429,
      retryable: true,
      retryAfterMs: 4000,
      remoteCode: 'es_rejected_execution_exception',
    });
    fake.faults.status(503);
    expect(await thrown(() => deliverToElasticsearch(config(), event, ctx))).toMatchObject({
      status: 503,
      retryable: true,
    });
    expect(fake.docs()).toHaveLength(0);
  });

  it('a hang is a retryable timeout', async () => {
    fake.faults.hang();
    const err = await thrown(() => deliverToElasticsearch(config({ timeout: '200ms' }), event, ctx));
    expect(err).toMatchObject({ retryable: true, remoteCode: 'timeout' });
  });
});

describe('the fake enforces the Elasticsearch contract', () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${fake.url}/_bulk`, {
      method: 'POST',
      headers: { Authorization: `ApiKey ${API_KEY}`, 'Content-Type': 'application/x-ndjson', ...headers },
      body,
    });

  it('refuses a bulk body without the trailing newline', async () => {
    const res = await post(`{"create":{"_index":"x","_id":"1"}}\n{"a":1}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-elastic-product')).toBe('Elasticsearch');
    const body = (await res.json()) as { error: { type: string; reason: string } };
    expect(body.error.type).toBe('illegal_argument_exception');
    expect(body.error.reason).toBe('The bulk request must be terminated by a newline [\\n]');
  });

  it('sets X-Elastic-Product on every answer, including auth failures and injected faults', async () => {
    expect((await post('', { Authorization: 'ApiKey nope' })).headers.get('x-elastic-product')).toBe(
      'Elasticsearch',
    );
    fake.faults.status(503);
    expect((await post('{}\n')).headers.get('x-elastic-product')).toBe('Elasticsearch');
  });

  it('reports errors:true with per-item statuses in a 200', async () => {
    const line = (id: string) => `{"create":{"_index":"t","_id":"${id}"}}\n{"n":"${id}"}\n`;
    await post(line('a'));
    const res = await post(line('a') + line('b'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      errors: boolean;
      items: { create: { status: number; error?: { type: string } } }[];
    };
    expect(body.errors).toBe(true);
    expect(body.items.map((i) => i.create.status)).toEqual([409, 201]);
    expect(body.items[0]!.create.error?.type).toBe('version_conflict_engine_exception');
  });
});

describe('index template', () => {
  it('PUT /_index_template/{prefix} with the prefix pattern and the event mappings', async () => {
    const req = buildIndexTemplateRequest(config({ signing_secret: 'es-sign' }));
    expect(req).toMatchObject({ method: 'PUT', url: `${fake.url}/_index_template/escalate` });
    expect(req.headers['X-Escalate-Signature']).toBe(referenceSignature('es-sign', req.body!));
    const result = await installIndexTemplate(config());
    expect(result.status).toBe(200);
    const stored = fake.templates.get('escalate') as {
      index_patterns: string[];
      template: {
        mappings: {
          properties: Record<string, { type?: string; properties?: Record<string, { type: string }> }>;
        };
      };
    };
    expect(stored.index_patterns).toEqual(['escalate-*']);
    const props = stored.template.mappings.properties;
    expect(props['event_id']?.type).toBe('keyword');
    expect(props['event_type']?.type).toBe('keyword');
    expect(props['severity']?.type).toBe('keyword');
    expect(props['risk_score']?.type).toBe('float');
    expect(props['occurred_at']?.type).toBe('date');
    expect(props['@timestamp']?.type).toBe('date');
    expect(props['summary']?.type).toBe('text');
    expect(props['user_email']?.type).toBe('keyword');
    expect(props['policy']?.properties?.['id']?.type).toBe('keyword');
    expect(props['policy']?.properties?.['action']?.type).toBe('keyword');
    expect(props['details']?.type).toBe('flattened');
    expect(props['tags']?.type).toBe('flattened');
  });

  it('a refused template throws with the ES error', async () => {
    const err = await thrown(() => installIndexTemplate(config({ api_key: 'wrong' })));
    expect(err).toMatchObject({ status: 401, retryable: false, remoteCode: 'security_exception' });
  });
});
