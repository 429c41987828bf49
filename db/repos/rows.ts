import { getTableColumns, type InferSelectModel, type Table } from 'drizzle-orm';

/**
 * A row that a raw statement returned (snake_case, driver values) as drizzle's select would give
 * it: the table's property names, each value through its column's own mapping (dates, bigints).
 */
export function rowOf<T extends Table>(table: T, raw: Record<string, unknown>): InferSelectModel<T> {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as InferSelectModel<T>;
}

/** A timestamp parameter for a raw statement (the driver passes strings through untouched). */
export const at = (date: Date): string => date.toISOString();
