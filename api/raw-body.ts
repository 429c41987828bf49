import type { Context } from 'hono';
import { ApiProblem } from './errors.js';
import { storageIssues } from './json-body.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The exact body text (signatures cover these bytes), refused past `maxBytes` without buffering it all. */
export async function readRawBody(c: Context, maxBytes: number): Promise<string> {
  if (Number(c.req.header('content-length') ?? 0) > maxBytes)
    throw new ApiProblem(413, 'payload_too_large', `body exceeds ${maxBytes} bytes`);
  const body = c.req.raw.body;
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new ApiProblem(413, 'payload_too_large', `body exceeds ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    return decoder.decode(Buffer.concat(chunks));
  } catch {
    throw new ApiProblem(400, 'invalid_encoding', 'body is not valid UTF-8');
  }
}

export function parseJsonBody(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ApiProblem(400, 'invalid_json', `body is not valid JSON: ${(err as Error).message}`);
  }
  const issues = storageIssues(parsed);
  if (issues.length)
    throw new ApiProblem(400, 'validation_failed', 'body holds values that cannot be stored', issues);
  return parsed;
}
