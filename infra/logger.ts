import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

/** Paths that may carry secrets; pino replaces their values before anything is written. */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'req.headers.authorization',
  'config.api_token',
  'config.pat',
  'config.password',
  'config.hec_token',
  'config.api_key',
  'config.secret',
  'config.signing_secret',
  'config.webhook_secret',
  'config.webhook_url',
  'config.bot_token',
  '*.api_token',
  '*.password',
  '*.hec_token',
  '*.api_key',
  '*.secret',
  '*.webhook_url',
  '*.bot_token',
  'apiKey',
];

export function createLogger(
  opts: { level?: string; name?: string; destination?: DestinationStream } = {},
): Logger {
  const options: LoggerOptions = {
    name: opts.name ?? 'escalate',
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
