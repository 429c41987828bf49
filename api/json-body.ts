import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './env.js';
import { apiError, type FieldIssue, issuePath } from './errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Deepest nesting accepted: deeper documents overflow recursive code downstream (hashing, storage). */
export const MAX_JSON_DEPTH = 256;
const MAX_ISSUES = 20;
/** What PostgreSQL text/jsonb cannot hold: NUL, and lone UTF-16 surrogates (not Unicode). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (s: string) => s.includes('\u0000') || LONE_SURROGATE.test(s);
const UNSTORABLE_MESSAGE = 'contains NUL (\\u0000) or an unpaired UTF-16 surrogate';

type Node = { value: unknown; key?: PropertyKey; parent?: Node; depth: number };
const pathOf = (node: Node) => {
  const parts: PropertyKey[] = [];
  for (let n: Node | undefined = node; n?.parent; n = n.parent) parts.push(n.key!);
  return issuePath(parts.reverse());
};

/** Values (strings, numbers, containers...) a single event may hold; a batch, MAX_BATCH_VALUES. */
export const MAX_EVENT_VALUES = 50_000;
export const MAX_BATCH_VALUES = 500_000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;

/**
 * An upper bound on the values a JSON text holds (1 + its `[`, `{` and `,` outside strings),
 * counted on the raw bytes before anything is parsed, stopping as soon as it passes `max`.
 */
export function countJsonValues(bytes: Uint8Array, max: number) {
  let values = 1;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === COMMA || b === OPEN_ARRAY || b === OPEN_OBJECT) {
      if (++values > max) return { exceeded: true, values, stoppedAt: i };
    }
  }
  return { exceeded: false, values, stoppedAt: bytes.length };
}

/**
 * Walks the parsed body (iteratively, breadth first) for what would fail later with a 500. At
 * most `maxValues` values are looked at: past that, one issue says so and the walk stops.
 */
export function storageIssues(root: unknown, maxValues = MAX_BATCH_VALUES): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const queue: Node[] = [{ value: root, depth: 0 }];
  const tooMany = (node: Node, more: number) => {
    if (queue.length + more <= maxValues) return false;
    issues.push({ path: pathOf(node), message: `more than ${maxValues} values` });
    return true;
  };
  for (let i = 0; i < queue.length && issues.length < MAX_ISSUES; i++) {
    const node = queue[i]!;
    const { value } = node;
    queue[i] = undefined as never; // let visited nodes go
    if (typeof value === 'string') {
      if (unstorable(value)) issues.push({ path: pathOf(node), message: UNSTORABLE_MESSAGE });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (node.depth >= MAX_JSON_DEPTH) {
      issues.push({ path: pathOf(node), message: `nested deeper than ${MAX_JSON_DEPTH} levels` });
      continue;
    }
    const depth = node.depth + 1;
    if (Array.isArray(value)) {
      if (tooMany(node, value.length)) break;
      for (let k = 0; k < value.length; k++) queue.push({ value: value[k], key: k, parent: node, depth });
    } else {
      const entries = Object.entries(value);
      if (tooMany(node, entries.length)) break;
      for (const [k, v] of entries) {
        const child = { value: v, key: k, parent: node, depth };
        if (unstorable(k)) issues.push({ path: pathOf(child), message: `key ${UNSTORABLE_MESSAGE}` });
        queue.push(child);
      }
    }
  }
  return issues;
}

/**
 * Guards every JSON endpoint before validation: 415 unless the body is JSON, 413 past the size
 * limit (checked while streaming, so a huge body is never buffered), 413 past `maxValues` values
 * (counted on the bytes, before parsing), 400 for invalid UTF-8 or JSON, and 400 for JSON that
 * cannot be stored (NUL, lone surrogates, nesting past MAX_JSON_DEPTH). The parsed body is kept
 * as `rawBody` (unknown fields and all).
 */
export function jsonBody(maxBytes: number, maxValues: number) {
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
    if (countJsonValues(bytes, maxValues).exceeded)
      return apiError(c, 413, 'too_many_values', `request body holds more than ${maxValues} JSON values`);
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
    const issues = storageIssues(parsed, maxValues);
    if (issues.length) {
      return apiError(
        c,
        400,
        'validation_failed',
        `invalid request: ${issues.map((d) => d.path).join(', ')}`,
        issues,
      );
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
