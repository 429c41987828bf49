import { z } from 'zod';
import { retrySpecSchema } from './connector.js';
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
  /** Retry overrides per connector kind (a connector's own `retry` still wins). */
  retry: z
    .partialRecord(
      z.enum(['jira', 'servicenow', 'splunk', 'datadog', 'elasticsearch', 'webhook']),
      retrySpecSchema,
    )
    .default({}),
});

export type Settings = z.output<typeof settingsSchema>;

export const defaultSettings = (): Settings => settingsSchema.parse({});
