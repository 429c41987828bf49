/**
 * The API reference, finished in one pass over the registry once every router is mounted: an
 * operationId and a tag for each operation (derived from method and path), the answers every
 * route can give (401/403 from the auth layer, 413/415 from the JSON guard, 503 when PostgreSQL or
 * Temporal is down), example request bodies, the inbound webhooks' bodies and signature headers,
 * and the outbound webhook escalate sends.
 */
import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { violationEventSchema } from '../domain/event.js';
import type { AppEnv } from './env.js';
import { OUTBOUND_WEBHOOK_EXAMPLE, REQUEST_EXAMPLES } from './openapi-examples.js';
import { errorResponse } from './schemas.js';
import { genericWebhookBody, jiraWebhookBody, servicenowWebhookBody } from './webhooks.js';

type RouteConfig = Extract<OpenAPIHono['openAPIRegistry']['definitions'][number], { type: 'route' }>['route'];

/** A last path segment that names what is done rather than a resource: [verb, noun kept in the name]. */
const ACTION_SEGMENTS: Record<string, [string, string?]> = {
  test: ['test'],
  check: ['check'],
  replay: ['replay'],
  preview: ['preview'],
  'dry-run': ['dryRun'],
  'install-template': ['install', 'template'],
  status: ['set', 'status'],
  batch: ['create', 'batch'],
};
const METHOD_VERBS: Record<string, string> = {
  post: 'create',
  patch: 'update',
  put: 'replace',
  delete: 'delete',
};
/** Where the derived name reads poorly. */
const OPERATION_ID_OVERRIDES: Record<string, string> = {
  'get /v1/audit': 'listAuditEntries',
  'get /metrics': 'getMetrics',
};
const TAG_OVERRIDES: Record<string, string> = { replays: 'deliveries' };

