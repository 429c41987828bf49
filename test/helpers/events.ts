import { randomUUID } from 'node:crypto';

/** A valid event; its user differs per call so unrelated tests never correlate into one ticket. */
export function makeEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const eventId = randomUUID();
  return {
    event_id: eventId,
    event_type: 'policy_violation',
    summary: 'max-tokens exceeded',
    severity: 'critical',
    occurred_at: '2026-11-20T10:15:00Z',
    source: 'ai-gateway',
    user_email: `alice+${eventId.slice(0, 8)}@example.com`,
    model: 'gpt-5',
    provider: 'openai',
    platform_id: 'prod-eu',
    policy: { id: 'pol-max-tokens', name: 'Max tokens', action: 'block' },
    classifications: [{ type: 'CREDIT_CARD', confidence: 0.97 }],
    details: { tokens: 182_000, limit: 100_000 },
    tags: { team: 'payments' },
    ...overrides,
  };
}

/**
 * Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). The wait is generous on
 * purpose: it ends as soon as the condition holds, and a busy CI machine must not fail a test.
 */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false | null>,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export const FAST_RETRY = {
  maximum_attempts: 5,
  initial_interval: '50ms',
  backoff_coefficient: 2,
  maximum_interval: '500ms',
};

export function jiraConnector(url: string, overrides: Record<string, unknown> = {}) {
  return {
    name: `jira-${randomUUID().slice(0, 8)}`,
    kind: 'jira',
    config: {
      base_url: url,
      api: 'cloud',
      email: 'bot@example.com',
      api_token: 'cloud-token',
      project_key: 'SEC',
      issue_type: 'Task',
    },
    retry: FAST_RETRY,
    ...overrides,
  };
}
