/**
 * The one HTTP layer every connector uses: timeouts, error classification (retry or fail at once),
 * Retry-After parsing, and a request shape that previews can show with secrets masked.
 * No Temporal imports: activities translate ConnectorError into Temporal failures.
 */

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  durationMs: number;
}

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

  constructor(
    message: string,
    opts: {
      status?: number;
      retryable: boolean;
      retryAfterMs?: number;
      remoteCode?: string;
      durationMs?: number;
    },
  ) {
    super(message);
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

export async function send(req: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (err) {
    const durationMs = Math.round(performance.now() - started);
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
    const detail = timedOut
      ? `no response within ${timeoutMs} ms`
      : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new ConnectorError(
      `${req.method} ${safeUrl(req.url)}: ${timedOut ? 'timeout' : 'network error'}: ${detail}`,
      {
        retryable: true,
        remoteCode: timedOut ? 'timeout' : (e.cause?.code ?? 'network'),
        durationMs,
      },
    );
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new ConnectorError(
      `${req.method} ${safeUrl(req.url)}: response interrupted: ${(err as Error).message}`,
      {
        retryable: true,
        status: res.status,
        remoteCode: 'network',
        durationMs: Math.round(performance.now() - started),
      },
    );
  }
  return {
    status: res.status,
    headers: res.headers,
    text,
    durationMs: Math.round(performance.now() - started),
  };
}

/** Builds the error for a non-success response, keeping the remote message verbatim enough to act on. */
export function errorFromResponse(
  res: HttpResponse,
  remoteMessage: string,
  opts: { retryable?: boolean; remoteCode?: string } = {},
) {
  return new ConnectorError(
    `HTTP ${res.status}: ${excerpt(remoteMessage || res.text || '(empty body)', 1000)}`,
    {
      status: res.status,
      retryable: opts.retryable ?? isRetryableStatus(res.status),
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      remoteCode: opts.remoteCode,
      durationMs: res.durationMs,
    },
  );
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
