import type { Context } from 'hono';
import { type CallApi, needed, queryOf } from './api-client.js';
import type { Page } from './api-types.js';
import type { PageContext } from './components.js';
import type { ConsoleSessions, Session } from './session.js';

export type UiEnv = {
  Variables: { session: Session; api: CallApi; page: PageContext; form: Record<string, string | string[]> };
};

export interface UiDeps {
  sessions: ConsoleSessions;
  /** Where the Temporal Web UI is (ESCALATE_TEMPORAL_UI_URL), to link each violation's run. */
  temporalUi?: { url: string; namespace: string };
}

/** Redirects after a POST with a one-time message for the next page. */
export async function done(c: Context<UiEnv>, deps: UiDeps, to: string, kind: 'ok' | 'error', text: string) {
  await deps.sessions.flash(c, { kind, text });
  return c.redirect(to, 303);
}

/** A single form field (the first, when repeated). */
export const field = (form: Record<string, string | string[]>, name: string): string | undefined => {
  const v = form[name];
  return Array.isArray(v) ? v[0] : v;
};

/** A repeated form field (checkboxes), always as a list. */
export const fields = (form: Record<string, string | string[]>, name: string): string[] => {
  const v = form[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

/**
 * One page of a list endpoint, filtered by the fields of this request's query that the API takes
 * (`convert` turns a form value into the API's, e.g. a date into an ISO time).
 */
export async function listPage<T, N extends string>(
  c: Context<UiEnv>,
  path: string,
  names: readonly N[],
  opts: { limit: number; convert?: Partial<Record<N, (v: string | undefined) => string | undefined>> },
): Promise<{ filter: Record<N, string | undefined>; page: Page<T> }> {
  const q = c.req.query();
  const filter = Object.fromEntries(names.map((n) => [n, q[n] || undefined])) as Record<
    N,
    string | undefined
  >;
  const apiQuery = Object.fromEntries(names.map((n) => [n, opts.convert?.[n]?.(filter[n]) ?? filter[n]]));
  const page = needed(
    await c.get('api')<Page<T>>(
      'GET',
      `${path}${queryOf({ ...apiQuery, cursor: q.cursor, limit: String(opts.limit) })}`,
    ),
  );
  return { filter, page };
}
