/**
 * Durations in the API and YAML are strings like "250ms", "60s", "15m", "24h", "5d" or integer
 * milliseconds. Pure, so workflows can use it too.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

export type DurationInput = string | number;

export function parseDuration(input: DurationInput): number {
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0)
      throw new Error(`invalid duration ${input}: expected non-negative integer ms`);
    return input;
  }
  const match = PATTERN.exec(input.trim());
  if (!match) throw new Error(`invalid duration "${input}": use e.g. "250ms", "60s", "15m", "24h", "5d"`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
}

export function tryParseDuration(input: unknown): number | undefined {
  if (typeof input !== 'string' && typeof input !== 'number') return undefined;
  try {
    return parseDuration(input);
  } catch {
    return undefined;
  }
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
