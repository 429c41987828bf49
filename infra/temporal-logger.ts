/**
 * The Temporal SDK's logs (worker, workflow `log`, activity `Context.log`, forwarded Rust core)
 * written as escalate's pino JSON lines: the SDK's camelCase attributes become the snake_case
 * fields the rest of our logs use, and the ids escalate puts in its workflow ids are lifted out so
 * one `event_id` or `ticket_id` query finds the API's, the workflow's and the activities' lines.
 */
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger } from 'pino';
import { idsFromWorkflowId } from '../workflows/contract.js';
import { workerLogEntries } from './metrics.js';

/** Keys whose snake_case form is not the name we log them under. */
const RENAMED: Record<string, string> = { sdkComponent: 'component' };

const snake = (key: string) => RENAMED[key] ?? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** SDK metadata → pino fields. Errors go under `err` so pino's serializer keeps type and stack. */
export function toLogFields(meta: LogMetadata | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (!meta) return fields;
  for (const key of Object.keys(meta)) {
    const value = meta[key];
    if (value === undefined || key === 'taskToken') continue; // opaque, long, and not for people
    if (value instanceof Error || key === 'error' || key === 'failure') fields.err = value;
    else fields[snake(key)] = value;
  }
  if (typeof fields.workflow_id === 'string')
    for (const [k, v] of Object.entries(idsFromWorkflowId(fields.workflow_id))) fields[k] ??= v;
  return fields;
}

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** A Temporal `Logger` writing through `logger` (its level, redaction and destination apply). */
export function temporalLogger(logger: Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const method = PINO_LEVEL[level] ?? 'info';
    if (level === 'WARN' || level === 'ERROR') {
      const component = typeof meta?.sdkComponent === 'string' ? meta.sdkComponent : 'unknown';
      workerLogEntries.inc({ level: method, component });
    }
    if (!logger.isLevelEnabled(method)) return;
    logger[method](toLogFields(meta), message);
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}
