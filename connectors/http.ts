/**
 * The one HTTP layer every connector uses: timeouts, the calling activity's cancellation, bounded
 * response bodies, error classification (retry or fail at once; certificate problems and egress
 * refusals fail at once and say so; whether a failed request may still have had its effect),
 * Retry-After parsing, and a request shape that previews can show with secrets masked. Requests go
 * through undici with the connector's agent (dispatcher.ts: TLS trust, proxy, egress policy). No
 * Temporal imports: activities translate ConnectorError into Temporal failures.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Dispatcher, fetch } from 'undici';
import { dispatcherFor } from './dispatcher.js';
import { EgressDeniedError } from './egress.js';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The body as text, at most MAX_RESPONSE_BYTES of it. */
  text: string;
  /** The body was longer than MAX_RESPONSE_BYTES: the rest was not read. */
  truncated?: boolean;
  durationMs: number;
}

/** Response bodies are read up to this many bytes (none of the APIs we call answers more). */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** Messages we store (attempts, deliveries, failures) are at most this long. */
export const MAX_MESSAGE_CHARS = 1000;

/** Statuses that fail at once: retrying the same request cannot help. */
const PERMANENT = new Set([400, 401, 403, 404, 405, 410, 413, 415, 422]);

export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  /** Remote error code (Splunk HEC code, Elasticsearch error type...). */
  readonly remoteCode?: string;
  readonly durationMs?: number;
  /** The request may have been carried out though no answer came back (timeout, lost response). */
  readonly outcomeUnknown: boolean;

  constructor(
    message: string,
    opts: {
      status?: number;
      retryable: boolean;
      retryAfterMs?: number;
      remoteCode?: string;
      durationMs?: number;
      outcomeUnknown?: boolean;
    },
  ) {
    super(sanitizeMessage(message));
    this.outcomeUnknown = opts.outcomeUnknown ?? false;
    this.status = opts.status;
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.remoteCode = opts.remoteCode;
    this.durationMs = opts.durationMs;
  }
}

export function isRetryableStatus(status: number): boolean {
  if (PERMANENT.has(status)) return false;
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export const excerpt = (text: string, max = 2000): string =>
  text.length > max ? `${text.slice(0, max)}…` : text;

/**
 * One line, printable, at most `max` characters: remote bodies end up in stored messages and
 * logs, and must neither forge lines nor fill the database.
 */
export function sanitizeMessage(text: string, max = MAX_MESSAGE_CHARS): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed.
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/ {2,}/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * The call a connector request belongs to: activities run with the activity's cancellation signal
 * here (activities/context.ts), so every HTTP call stops when its attempt is cancelled or times
 * out, without each connector passing the signal along.
 */
export const callScope = new AsyncLocalStorage<{ signal?: AbortSignal }>();

/** Network failures that prove nothing reached the remote: the request was not carried out. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** TLS verification failures: the server's certificate is not trusted as configured. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The innermost cause (fetch wraps socket errors; proxies wrap them once more) and the last `code` seen. */
function rootCause(err: unknown): { code?: string; message: string } {
  let e = err as { code?: unknown; message?: string; cause?: unknown } | undefined;
  const found: { code?: string; message: string } = { message: (err as Error)?.message ?? String(err) };
  for (let depth = 0; e && depth < 6; depth++, e = e.cause as typeof e) {
    if (typeof e.code === 'string') found.code = e.code;
    if (e.message) found.message = e.message;
  }
  return found;
}

/** The error for a request that got no answer: a refused certificate is permanent, the rest is retried. */
function transportError(
  req: HttpRequest,
  err: unknown,
  timeoutMs: number,
  durationMs: number,
): ConnectorError {
  const e = err as Error & { cause?: unknown };
  const where = `${req.method} ${safeUrl(req.url)}`;
  if (e.cause instanceof EgressDeniedError) {
    return new ConnectorError(`${where}: ${e.cause.message}`, {
      retryable: false,
      remoteCode: 'egress_denied',
      durationMs,
    });
  }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new ConnectorError(`${where}: timeout: no response within ${timeoutMs} ms`, {
      retryable: true,
      remoteCode: 'timeout',
      durationMs,
      outcomeUnknown: true,
    });
  }
  const cause = rootCause(err);
  if (cause.code && CERTIFICATE_CODES.has(cause.code)) {
    const hint =
      cause.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'the certificate does not name this host'
        : "set tls.ca to the CA that issued the server's certificate";
    return new ConnectorError(
      `${where}: TLS certificate problem: ${cause.code} (${cause.message}); ${hint}`,
      {
        retryable: false,
        remoteCode: 'tls_certificate',
        durationMs,
      },
    );
  }
  const proxyRefusal = /Proxy response \((\d{3})\)/.exec(cause.message);
  if (proxyRefusal) {
    const status = Number(proxyRefusal[1]);
    return new ConnectorError(`${where}: the proxy refused the tunnel with HTTP ${status}`, {
      retryable: isRetryableStatus(status),
      remoteCode: 'proxy_refused',
      durationMs,
    });
  }
  return new ConnectorError(`${where}: network error: ${cause.code ?? cause.message}`, {
    retryable: true,
    remoteCode: cause.code ?? 'network',
    durationMs,
    outcomeUnknown: !NOT_SENT.has(cause.code ?? ''),
  });
}

