/**
 * Fake Elasticsearch: `_bulk` (NDJSON that must end with a newline; `create` answers 409
 * version_conflict_engine_exception for an existing `_id`, so retries never duplicate), per-item
 * failures inside a 200 with `errors: true` (injected), ApiKey/Basic auth (401 security_exception),
 * `X-Elastic-Product: Elasticsearch` on every response, and `/_index_template/{name}`.
 */
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type Action, type BulkItem, type EsStore, runBulk } from './elasticsearch-bulk.js';
import { type Env, Faults, faultMiddleware, rawBody, startServer } from './fault.js';

export interface FakeElasticsearchOptions {
  apiKey?: string;
  username?: string;
  password?: string;
  /** What the credentials may do (default: everything). Index keys are names or `prefix-*` patterns. */
  privileges?: { cluster?: string[]; index?: Record<string, string[]> };
}

/** Index privileges that include `create_doc` (Elasticsearch's privilege hierarchy, the part we use). */
const GRANTS: Record<string, string[]> = {
  create_doc: ['create_doc', 'create', 'index', 'write', 'all'],
  create: ['create', 'index', 'write', 'all'],
  index: ['index', 'write', 'all'],
  delete: ['delete', 'write', 'all'],
};

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

  const principal = () => (opts.apiKey !== undefined ? 'escalate-key' : (opts.username ?? 'anonymous'));
  const hasIndexPrivilege = (index: string, privilege: string): boolean => {
    if (!opts.privileges) return true;
    const implied = GRANTS[privilege] ?? [privilege, 'all'];
    return Object.entries(opts.privileges.index ?? {}).some(
      ([pattern, held]) =>
        (pattern === index || (pattern.endsWith('*') && index.startsWith(pattern.slice(0, -1)))) &&
        held.some((p) => implied.includes(p)),
    );
  };
  const hasClusterPrivilege = (privilege: string) =>
    !opts.privileges || (opts.privileges.cluster ?? []).some((p) => p === privilege || p === 'all');
  const BULK_PRIVILEGE: Record<Action, string> = {
    create: 'create_doc',
    index: 'index',
    delete: 'delete',
    update: 'index',
  };

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
    const result = runBulk(body, c.req.param('index'), store, faults.items, (action, index) =>
      hasIndexPrivilege(index, BULK_PRIVILEGE[action])
        ? undefined
        : {
            status: 403,
            type: 'security_exception',
            reason: `action [indices:data/write/bulk[s]] is unauthorized for user [${principal()}] on indices [${index}], this action is granted by the index privileges [${BULK_PRIVILEGE[action]},${action === 'create' ? 'create,' : ''}index,write,all]`,
          },
    );
    if ('error' in result) return send(c, 400, esError(400, result.error.type, result.error.reason));
    received.push(...result.stored);
    return c.json({ took: 1, errors: result.errors, items: result.items });
  };
  app.post('/_bulk', bulk);
  app.put('/_bulk', bulk);
  app.post('/:index/_bulk', bulk);

  app.get('/_security/_authenticate', (c) =>
    c.json({
      username: principal(),
      roles: opts.privileges ? ['escalate_writer'] : ['superuser'],
      enabled: true,
      authentication_realm: {
        name: opts.apiKey !== undefined ? '_es_api_key' : 'native1',
        type: opts.apiKey !== undefined ? '_es_api_key' : 'native',
      },
      authentication_type: opts.apiKey !== undefined ? 'api_key' : 'realm',
    }),
  );

  const hasPrivileges = async (c: Context<Env>) => {
    let body: { cluster?: string[]; index?: { names?: string[] | string; privileges?: string[] }[] };
    try {
      body = JSON.parse(await rawBody(c));
    } catch {
      return send(c, 400, esError(400, 'x_content_parse_exception', 'request body is not valid JSON'));
    }
    const cluster = Object.fromEntries((body.cluster ?? []).map((p) => [p, hasClusterPrivilege(p)]));
    const index: Record<string, Record<string, boolean>> = {};
    for (const entry of body.index ?? []) {
      for (const name of typeof entry.names === 'string' ? [entry.names] : (entry.names ?? [])) {
        index[name] = Object.fromEntries(
          (entry.privileges ?? []).map((p) => [p, hasIndexPrivilege(name, p)]),
        );
      }
    }
    const all = [...Object.values(cluster), ...Object.values(index).flatMap((v) => Object.values(v))];
    return c.json({
      username: principal(),
      has_all_requested: all.every(Boolean),
      cluster,
      index,
      application: {},
    });
  };
  app.get('/_security/user/_has_privileges', hasPrivileges);
  app.post('/_security/user/_has_privileges', hasPrivileges);

  app.put('/_index_template/:name', async (c) => {
    if (!hasClusterPrivilege('manage_index_templates'))
      return send(
        c,
        403,
        esError(
          403,
          'security_exception',
          `action [indices:admin/index_template/put] is unauthorized for user [${principal()}], this action is granted by the cluster privileges [manage_index_templates,manage,all]`,
        ),
      );
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
