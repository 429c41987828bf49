import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './env.js';
import { apiError } from './errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Guards every JSON endpoint before validation: 415 unless the body is JSON, 413 past the size
 * limit (checked while streaming, so a huge body is never buffered), 400 for invalid UTF-8 or
 * JSON. The parsed body is kept as `rawBody` (unknown fields and all).
 */
export function jsonBody(maxBytes: number) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const type = c.req.header('content-type') ?? '';
    // Bodiless calls (test, replay...) pass; endpoints that need a body reject it in validation.
    if (!type && (c.req.header('content-length') ?? '0') === '0' && !c.req.header('transfer-encoding'))
      return next();
    if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
      return apiError(
        c,
        415,
        'unsupported_media_type',
        'request body must be JSON (Content-Type: application/json)',
      );
    }
    const declared = Number(c.req.header('content-length') ?? Number.NaN);
    if (declared > maxBytes) return tooLarge(c, maxBytes);
    const body = c.req.raw.body;
    if (!body) return apiError(c, 400, 'invalid_json', 'request body is empty');
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) return tooLarge(c, maxBytes);
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return apiError(c, 400, 'invalid_encoding', 'request body is not valid UTF-8');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return apiError(c, 400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
    }
    c.set('rawBody', parsed);
    // Validators downstream read the body again; hand them the bytes already read.
    const cache = c.req.bodyCache as Record<string, Promise<unknown>>;
    cache.arrayBuffer = Promise.resolve(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    cache.json = Promise.resolve(parsed);
    await next();
  });
}

const tooLarge = (c: Context, maxBytes: number) =>
  apiError(c, 413, 'payload_too_large', `request body exceeds ${maxBytes} bytes`);
