import Table from 'cli-table3';
import { ApiError, isRecord, NetworkError } from './client.js';

export type Cell = string | number | boolean | null | undefined;

/** A plain (uncoloured) table, so output reads the same in a terminal, a pipe or a log. */
export function table(head: string[], rows: Cell[][]): string {
  const t = new Table({ head, style: { head: [], border: [], compact: true } });
  for (const row of rows) t.push(row.map(cell));
  return t.toString();
}

/** Key/value lines aligned on the keys. */
export function fields(pairs: [string, Cell][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `  ${`${k}:`.padEnd(width + 1)}${cell(v)}`).join('\n');
}

export function cell(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value);
}

export function truncate(value: string | null | undefined, max = 80): string {
  if (!value) return '-';
  const oneLine = value.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `details` paths of a validation error (`[{path, message}]`, or plain strings). */
export function detailLines(details: unknown): string[] {
  if (details === undefined || details === null) return [];
  const list = Array.isArray(details) ? details : [details];
  return list.map((d) => {
    if (isRecord(d) && typeof d['path'] === 'string') {
      return typeof d['message'] === 'string' ? `${d['path']}: ${d['message']}` : d['path'];
    }
    return typeof d === 'string' ? d : JSON.stringify(d);
  });
}

/** `error: <code>: <message>` then one `  - <path>: <message>` line per detail. */
export function formatApiError(code: string, message: string, details?: unknown): string {
  return [`error: ${code}: ${message}`, ...detailLines(details).map((l) => `  - ${l}`)].join('\n');
}

export function describeError(err: unknown, hasApiKey: boolean): string {
  if (err instanceof ApiError) {
    let text = formatApiError(err.code, err.message, err.details);
    if (err.status === 401 && !hasApiKey) text += '\nhint: set ESCALATE_API_KEY or pass --api-key';
    return text;
  }
  if (err instanceof NetworkError) {
    return `error: cannot reach the escalate API at ${err.url}: ${err.message}\nhint: is the API running? set ESCALATE_URL or pass --url`;
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}
