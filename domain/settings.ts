import { z } from 'zod';
import { CONNECTOR_KINDS, durationSchema, httpUrl, retrySpecSchema } from './connector.js';
import { SEVERITIES } from './severity.js';

/** Service-wide settings, from the `settings:` section of ESCALATE_CONFIG. */
export const settingsSchema = z.strictObject({
  auto_push: z.strictObject({ min_severity: z.enum(SEVERITIES).default('critical') }).prefault({}),
  risk_bands: z
    .strictObject({
      critical: z.number().min(0).max(1).default(0.9),
      high: z.number().min(0).max(1).default(0.7),
      medium: z.number().min(0).max(1).default(0.5),
    })
    .refine((b) => b.critical >= b.high && b.high >= b.medium, {
      message: 'bands must satisfy critical ≥ high ≥ medium',
    })
    .prefault({}),
  /** Time a ticket may stay open before SLA escalation, by priority (a rule's `sla` wins). */
  sla: z
    .strictObject({
      critical: durationSchema.default('1h'),
      high: durationSchema.default('4h'),
      medium: durationSchema.default('1d'),
      low: durationSchema.default('5d'),
    })
    .prefault({}),
  /** Close resolved tickets after this long (unset: resolved tickets stay until the ITSM closes them). */
  auto_close_after: durationSchema.optional(),
  /**
   * Jira's search is eventually consistent: after an attempt whose outcome is unknown (timeout, lost
   * response), the next one does not look the issue up sooner than this.
   */
  jira: z.strictObject({ lookup_settle_delay: durationSchema.default('30s') }).prefault({}),
  /** Inbound webhooks. `require_timestamp` unset: the install default (on for new installs). */
  webhooks: z.strictObject({ require_timestamp: z.boolean().optional() }).prefault({}),
  /** Retry overrides per connector kind (a connector's own `retry` still wins). */
  retry: z.partialRecord(z.enum(CONNECTOR_KINDS), retrySpecSchema).default({}),
  notifications: z
    .strictObject({
      /** Recurrences of one ticket are told at most once per window, as one summary with their count. */
      recurrence_window: durationSchema.default('15m'),
    })
    .prefault({}),
  /**
   * Where people reach escalate (e.g. `https://escalate.example.com`): notifications link to the
   * violation's console page there. Unset: they name the event id instead.
   */
  public_url: httpUrl.optional(),
});

export type Settings = z.output<typeof settingsSchema>;

export const defaultSettings = (): Settings => settingsSchema.parse({});