export async function send(
  req: HttpRequest,
  timeoutMs: number,
  opts: { dispatcher?: Dispatcher } = {},
): Promise<HttpResponse> {
  const started = performance.now();
  const cancelled = callScope.getStore()?.signal;
  if (cancelled?.aborted) throw cancelledError(req, 0);
  const signal = cancelled
    ? AbortSignal.any([AbortSignal.timeout(timeoutMs), cancelled])
    : AbortSignal.timeout(timeoutMs);
  let res: Awaited<ReturnType<typeof fetch>>;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      redirect: 'manual',
      // Without one of its own, a request still goes through an agent with the egress policy.
      dispatcher: opts.dispatcher ?? dispatcherFor({}),
    });
  } catch (err) {
    const durationMs = Math.round(performance.now() - started);
    if (cancelled?.aborted) throw cancelledError(req, durationMs);
    throw transportError(req, err, timeoutMs, durationMs);
  }
  let body: { text: string; truncated: boolean };
  try {
    body = await readCapped(res.body as ReadableStream<Uint8Array> | null, MAX_RESPONSE_BYTES);
  } catch (err) {
    const durationMs = Math.round(performance.now() - started);
    if (cancelled?.aborted) throw cancelledError(req, durationMs);
    throw new ConnectorError(
      `${req.method} ${safeUrl(req.url)}: response interrupted: ${(err as Error).message}`,
      { retryable: true, status: res.status, remoteCode: 'network', durationMs, outcomeUnknown: true },
    );
  }
  return {
    status: res.status,
    headers: res.headers as unknown as Headers,
    text: body.text,
    truncated: body.truncated,
    durationMs: Math.round(performance.now() - started),
  };
}

/** Reads at most `max` bytes of a body, then stops reading (the rest is never buffered). */
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number) {
  if (!body) return { text: '', truncated: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > max) {
      chunks.push(value.subarray(0, max - size));
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks)), truncated };
}

/** The attempt was cancelled (or timed out) while its call ran: the call stopped, its effect unknown. */
const cancelledError = (req: HttpRequest, durationMs: number) =>
  new ConnectorError(
    `${req.method} ${safeUrl(req.url)}: cancelled (the attempt was cancelled or timed out)`,
    {
      retryable: true,
      remoteCode: 'cancelled',
      durationMs,
      outcomeUnknown: durationMs > 0,
    },
  );

/** Gateway answers: the origin may have carried the request out behind them. */
const GATEWAY_STATUSES = new Set([502, 504]);

/** Builds the error for a non-success response, keeping the remote message verbatim enough to act on. */
export function errorFromResponse(
  res: HttpResponse,
  remoteMessage: string,
  opts: { retryable?: boolean; remoteCode?: string } = {},
) {
  return new ConnectorError(`HTTP ${res.status}: ${remoteMessage || res.text || '(empty body)'}`, {
    status: res.status,
    retryable: opts.retryable ?? isRetryableStatus(res.status),
    retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
    remoteCode: opts.remoteCode,
    durationMs: res.durationMs,
    outcomeUnknown: GATEWAY_STATUSES.has(res.status),
  });
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** URL without credentials or query string, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

export const basicAuth = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

const SECRET_HEADERS = /^(authorization|dd-api-key|x-api-key|webhook-signature|x-escalate-signature)$/i;

/** The request as a preview may show it: secret headers masked. */
export function maskRequest(req: HttpRequest): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    headers[k] = SECRET_HEADERS.test(k) ? `${v.split(' ')[0] === v ? '' : `${v.split(' ')[0]} `}********` : v;
  }
  return { ...req, headers };
}
