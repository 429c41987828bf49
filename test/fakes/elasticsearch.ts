/**
 * Fake Elasticsearch: `_bulk` (NDJSON that must end with a newline; `create` answers 409
 * version_conflict_engine_exception for an existing `_id`, so retries never duplicate), per-item
 * failures inside a 200 with `errors: true` (injected), ApiKey/Basic auth (401 security_exception),
 * `X-Elastic-Product: Elasticsearch` on every response, and `/_index_template/{name}`.
 */
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type BulkItem, type EsStore, runBulk } from './elasticsearch-bulk.js';
import { type Env, Faults, faultMiddleware, rawBody, startServer } from './fault.js';

export interface FakeElasticsearchOptions {
  apiKey?: string;
  username?: string;
  password?: string;
}

export interface ItemFault {
  status: number;
  type: string;
  reason: string;
}

/** Faults of the whole request plus failures of the next bulk items (inside a 200 answer). */
export class EsFaults extends Faults {
  readonly items: ItemFault[] = [];

  override clear(): void {
    super.clear();
    this.items.length = 0;
  }

  /** The next item is rejected like a full write thread pool (429, retryable). */
  rejectNextItem(): this {
    this.items.push({
      status: 429,
      type: 'es_rejected_execution_exception',
      reason:
        'rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, primary_operation_bytes=812, max_coordinating_and_primary_bytes=53687091]',
    });
    return this;
  }

  /** The next item's document does not fit the mapping (400, permanent). */
  failNextItemMapping(field = 'risk_score'): this {
    this.items.push({
      status: 400,
      type: 'mapper_parsing_exception',
      reason: `failed to parse field [${field}] of type [float] in document. Preview of field's value: 'high'`,
    });
    return this;
  }
}

export function esError(status: number, type: string, reason: string, extra: Record<string, unknown> = {}) {
  const error = { root_cause: [{ type, reason, ...extra }], type, reason, ...extra };
  return { error, status };
}

function defaultErrorBody(status: number): unknown {
  if (status === 429)
    return esError(429, 'es_rejected_execution_exception', 'rejected execution of coordinating operation');
  if (status === 503)
    return esError(503, 'cluster_block_exception', 'blocked by: [SERVICE_UNAVAILABLE/2/no master];');
  return esError(status, 'exception', `HTTP ${status}`);
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/json', 'application/vnd.elasticsearch+x-ndjson'];

export async function startFakeElasticsearch(opts: FakeElasticsearchOptions) {
  const faults = new EsFaults();
  const store: EsStore = new Map();
  const received: BulkItem[] = [];
  const templates = new Map<string, Record<string, unknown>>();
  const app = new Hono<Env>();
  const send = (c: Context<Env>, status: number, body: unknown) =>
    c.json(body, status as ContentfulStatusCode);

  function authorized(header: string | undefined): boolean {
    if (!header) return false;
    const [scheme, value] = header.split(' ', 2);
    if (scheme === 'ApiKey') return opts.apiKey !== undefined && value === opts.apiKey;
    if (scheme === 'Basic' && value && opts.username !== undefined) {
      return Buffer.from(value, 'base64').toString('utf8') === `${opts.username}:${opts.password}`;
    }
    return false;
  }

  app.use('*', async (c, next) => {
    c.header('X-Elastic-Product', 'Elasticsearch');
    await next();
  });
  app.use('*', faultMiddleware(faults, defaultErrorBody));
  app.use('*', async (c, next) => {
    const header = c.req.header('authorization');
    if (authorized(header)) return next();
    const path = new URL(c.req.url).pathname;
    const reason = header
      ? 'unable to authenticate with provided credentials and anonymous access is not allowed for this request'
      : `missing authentication credentials for REST request [${path}]`;
    const challenge = {
      header: { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'ApiKey'] },
    };
    c.header('WWW-Authenticate', 'ApiKey');
    return send(c, 401, esError(401, 'security_exception', reason, challenge));
  });

  app.get('/', (c) =>
    c.json({
      name: 'fake-es',
      cluster_name: 'escalate-test',
      version: { number: '8.15.0' },
      tagline: 'You Know, for Search',
    }),
  );

  const bulk = async (c: Context<Env>) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim();
    if (!NDJSON_TYPES.includes(type)) {
      return send(c, 406, { error: `Content-Type header [${type}] is not supported`, status: 406 });
    }
    const body = await rawBody(c);
    const result = runBulk(body, c.req.param('index'), store, faults.items);
    if ('error' in result) return send(c, 400, esError(400, result.error.type, result.error.reason));
    received.push(...result.stored);
    return c.json({ took: 1, errors: result.errors, items: result.items });
  };
  app.post('/_bulk', bulk);
  app.put('/_bulk', bulk);
  app.post('/:index/_bulk', bulk);

  app.put('/_index_template/:name', async (c) => {
    let body: unknown;
    try {
      body = JSON.parse(await rawBody(c));
    } catch {
      return send(c, 400, esError(400, 'x_content_parse_exception', 'request body is not valid JSON'));
    }
    const patterns = (body as { index_patterns?: unknown })?.index_patterns;
    const list = typeof patterns === 'string' ? [patterns] : patterns;
    if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === 'string')) {
      return send(
        c,
        400,
        esError(
          400,
          'action_request_validation_exception',
          'Validation Failed: 1: index patterns are missing;',
        ),
      );
    }
    templates.set(c.req.param('name'), body as Record<string, unknown>);
    return c.json({ acknowledged: true });
  });
  app.get('/_index_template/:name', (c) => {
    const name = c.req.param('name');
    const template = templates.get(name);
    if (!template) {
      return send(
        c,
        404,
        esError(404, 'resource_not_found_exception', `index template matching [${name}] not found`),
      );
    }
    return c.json({ index_templates: [{ name, index_template: template }] });
  });

  const server = await startServer(app, faults);
  /** Documents currently stored (optionally in one index). */
  const docs = (index?: string): BulkItem[] =>
    [...store].flatMap(([name, byId]) =>
      index === undefined || name === index
        ? [...byId].map(([id, doc]) => ({ index: name, id, source: doc.source }))
        : [],
    );
  return { url: server.url, received, docs, store, templates, faults, close: server.close };
}

export type FakeElasticsearch = Awaited<ReturnType<typeof startFakeElasticsearch>>;
