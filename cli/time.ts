import { parseDuration } from '../domain/duration.js';

/** Matches what the API accepts for `since`/`until`: an ISO 8601 date-time with an offset. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * `--since`/`--until` values: a duration (`30m`, `24h`, `7d`, as in `domain/duration.ts`) means
 * that long before `now`; an ISO 8601 date-time with an offset passes through unchanged.
 */
export function toTimestamp(input: string, now: Date = new Date()): string {
  const value = input.trim();
  if (ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) return value;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    throw new Error(
      `invalid time "${input}": use a duration before now (e.g. 30m, 24h, 7d) or an ISO date-time such as 2026-01-31T00:00:00Z`,
    );
  }
  return new Date(now.getTime() - ms).toISOString();
}
