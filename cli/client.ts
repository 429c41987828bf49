/**
 * A small HTTP client for the escalate API: global fetch, bearer auth, `{error: {code, message,
 * details}}` errors turned into {@link ApiError}, unreachable servers into {@link NetworkError}.
 */

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const REQUEST_TIMEOUT_MS = 30_000;

/** The API answered with an error status (exit code 1). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** The parsed error body, printed as is with `--json`. */
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The API could not be reached or did not answer in time (exit code 2). */
export class NetworkError extends Error {
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

export interface ClientOptions {
  baseUrl: string;
  apiKey?: string | undefined;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export type Query = Record<string, string | number | undefined>;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** The page size the API accepts at most (`limit` of the list endpoints). */
export const MAX_PAGE = 500;

export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.apiKey = opts.apiKey || undefined;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  get hasApiKey(): boolean {
    return this.apiKey !== undefined;
  }

  url(path: string, query?: Query): string {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  delete(path: string): Promise<undefined> {
    return this.request<undefined>('DELETE', path);
  }

  /** Follows `next_cursor` until `max` items are collected or the list ends. */
  async list<T>(path: string, query: Query, max: number): Promise<Page<T>> {
    const items: T[] = [];
    let cursor: string | undefined;
    for (;;) {
      const remaining = max - items.length;
      const page = await this.get<Page<T>>(path, {
        ...query,
        limit: Math.min(remaining, MAX_PAGE),
        cursor,
      });
      items.push(...(page.items ?? []).slice(0, remaining));
      const next = page.next_cursor ?? null;
      if (!next || items.length >= max || (page.items ?? []).length === 0) {
        return { items, next_cursor: items.length >= max ? next : null };
      }
      cursor = next;
    }
  }

  async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    const url = this.url(path, opts.query);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey) headers['authorization'] = `Bearer ${this.apiKey}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';

    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new NetworkError(url, describeNetworkError(err, this.timeoutMs));
    }

    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }

    if (!res.ok) {
      const error = isRecord(body) && isRecord(body['error']) ? body['error'] : undefined;
      if (error && typeof error['code'] === 'string') {
        const message = typeof error['message'] === 'string' ? error['message'] : res.statusText;
        throw new ApiError(res.status, error['code'], message, error['details'], body);
      }
      const snippet = text.trim().slice(0, 200) || res.statusText || 'no body';
      throw new ApiError(res.status, `http_${res.status}`, snippet, undefined, body);
    }
    if (body === undefined && text !== '') {
      throw new ApiError(res.status, 'bad_response', `the API answered ${method} ${path} with non-JSON`);
    }
    return body as T;
  }
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${timeoutMs / 1000}s`;
  }
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    // AggregateError (e.g. IPv4 and IPv6 both refused) carries the code but an empty message.
    return cause.message || (typeof code === 'string' ? code : cause.name);
  }
  return err instanceof Error ? err.message : String(err);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
