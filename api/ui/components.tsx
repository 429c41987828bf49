/** The console's page frame and small shared pieces (tables, badges, fields, forms). */
import { raw } from 'hono/html';
import type { Child, PropsWithChildren } from 'hono/jsx';
import type { Flash } from './session.js';

export interface PageContext {
  /** Label of the signed-in key (never the key). */
  actor: string;
  csrf: string;
  flash?: Flash;
  /** The nav entry to mark (`/ui/deliveries`…). */
  current: string;
}

const NAV: [string, string][] = [
  ['/ui', 'Overview'],
  ['/ui/violations', 'Violations'],
  ['/ui/deliveries', 'Deliveries'],
  ['/ui/tickets', 'Tickets'],
  ['/ui/connectors', 'Connectors'],
  ['/ui/rules', 'Rules'],
  ['/ui/audit', 'Audit'],
];

export const Csrf = (props: { token: string }) => <input type="hidden" name="_csrf" value={props.token} />;

/** A whole HTML document (standards mode) with the console's stylesheet. */
export function Document(props: PropsWithChildren<{ title: string; refreshSeconds?: number }>) {
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          {props.refreshSeconds ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} /> : null}
          <title>{`${props.title} · escalate`}</title>
          <link rel="stylesheet" href="/ui/assets/console.css" />
        </head>
        <body>{props.children}</body>
      </html>
    </>
  );
}

export function Page(props: PropsWithChildren<{ title: string; ctx: PageContext; refreshSeconds?: number }>) {
  const { ctx } = props;
  return (
    <Document title={props.title} refreshSeconds={props.refreshSeconds}>
      <header>
        <a class="brand" href="/ui">
          escalate
        </a>
        <nav>
          {NAV.map(([href, label]) => (
            <a href={href} class={ctx.current === href ? 'current' : undefined}>
              {label}
            </a>
          ))}
          <a href="/docs">API reference</a>
        </nav>
        <form class="who" method="post" action="/ui/logout">
          <span>signed in as {ctx.actor}</span>
          <Csrf token={ctx.csrf} />
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main>
        <h1>{props.title}</h1>
        {ctx.flash ? (
          <div class={`flash ${ctx.flash.kind}`} role={ctx.flash.kind === 'error' ? 'alert' : 'status'}>
            {ctx.flash.text}
          </div>
        ) : null}
        {props.children}
      </main>
    </Document>
  );
}

export const Badge = (props: { value: string | null | undefined; kind?: string }) =>
  props.value ? (
    <span class={`badge ${props.kind ?? props.value}`}>{props.value.replaceAll('_', ' ')}</span>
  ) : (
    <span>-</span>
  );

export const Yes = (props: { value: boolean | null | undefined; yes?: string; no?: string }) =>
  props.value === null || props.value === undefined ? (
    <span class="muted">-</span>
  ) : (
    <Badge
      value={props.value ? (props.yes ?? 'yes') : (props.no ?? 'no')}
      kind={props.value ? 'ok' : 'bad'}
    />
  );

/** `2026-11-20 10:15:02Z` (UTC, to the second). */
export function when(iso: string | null | undefined): string {
  if (!iso) return '-';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

export const Time = (props: { iso: string | null | undefined }) =>
  props.iso ? <time datetime={props.iso}>{when(props.iso)}</time> : <span class="muted">-</span>;

export function Fields(props: { rows: [string, Child][] }) {
  return (
    <dl class="fields">
      {props.rows.map(([label, value]) => (
        <>
          <dt>{label}</dt>
          <dd>
            {value === null || value === undefined || value === '' ? <span class="muted">-</span> : value}
          </dd>
        </>
      ))}
    </dl>
  );
}

export function Table(props: { head: string[]; rows: Child[][]; empty?: string; numeric?: number[] }) {
  if (props.rows.length === 0) return <p class="muted">{props.empty ?? 'nothing to show'}</p>;
  const numeric = new Set(props.numeric ?? []);
  return (
    <table>
      <thead>
        <tr>
          {props.head.map((h, i) => (
            <th class={numeric.has(i) ? 'num' : undefined}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr>
            {row.map((cell, i) => (
              <td class={numeric.has(i) ? 'num' : undefined}>{cell ?? '-'}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A POST button in its own form (a replay, a check…), with the CSRF token. */
export function Action(props: {
  action: string;
  csrf: string;
  label: string;
  kind?: 'secondary' | 'danger';
}) {
  return (
    <form class="inline" method="post" action={props.action}>
      <Csrf token={props.csrf} />
      <button type="submit" class={props.kind}>
        {props.label}
      </button>
    </form>
  );
}

/** "Next page" link keeping the filters, from the API's next_cursor. */
export function Pager(props: {
  base: string;
  query: Record<string, string | undefined>;
  next: string | null;
}) {
  if (!props.next) return null;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(props.query)) if (v) params.set(k, v);
  params.set('cursor', props.next);
  return (
    <p>
      <a href={`${props.base}?${params}`}>Next page →</a>
    </p>
  );
}

export function Select(props: {
  name: string;
  value: string | undefined;
  options: readonly string[];
  any?: string;
}) {
  return (
    <select name={props.name}>
      {props.any !== undefined ? <option value="">{props.any}</option> : null}
      {props.options.map((o) => (
        <option value={o} selected={props.value === o}>
          {o}
        </option>
      ))}
    </select>
  );
}

/** A filter: a labelled select with "any" first. */
export const Choice = (props: {
  label: string;
  name: string;
  value: string | undefined;
  options: readonly string[];
}) => (
  <label>
    {props.label}
    <Select name={props.name} value={props.value} options={props.options} any="any" />
  </label>
);

export const Json = (props: { value: unknown }) => <pre>{JSON.stringify(props.value, null, 2)}</pre>;
