/**
 * Database errors as they may be logged or recorded: drizzle's DrizzleQueryError puts every
 * parameter of the failed query in its message (a violation's whole payload, for an insert), and
 * PostgreSQL's `detail` (and, for data exceptions, the message) quote the values. What remains: the
 * SQL text with its placeholders, the PostgreSQL code, and the names of the table, column and
 * constraint.
 */
import { DrizzleQueryError } from 'drizzle-orm/errors';

const PG_SAFE_FIELDS = [
  'code',
  'severity',
  'routine',
  'schema_name',
  'table_name',
  'column_name',
  'constraint_name',
];

interface PgErrorLike extends Error {
  code?: string;
}

const isPostgresError = (err: unknown): err is PgErrorLike =>
  err instanceof Error && err.name === 'PostgresError';

function scrubPostgresError(err: PgErrorLike): Error {
  // Class 22 (data exception) messages quote the offending value: keep only the code.
  const message = err.code?.startsWith('22') ? `data exception (PostgreSQL ${err.code})` : err.message;
  const safe = Object.assign(new Error(message), { name: 'PostgresError' });
  const source = err as unknown as Record<string, unknown>;
  for (const field of PG_SAFE_FIELDS)
    if (source[field] !== undefined) (safe as unknown as Record<string, unknown>)[field] = source[field];
  safe.stack = `${safe.name}: ${message}`;
  return safe;
}

/** `err` without query parameters or quoted values when it is a database error; else `err`. */
export function scrubDatabaseError(err: unknown): unknown {
  if (err instanceof DrizzleQueryError) {
    const cause = err.cause === undefined ? undefined : scrubDatabaseError(err.cause);
    const safe = Object.assign(new Error(`Failed query: ${err.query}`), {
      name: 'DrizzleQueryError',
      query: err.query,
      cause,
    });
    safe.stack = `${safe.name}: ${safe.message}`;
    return safe;
  }
  return isPostgresError(err) ? scrubPostgresError(err) : err;
}

/** A one-line message for a scrubbed database error: the SQL, PostgreSQL's message and code. */
export function databaseErrorMessage(err: unknown): string | undefined {
  const safe = scrubDatabaseError(err);
  if (safe === err) return undefined;
  const { message, cause } = safe as Error & { cause?: PgErrorLike };
  const pg = cause && isPostgresError(cause) ? cause : (safe as PgErrorLike);
  return pg === safe
    ? `${message} (PostgreSQL ${pg.code})`
    : `${message}: ${pg.message} (PostgreSQL ${pg.code})`;
}
