/**
 * A connector check is a list of read-only steps run in order. Each step answers ok or not with a
 * message an admin can act on; a step whose prerequisite failed is reported as skipped (not ok).
 * No step may write anything on the remote side: `POST /v1/connectors/{id}/test` is the one that does.
 */
import { ConnectorError } from '../http.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  message: string;
}

export interface CheckReport {
  ok: boolean;
  checks: CheckResult[];
}

export interface CheckStep<C> {
  name: string;
  /** Steps that must have passed for this one to run (e.g. `authenticate`). */
  needs?: readonly string[];
  /** Whether the step applies to this config at all (e.g. only with an assignment group). */
  applies?: (config: C) => boolean;
  run(config: C, timeoutMs: number): Promise<{ ok: boolean; message: string }>;
}

/** Checks wait at most this long per request: a few steps must fit in one activity attempt. */
export const MAX_CHECK_TIMEOUT_MS = 15_000;

export async function runSteps<C>(
  steps: readonly CheckStep<C>[],
  config: C,
  timeoutMs: number,
): Promise<CheckReport> {
  const checks: CheckResult[] = [];
  const perRequest = Math.min(timeoutMs, MAX_CHECK_TIMEOUT_MS);
  for (const step of steps) {
    if (step.applies && !step.applies(config)) continue;
    const failed = (step.needs ?? []).filter((n) => !checks.find((c) => c.name === n)?.ok);
    if (failed.length) {
      checks.push({ name: step.name, ok: false, message: `skipped: ${failed.join(', ')} did not pass` });
      continue;
    }
    try {
      checks.push({ name: step.name, ...(await step.run(config, perRequest)) });
    } catch (err) {
      checks.push({ name: step.name, ok: false, message: describeFailure(err) });
    }
  }
  return { ok: checks.every((c) => c.ok), checks };
}

function describeFailure(err: unknown): string {
  if (err instanceof ConnectorError) return err.message;
  return `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}
