import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { ApiProblem } from './errors.js';

/** Keyset pagination over (created_at desc, id desc): stable under concurrent inserts. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

export function cursorCondition(cursor: string | undefined, at: PgColumn, id: PgColumn): SQL | undefined {
  if (!cursor) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ApiProblem(400, 'invalid_cursor', 'cursor is not one this API issued');
  }
  if (
    !Array.isArray(parsed) ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    Number.isNaN(Date.parse(parsed[0]))
  ) {
    throw new ApiProblem(400, 'invalid_cursor', 'cursor is not one this API issued');
  }
  const when = new Date(parsed[0]);
  return or(lt(at, when), and(eq(at, when), lt(id, parsed[1])));
}

export const newestFirst = (at: PgColumn, id: PgColumn) => [desc(at), desc(id)];

export function page<T extends { createdAt: Date; id: string | number }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    next_cursor: rows.length > limit && last ? encodeCursor(last.createdAt, String(last.id)) : null,
  };
}