const pascal = (s: string) =>
  s
    .split(/[-_]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
const singular = (w: string) => (w.endsWith('ies') ? `${w.slice(0, -3)}y` : w.replace(/s$/, ''));
const isParam = (segment: string | undefined) => segment?.startsWith('{') ?? false;

/** `POST /v1/violations/{event_id}/tickets:preview` → `previewViolationTickets`. */
export function operationIdFor(method: string, path: string): string {
  const override = OPERATION_ID_OVERRIDES[`${method} ${path}`];
  if (override) return override;
  const segments = path.split('/').filter((s) => s && s !== 'v1');
  if (segments[0] === 'webhooks') return `receive${pascal(segments[1] ?? '')}Webhook`;
  const words: string[] = [];
  let verb: string | undefined;
  segments.forEach((segment, i) => {
    if (isParam(segment)) return;
    const [name = '', suffix] = segment.split(':');
    const last = i === segments.length - 1;
    const action = suffix ?? (last && i > 0 ? name : undefined);
    const named = action ? ACTION_SEGMENTS[action] : undefined;
    if (!suffix && named) {
      verb = named[0];
      if (named[1]) words.push(named[1]);
      return;
    }
    words.push(isParam(segments[i + 1]) ? singular(name) : name);
    if (suffix) {
      verb = named?.[0] ?? suffix;
      if (named?.[1]) words.push(named[1]);
    }
  });
  if (!verb) {
    const item = isParam(segments.at(-1));
    if (method === 'get') verb = item || !words.at(-1)?.endsWith('s') ? 'get' : 'list';
    else {
      verb = METHOD_VERBS[method] ?? method;
      if (verb === 'create') words.push(singular(words.pop() ?? ''));
    }
  }
  return verb + words.map(pascal).join('');
}

export function tagFor(path: string): string {
  const first =
    path
      .split('/')
      .filter((s) => s && s !== 'v1')[0]
      ?.split(':')[0] ?? 'operations';
  return TAG_OVERRIDES[first] ?? first;
}

const INGEST_OPERATIONS = new Set(['post /v1/violations', 'post /v1/violations:batch']);

const responses = {
  unauthorized: errorResponse('Missing or unknown API key (the answer carries WWW-Authenticate: Bearer)'),
  forbidden: errorResponse('An ingest key: it may only post violations'),
  unavailable: {
    ...errorResponse('PostgreSQL or Temporal is unavailable: nothing was accepted; retry after Retry-After'),
    headers: z.object({ 'Retry-After': z.string().openapi({ description: 'Seconds', example: '5' }) }),
  },
  invalidJson: errorResponse('Not JSON, invalid UTF-8, or a value that cannot be stored'),
  tooLarge: errorResponse(
    'Body over the size limit (payload_too_large) or holding too many JSON values (too_many_values)',
  ),
  unsupported: errorResponse('Content-Type is not application/json'),
};

const signature = (description: string) =>
  z.string().openapi({
    description,
    example: 'sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  });

/** Inbound webhooks read their raw body (to verify the signature): their schemas are documented here. */
const WEBHOOKS: Record<string, { body: z.ZodType; headers: z.ZodObject }> = {
  '/v1/webhooks/itsm': {
    body: genericWebhookBody,
    headers: z.object({
      'x-escalate-signature': signature(
        'sha256=<hex HMAC-SHA256 keyed by ESCALATE_WEBHOOK_SECRET> of the raw body, or of "<timestamp>.<body>" when X-Escalate-Timestamp is sent',
      ),
      'x-escalate-timestamp': z.string().optional().openapi({
        description: 'Unix seconds; must be within 5 minutes of our clock',
        example: '1795312894',
      }),
    }),
  },
  '/v1/webhooks/jira/{connector_id}': {
    body: jiraWebhookBody,
    headers: z.object({
      'x-hub-signature': signature(
        "sha256=<hex HMAC-SHA256 of the raw body> keyed by the connector's webhook_secret",
      ),
      'x-atlassian-webhook-identifier': z
        .string()
        .optional()
        .openapi({ description: 'Jira retries with the same identifier: a repeat answers `duplicate`' }),
    }),
  },
  '/v1/webhooks/servicenow/{connector_id}': {
    body: servicenowWebhookBody,
    headers: z.object({
      'x-escalate-signature': signature(
        "sha256=<hex HMAC-SHA256 of the raw body> keyed by the connector's webhook_secret (or send Authorization)",
      ).optional(),
      authorization: z
        .string()
        .optional()
        .openapi({ description: "Bearer <the connector's webhook_secret>, instead of the signature" }),
    }),
  },
};

function finishRoute(route: RouteConfig): void {
  const key = `${route.method} ${route.path}`;
  route.operationId ??= operationIdFor(route.method, route.path);
  route.tags ??= [tagFor(route.path)];
  const add = (status: number, response: (typeof route.responses)[string]) => {
    route.responses[status] ??= response;
  };
  const webhook = WEBHOOKS[route.path];
  if (webhook) {
    route.request = {
      ...route.request,
      headers: webhook.headers,
      body: { required: true, content: { 'application/json': { schema: webhook.body } } },
    };
  }
  if (route.path.startsWith('/v1/')) {
    if (!webhook) {
      add(401, responses.unauthorized);
      if (!INGEST_OPERATIONS.has(key)) add(403, responses.forbidden);
    }
    // A route's own 503 keeps its words and gains the Retry-After header.
    const own = route.responses[503];
    route.responses[503] =
      own && !('$ref' in own) ? { ...own, headers: responses.unavailable.headers } : responses.unavailable;
  }
  const json = route.request?.body?.content['application/json'];
  if (json && !('$ref' in json)) {
    json.example ??= REQUEST_EXAMPLES[route.operationId];
    add(400, responses.invalidJson);
    add(413, responses.tooLarge);
    add(415, responses.unsupported);
  }
}

const OutboundWebhookSchema = z.object({
  type: z.literal('violation'),
  timestamp: z.string().openapi({ description: 'When this delivery was signed (ISO 8601)' }),
  data: violationEventSchema,
});

/** Finishes the registry and serves the document at /openapi.json. */
export function serveOpenApi(app: OpenAPIHono<AppEnv>): void {
  for (const def of app.openAPIRegistry.definitions) if (def.type === 'route') finishRoute(def.route);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerWebhook({
    method: 'post',
    path: 'violation',
    operationId: 'violationWebhook',
    tags: ['webhooks'],
    summary: 'What a webhook connector POSTs to its url (Standard Webhooks), once per violation',
    description:
      'Receivers verify webhook-signature: "v1,<base64 HMAC-SHA256>" over "<webhook-id>.<webhook-timestamp>.<body>", ' +
      'keyed by the base64 part of the connector secret (whsec_…). The same X-Escalate-Signature that Splunk, ' +
      'Datadog and Elasticsearch requests carry with a signing_secret is added too. webhook-id is stable per ' +
      'event and connector: a retry or replay repeats it, so receivers de-duplicate on it.',
    security: [],
    request: {
      headers: z.object({
        'webhook-id': z.string().openapi({ example: 'msg_2b6c8a41f0e94d7c9a1b3c5d7e9f0a1b' }),
        'webhook-timestamp': z.string().openapi({ description: 'Unix seconds', example: '1795312894' }),
        'webhook-signature': z
          .string()
          .optional()
          .openapi({ example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=' }),
        'x-escalate-signature': signature(
          'sha256=<hex HMAC-SHA256 of the raw body> keyed by the secret string',
        ).optional(),
      }),
      body: {
        required: true,
        content: { 'application/json': { schema: OutboundWebhookSchema, example: OUTBOUND_WEBHOOK_EXAMPLE } },
      },
    },
    responses: {
      200: { description: 'Any 2xx: delivered' },
      429: { description: '408, 409, 429 and 5xx are retried under the connector retry policy' },
      400: { description: 'Any other answer fails the delivery at once (a replay sends it again)' },
    },
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'escalate',
      version: '0.1.0',
      description:
        'Violations to ITSM tickets and SIEM events, durably. Authenticate with `Authorization: Bearer <key>` ' +
        '(ingest keys may only post violations); inbound webhooks use their own signatures. Errors are ' +
        '`{error: {code, message, details}}`; lists are `{items, next_cursor}`.',
    },
    security: [{ bearer: [] }],
    tags: [
      { name: 'violations', description: 'Accept, list and inspect violations; tickets for one' },
      { name: 'tickets', description: 'Tickets and their lifecycle' },
      {
        name: 'webhooks',
        description: 'Status changes from the ITSM (inbound) and what webhook connectors receive',
      },
      { name: 'connectors', description: 'Jira, ServiceNow and SIEM connectors: configure, check, test' },
      { name: 'deliveries', description: 'Ticket creations and SIEM events with every attempt; replays' },
      { name: 'rules', description: 'Routing rules and their dry run' },
      { name: 'audit', description: 'Who changed what' },
      { name: 'reports', description: 'Summaries and the overview' },
      { name: 'operations', description: 'Probes and metrics' },
      {
        name: 'temporal-codec',
        description:
          "Temporal's codec server: the Web UI and the CLI read payloads ESCALATE_PAYLOAD_KEY encrypts",
      },
    ],
  });
}
