import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema.js';

export type Db = PostgresJsDatabase<typeof schema>;

export interface Database {
  db: Db;
  sql: postgres.Sql;
  close(): Promise<void>;
}

/**
 * Seconds a pooled connection waits before connecting again after a failed connect (jittered,
 * capped at 1 s). postgres.js's default grows with the pool's failures to 10–20 s within a few
 * seconds of an outage, and queries queue behind that wait with no deadline: while PostgreSQL
 * was down the API hung for up to ~16 s instead of answering 503, and was still waiting ~10 s
 * after the server was back.
 */
export const reconnectBackoff = (retries: number) =>
  (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1);

export function connectDatabase(url: string, opts: { max?: number } = {}): Database {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 60,
    backoff: reconnectBackoff,
  });
  return { db: drizzle(sql, { schema }), sql, close: () => sql.end({ timeout: 5 }) };
}
