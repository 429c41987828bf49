import { z } from 'zod';
import { deriveSeverity, type RiskBands, SEVERITIES, type Severity } from './severity.js';

export const EVENT_TYPES = [
  'policy_violation',
  'anomaly',
  'budget_alert',
  'lockout',
  'test_connection',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const MAX_EVENT_BYTES = 256 * 1024;

const shortText = z.string().min(1).max(256);

export const policySchema = z.looseObject({
  id: shortText.optional(),
  name: z.string().max(512).optional(),
  action: shortText.optional(),
});

export const classificationSchema = z.looseObject({
  type: shortText,
  confidence: z.number().min(0).max(1).optional(),
});

/** The violation event. Unknown top-level fields are kept (loose object). */
export const violationEventSchema = z
  .looseObject({
    event_id: z.uuid(),
    event_type: z.enum(EVENT_TYPES),
    summary: z.string().min(1).max(1000),
    severity: z.enum(SEVERITIES).optional(),
    risk_score: z.number().min(0).max(1).optional(),
    occurred_at: z.iso.datetime({ offset: true }).optional(),
    source: shortText.optional(),
    user_email: z.email().max(320).optional(),
    model: shortText.optional(),
    provider: shortText.optional(),
    platform_id: shortText.optional(),
    policy: policySchema.optional(),
    classifications: z.array(classificationSchema).max(100).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
    tags: z.record(z.string().min(1).max(128), z.string().max(512)).optional(),
  })
  .refine((e) => e.severity !== undefined || e.risk_score !== undefined, {
    message: 'either severity or risk_score is required',
    path: ['severity'],
    // Report it together with the other field errors, not only once they are fixed.
    when: (payload) => typeof payload.value === 'object' && payload.value !== null,
  });

export type ViolationEvent = z.infer<typeof violationEventSchema>;

/**
 * What a workflow carries: everything rules and summaries need, nothing large (no `details`,
 * no unknown fields). The full payload stays in PostgreSQL.
 */
export interface CompactEvent {
  event_id: string;
  event_type: EventType;
  severity: Severity;
  risk_score?: number;
  occurred_at: string;
  summary: string;
  source?: string;
  user_email?: string;
  model?: string;
  provider?: string;
  platform_id?: string;
  policy?: { id?: string; name?: string; action?: string };
  classifications?: { type: string; confidence?: number }[];
  tags?: Record<string, string>;
}

export function compactEvent(event: ViolationEvent, occurredAt: string, bands?: RiskBands): CompactEvent {
  const compact: CompactEvent = {
    event_id: event.event_id,
    event_type: event.event_type,
    severity: deriveSeverity(event, bands),
    occurred_at: occurredAt,
    summary: event.summary.length > 200 ? `${event.summary.slice(0, 199)}…` : event.summary,
  };
  if (event.risk_score !== undefined) compact.risk_score = event.risk_score;
  for (const key of ['source', 'user_email', 'model', 'provider', 'platform_id'] as const) {
    if (event[key] !== undefined) compact[key] = event[key];
  }
  if (event.policy)
    compact.policy = { id: event.policy.id, name: event.policy.name, action: event.policy.action };
  if (event.classifications) {
    compact.classifications = event.classifications.map((c) => ({ type: c.type, confidence: c.confidence }));
  }
  if (event.tags) compact.tags = event.tags;
  return compact;
}
