/** Shared inputs of the SIEM connector tests. */
import { createHmac } from 'node:crypto';
import type { ViolationEvent } from '../../domain/event.js';

export const FIXED_NOW = new Date('2025-03-04T05:06:07.000Z');

export function sampleEvent(overrides: Partial<ViolationEvent> = {}): ViolationEvent {
  return {
    event_id: '6f1c3c52-8a5e-4b7f-9d51-2b8f0e9a7c11',
    event_type: 'policy_violation',
    summary: 'Prompt contained a customer credit card number',
    severity: 'high',
    risk_score: 0.82,
    occurred_at: '2025-03-03T23:30:15.250-02:00',
    source: 'ai-gateway',
    user_email: 'dev@example.com',
    model: 'gpt-4o',
    provider: 'openai',
    platform_id: 'chat-prod',
    policy: { id: 'pol-pci', name: 'PCI data', action: 'block' },
    classifications: [{ type: 'credit_card', confidence: 0.97 }],
    details: { prompt_excerpt: 'card 4111…', nested: { depth: 2 } },
    tags: { team: 'payments', env: 'prod' },
    vendor_field: 'kept',
    ...overrides,
  } as ViolationEvent;
}

/** Independent reference for X-Escalate-Signature (not connectors/signing.ts). */
export const referenceSignature = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(body, 'utf8')).digest('hex')}`;

/** Runs `fn` and returns the error it throws (fails the test when nothing is thrown). */
export async function thrown(fn: () => Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await fn();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to throw');
}
