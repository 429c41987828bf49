import { and, desc, eq, lt, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { ApiProblem } from './errors.js';

/**
 * Keyset pagination over (timestamp desc, id desc): stable under concurrent inserts.
 *
 * The cursor carries the timestamp at PostgreSQL's full precision (microseconds), read as text
 * in SQL: a JavaScript Date holds milliseconds only, and a cursor cut to the millisecond skipped
 * every row that shared the millisecond of a page's last row.
 */
export function encodeCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

/** The column as UTC ISO-8601 text with microseconds: select it next to the row as `cursorAt`. */
export const cursorAt = (at: PgColumn) =>
  sql<string>`to_char(${at} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Cursors issued before microseconds (milliseconds or none) still parse. */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;

const notOurs = () => new ApiProblem(400, 'invalid_cursor', 'cursor is not one this API issued');

export function cursorCondition(cursor: string | undefined, at: PgColumn, id: PgColumn): SQL | undefined {
  if (!cursor) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw notOurs();
  }
  if (
    !Array.isArray(parsed) ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    !CURSOR_TIME.test(parsed[0]) ||
    Number.isNaN(Date.parse(parsed[0]))
  ) {
    throw notOurs();
  }
  const when = sql`${parsed[0]}::timestamptz`;
  return or(lt(at, when), and(eq(at, when), lt(id, parsed[1])));
}

export const newestFirst = (at: PgColumn, id: PgColumn) => [desc(at), desc(id)];

/** The first `limit` rows (the query asked for one more) and the cursor after the last of them. */
export function page<T extends { cursorAt: string }>(rows: T[], limit: number, idOf: (row: T) => string) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    next_cursor: rows.length > limit && last ? encodeCursor(last.cursorAt, idOf(last)) : null,
  };
}
