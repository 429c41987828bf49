/**
 * The API reference: every operation has an operationId and a tag, the answers the middlewares
 * give are documented where they can happen, request bodies carry examples that their own schemas
 * accept, webhooks document their bodies and signature headers, and /docs needs no CDN.
 */
import type { z } from '@hono/zod-openapi';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import { createApp } from '../../api/app.js';
import type { ApiDeps } from '../../api/deps.js';
import { operationIdFor } from '../../api/openapi.js';
import { defaultSettings } from '../../domain/settings.js';
import { SecretBox } from '../../infra/secret-box.js';

type Operation = {
  operationId?: string;
  tags?: string[];
  responses: Record<string, { headers?: Record<string, unknown> }>;
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  security?: unknown[];
};
type Doc = {
  tags: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, Record<string, Operation>>;
};

/** The document only reads the route registry: no database or Temporal behind these deps. */
const app = createApp({
  database: {},
  temporal: {},
  taskQueue: 'q',
  box: new SecretBox(SecretBox.generateKey()),
  settings: defaultSettings(),
  apiKeys: parseApiKeys('k:admin'),
  logger: pino({ level: 'silent' }),
} as unknown as ApiDeps);

let doc: Doc;
let operations: [string, string, Operation][];

beforeAll(async () => {
  doc = (await (await app.request('/openapi.json')).json()) as Doc;
  operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => [method, path, op] as [string, string, Operation]),
  );
});

describe('operations', () => {
  it('each has a unique camelCase operationId and a declared tag', () => {
    expect(operations.length).toBeGreaterThan(35);
    const ids = operations.map(([, , op]) => op.operationId);
    for (const [method, path, op] of operations) {
      expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags?.length, `${method} ${path}`).toBe(1);
      expect(doc.tags.map((t) => t.name)).toContain(op.tags![0]);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('derives readable ids from method and path', () => {
    expect(operationIdFor('post', '/v1/violations')).toBe('createViolation');
    expect(operationIdFor('get', '/v1/violations')).toBe('listViolations');
    expect(operationIdFor('post', '/v1/violations:batch')).toBe('createViolationsBatch');
    expect(operationIdFor('post', '/v1/violations/{event_id}/tickets:preview')).toBe(
      'previewViolationTickets',
    );
    expect(operationIdFor('post', '/v1/tickets/{id}/status')).toBe('setTicketStatus');
    expect(operationIdFor('post', '/v1/tickets/{id}/comments')).toBe('createTicketComment');
    expect(operationIdFor('post', '/v1/connectors/{id}/install-template')).toBe('installConnectorTemplate');
    expect(operationIdFor('post', '/v1/deliveries:replay')).toBe('replayDeliveries');
    expect(operationIdFor('post', '/v1/rules/dry-run')).toBe('dryRunRules');
    expect(operationIdFor('patch', '/v1/rules/{id}')).toBe('updateRule');
    expect(operationIdFor('post', '/v1/webhooks/jira/{connector_id}')).toBe('receiveJiraWebhook');
    expect(operationIdFor('get', '/v1/reports/summary')).toBe('getReportsSummary');
  });

  it('documents 401, 403 and 503 wherever the auth layer or a dependency can answer them', () => {
    for (const [method, path, op] of operations) {
      const where = `${method} ${path}`;
      if (!path.startsWith('/v1/')) continue;
      expect(Object.keys(op.responses), where).toContain('503');
      expect(op.responses['503']!.headers, where).toHaveProperty('Retry-After');
      expect(Object.keys(op.responses), where).toContain('401');
      const ingestAllowed = method === 'post' && ['/v1/violations', '/v1/violations:batch'].includes(path);
      const webhook = path.startsWith('/v1/webhooks/');
      expect(Object.keys(op.responses).includes('403'), where).toBe(!ingestAllowed && !webhook);
    }
  });

  it('every JSON request body has an example its own schema accepts, and 413/415 documented', () => {
    const routes = app.openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' ? [d.route] : []));
    // JSON bodies (the codec's browser sign-in posts a form).
    const withBody = routes.filter((r) => r.request?.body?.content['application/json']);
    expect(withBody.length).toBeGreaterThan(12);
    for (const route of withBody) {
      const media = route.request!.body!.content['application/json'] as {
        schema: z.ZodType;
        example: unknown;
      };
      const where = `${route.method} ${route.path}`;
      expect(media.example, where).toBeDefined();
      const parsed = media.schema.safeParse(media.example);
      expect(parsed.success, `${where}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      expect(Object.keys(route.responses), where).toEqual(expect.arrayContaining(['413', '415']));
    }
  });
});

describe('webhooks', () => {
  it('inbound: the body and the signature headers of each are documented, without an API key', () => {
    const header = (path: string, name: string) =>
      doc.paths[path]!.post!.parameters!.find((p) => p.in === 'header' && p.name === name);
    expect(header('/v1/webhooks/itsm', 'x-escalate-signature')).toMatchObject({ required: true });
    expect(header('/v1/webhooks/itsm', 'x-escalate-timestamp')).toMatchObject({ required: false });
    expect(header('/v1/webhooks/jira/{connector_id}', 'x-hub-signature')).toMatchObject({ required: true });
    expect(header('/v1/webhooks/jira/{connector_id}', 'x-atlassian-webhook-identifier')).toBeDefined();
    expect(header('/v1/webhooks/servicenow/{connector_id}', 'authorization')).toBeDefined();
    for (const path of Object.keys(doc.paths).filter((p) => p.startsWith('/v1/webhooks/'))) {
      const op = doc.paths[path]!.post!;
      expect(op.security).toEqual([]);
      expect(op.requestBody!.content['application/json']!.example).toBeDefined();
    }
  });

  it('outbound: what a webhook connector sends, with the Standard Webhooks and escalate signatures', () => {
    const op = doc.webhooks.violation!.post!;
    expect(op.parameters!.map((p) => p.name)).toEqual([
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
      'x-escalate-signature',
    ]);
    expect(op.requestBody!.content['application/json']!.example).toMatchObject({ type: 'violation' });
  });
});

describe('/docs', () => {
  it('is Swagger UI served from the installed package: every asset is ours, none from a CDN', async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs).toEqual([
      '/docs/assets/favicon-32x32.png',
      '/docs/assets/swagger-ui.css',
      '/docs/assets/swagger-ui-bundle.js',
      '/docs/assets/init.js',
    ]);
    for (const ref of refs) {
      const asset = await app.request(ref);
      expect(asset.status, ref).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, ref).toBeGreaterThan(50);
    }
    expect((await app.request('/docs/assets/../package.json')).status).toBe(404);
    expect((await app.request('/docs/assets/index.html')).status).toBe(404);
  });
});
