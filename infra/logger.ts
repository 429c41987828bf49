import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { scrubDatabaseError } from '../db/errors.js';

/**
 * Field names whose values are secrets, at any depth of a logged object: authorization headers,
 * connector secret fields (`api_token`, `hec_token`, `signing_secret`, `pat`, Slack/Teams `webhook_url`...),
 * keys and tokens.
 */
const SECRET_NAME =
  /^(?:authorization|proxy-authorization|cookie|set-cookie|pat|secret|password|passwd|token|apikey|api[_-]?key|dd-api-key|x-api-key|webhook_url|proxy_url|[\w-]*[_-](?:secret|token|password|api[_-]?key))$/i;

const MAX_DEPTH = 12;
const REDACTED = '[redacted]';

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * What may be written of a logged value: errors serialised (database errors without their query
 * values), secret-named fields replaced at any depth, cycles and deep nesting cut.
 */
export function sanitizeForLog(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (value instanceof Error) {
    const safe = scrubDatabaseError(value) as Error;
    const { cause } = safe as { cause?: unknown };
    const serialized: Record<string, unknown> = { ...pino.stdSerializers.err(safe) };
    if (cause !== undefined) serialized.cause = cause;
    return sanitizeForLog(serialized, depth + 1, seen);
  }
  if (Array.isArray(value)) return value.map((v) => sanitizeForLog(v, depth + 1, seen));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value))
    out[key] = SECRET_NAME.test(key) ? REDACTED : sanitizeForLog(v, depth + 1, seen);
  return out;
}

export function createLogger(
  opts: { level?: string; name?: string; destination?: DestinationStream } = {},
): Logger {
  const options: LoggerOptions = {
    name: opts.name ?? 'escalate',
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    // Every logged object goes through here first (errors included: `err` is already plain).
    formatters: { log: (obj) => sanitizeForLog(obj) as Record<string, unknown> },
    serializers: { err: (err: unknown) => err },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
