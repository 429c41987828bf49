import { createHash, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { ApiKey } from './api-keys.js';
import type { AppEnv } from './env.js';
import { apiError } from './errors.js';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Compares digests in constant time, so neither the key nor its length leaks through timing. */
export function findKey(keys: ApiKey[], presented: string): ApiKey | undefined {
  const d = digest(presented);
  let match: ApiKey | undefined;
  for (const k of keys) if (timingSafeEqual(digest(k.key), d)) match = k;
  return match;
}

/** Paths an `ingest` key may use (POST only). */
const INGEST_PATHS = new Set(['/v1/violations', '/v1/violations:batch']);

export function bearerAuth(keys: ApiKey[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const key = match ? findKey(keys, match[1]!.trim()) : undefined;
    if (!key) {
      c.header('WWW-Authenticate', 'Bearer realm="escalate"');
      return apiError(c, 401, 'unauthorized', match ? 'unknown API key' : 'missing bearer API key');
    }
    if (key.scope === 'ingest' && !(c.req.method === 'POST' && INGEST_PATHS.has(c.req.path))) {
      return apiError(c, 403, 'forbidden', 'this API key has the ingest scope: it may only post violations');
    }
    c.set('actor', key.label);
    c.set('scope', key.scope);
    await next();
  });
}
