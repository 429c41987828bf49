/**
 * The console calls the API in-process with the signed-in key, so every action takes the API's own
 * path (validation, Temporal, audit with the key's label) and the console re-implements no rule.
 */

export interface ApiError {
  code: string;
  message: string;
  details?: { path: string; message: string }[] | unknown;
}

export type ApiAnswer<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; error: ApiError };

export type CallApi = <T>(method: string, path: string, body?: unknown) => Promise<ApiAnswer<T>>;

/** Thrown when the page cannot be drawn: the API answered 404, or 5xx (a dependency is down). */
export class PageProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function apiCaller(fetchApi: (req: Request) => Response | Promise<Response>, key: string): CallApi {
  return async <T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetchApi(
      new Request(`http://console.internal${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (res.ok) return { ok: true, status: res.status, data: parsed as T };
    const error = (parsed as { error?: ApiError } | undefined)?.error ?? {
      code: `http_${res.status}`,
      message: text.slice(0, 300) || res.statusText,
    };
    return { ok: false, status: res.status, error };
  };
}

/** The data of a read the page needs; anything else stops the page with the API's message. */
export function needed<T>(answer: ApiAnswer<T>): T {
  if (answer.ok) return answer.data;
  throw new PageProblem(answer.status, answer.error.message);
}

/** An error answer as one readable message, field paths included. */
export function describeApiError(error: ApiError): string {
  const details = Array.isArray(error.details)
    ? error.details
        .map((d) =>
          d && typeof d === 'object' && 'path' in d
            ? `\n• ${String(d.path)}: ${String((d as { message?: unknown }).message)}`
            : '',
        )
        .join('')
    : '';
  return `${error.message}${details}`;
}

/** A query string from form values, leaving out the empty ones. */
export function queryOf(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) params.set(k, v);
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** A date or datetime-local form value (read as UTC) as the ISO time the API takes. */
export function isoFromInput(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) return `${value}:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(value)) return `${value}Z`;
  return value;
}
