import { z } from 'zod';
import { type DurationInput, parseDuration, tryParseDuration } from './duration.js';
import { EVENT_TYPES } from './event.js';
import {
  DEFAULT_ITSM_RETRY,
  DEFAULT_SIEM_RETRY,
  type RetryPolicyMs,
  type RetrySpec,
  resolveRetry,
} from './retry.js';
import { SEVERITIES, type Severity } from './severity.js';
import { validateTemplate } from './template.js';

export const ITSM_KINDS = ['jira', 'servicenow'] as const;
export const SIEM_KINDS = ['splunk', 'datadog', 'elasticsearch', 'webhook'] as const;
export const CONNECTOR_KINDS = [...ITSM_KINDS, ...SIEM_KINDS] as const;
export type ItsmKind = (typeof ITSM_KINDS)[number];
export type SiemKind = (typeof SIEM_KINDS)[number];
export type ConnectorKind = (typeof CONNECTOR_KINDS)[number];

export const isItsmKind = (k: string): k is ItsmKind => (ITSM_KINDS as readonly string[]).includes(k);
export const isSiemKind = (k: string): k is SiemKind => (SIEM_KINDS as readonly string[]).includes(k);

export const durationSchema = z
  .union([z.string(), z.number().int().nonnegative()])
  .refine((v) => tryParseDuration(v) !== undefined, {
    message: 'invalid duration: use e.g. "250ms", "60s", "24h", "5d" or ms',
  });

/**
 * A connector's base URL: http(s), and nothing that would let it aim requests elsewhere than the
 * paths the connector appends (a query string or fragment swallowing them, or credentials).
 */
export const MAX_URL_LENGTH = 2048;

/** `url` without trailing slashes; a loop, not /\/+$/ (which backtracks on long runs of slashes). */
function trimTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 0x2f) end--;
  return url.slice(0, end);
}

export const httpUrl = z
  .string()
  .max(MAX_URL_LENGTH, `URLs are at most ${MAX_URL_LENGTH} characters`)
  .pipe(z.url())
  .refine((u) => /^https?:\/\//i.test(u), { message: 'only http(s) URLs are allowed' })
  .superRefine((u, ctx) => {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      return; // z.url() reported it
    }
    if (url.username || url.password)
      ctx.addIssue({
        code: 'custom',
        message: 'credentials in the URL are not allowed: use the secret fields',
      });
    if (u.includes('?') || u.includes('#'))
      ctx.addIssue({ code: 'custom', message: 'a base URL has no query string or fragment' });
  })
  .transform(trimTrailingSlashes);

const secret = z.string().min(1).max(4096);
const templateString = z
  .string()
  .max(32_767)
  .superRefine((t, ctx) => {
    const problem = validateTemplate(t);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const severityMap = <T extends z.ZodType>(value: T) => z.partialRecord(z.enum(SEVERITIES), value);

export const retrySpecSchema = z.strictObject({
  maximum_attempts: z.number().int().min(1).max(100).optional(),
  initial_interval: durationSchema.optional(),
  backoff_coefficient: z.number().min(1).max(10).optional(),
  maximum_interval: durationSchema.optional(),
});

/** Fields every ITSM connector understands (templates, timeout). */
const itsmCommon = {
  title_template: templateString.optional(),
  description_template: templateString.optional(),
  timeout: durationSchema.optional(),
};

export const jiraConfigSchema = z
  .strictObject({
    base_url: httpUrl,
    api: z.enum(['cloud', 'datacenter']).default('cloud'),
    email: z.string().min(1).max(320).optional(),
    api_token: secret.optional(),
    pat: secret.optional(),
    project_key: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]{0,49}$/, 'Jira project keys are upper-case letters/digits'),
    issue_type: z.string().min(1).max(128).default('Task'),
    webhook_secret: secret.optional(),
    /** severity → Jira priority name (or `{id}`); `false` leaves priority unset. */
    priority_map: z
      .union([
        z.literal(false),
        severityMap(z.union([z.string().min(1), z.strictObject({ id: z.string() })])),
      ])
      .optional(),
    labels: z.array(z.string().min(1).max(255)).max(50).optional(),
    custom_fields: z
      .record(
        z.string().regex(/^customfield_\d+$/, 'Jira custom fields are customfield_NNNNN'),
        templateString,
      )
      .optional(),
    /** Jira status name → escalate status, overriding the status category. */
    status_map: z.record(z.string(), z.enum(['open', 'in_progress', 'resolved', 'closed'])).optional(),
    ...itsmCommon,
  })
  .superRefine((c, ctx) => {
    if (c.api === 'cloud') {
      if (!c.email)
        ctx.addIssue({ code: 'custom', path: ['email'], message: 'email is required for Jira Cloud' });
      if (!c.api_token)
        ctx.addIssue({
          code: 'custom',
          path: ['api_token'],
          message: 'api_token is required for Jira Cloud',
        });
    } else if (!c.pat) {
      ctx.addIssue({ code: 'custom', path: ['pat'], message: 'pat is required for Jira Data Center' });
    }
  });

export const servicenowConfigSchema = z.strictObject({
  instance_url: httpUrl,
  username: z.string().min(1).max(256),
  password: secret,
  table: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,79}$/, 'table names are lower-case identifiers')
    .default('incident'),
  assignment_group: z.string().max(256).optional(),
  category: z.string().max(256).optional(),
  subcategory: z.string().max(256).optional(),
  caller_id: z.string().max(256).optional(),
  webhook_secret: secret.optional(),
  /** How inbound webhooks authenticate: an HMAC signature, or (opt-in) the secret as a bearer token. */
  webhook_auth: z.enum(['signature', 'bearer']).default('signature'),
  urgency_impact_map: severityMap(
    z.strictObject({ urgency: z.enum(['1', '2', '3']), impact: z.enum(['1', '2', '3']) }),
  ).optional(),
  custom_fields: z
    .record(z.string().regex(/^u_[a-z0-9_]+$/, 'ServiceNow custom fields are u_*'), templateString)
    .optional(),
  close_code: z.string().max(128).optional(),
  ...itsmCommon,
});

export const splunkConfigSchema = z.strictObject({
  hec_url: httpUrl,
  hec_token: secret,
  index: z.string().max(256).optional(),
  sourcetype: z.string().max(256).default('escalate:security'),
  host: z.string().max(256).optional(),
  signing_secret: secret.optional(),
  timeout: durationSchema.optional(),
});

export const datadogConfigSchema = z.strictObject({
  logs_url: httpUrl,
  api_key: secret,
  service: z.string().max(256).default('escalate'),
  metrics_url: httpUrl.optional(),
  hostname: z.string().max(256).optional(),
  signing_secret: secret.optional(),
  timeout: durationSchema.optional(),
});

export const elasticsearchConfigSchema = z
  .strictObject({
    url: httpUrl,
    api_key: secret.optional(),
    username: z.string().max(256).optional(),
    password: secret.optional(),
    index_prefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]{0,200}$/, 'index prefixes are lower-case')
      .default('escalate'),
    signing_secret: secret.optional(),
    timeout: durationSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (!c.api_key && !(c.username && c.password)) {
      ctx.addIssue({
        code: 'custom',
        path: ['api_key'],
        message: 'api_key or username + password is required',
      });
    }
  });

export const webhookConfigSchema = z.strictObject({
  url: httpUrl,
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]+$/, 'Standard Webhooks secrets look like whsec_<base64>')
    .optional(),
  timeout: durationSchema.optional(),
});

export const CONFIG_SCHEMAS = {
  jira: jiraConfigSchema,
  servicenow: servicenowConfigSchema,
  splunk: splunkConfigSchema,
  datadog: datadogConfigSchema,
  elasticsearch: elasticsearchConfigSchema,
  webhook: webhookConfigSchema,
} as const;

export type JiraConfig = z.output<typeof jiraConfigSchema>;
export type ServiceNowConfig = z.output<typeof servicenowConfigSchema>;
export type SplunkConfig = z.output<typeof splunkConfigSchema>;
export type DatadogConfig = z.output<typeof datadogConfigSchema>;
export type ElasticsearchConfig = z.output<typeof elasticsearchConfigSchema>;
export type WebhookConfig = z.output<typeof webhookConfigSchema>;

export interface ConfigByKind {
  jira: JiraConfig;
  servicenow: ServiceNowConfig;
  splunk: SplunkConfig;
  datadog: DatadogConfig;
  elasticsearch: ElasticsearchConfig;
  webhook: WebhookConfig;
}

/** Write-only fields: encrypted at rest, masked on every read. */
export const SECRET_FIELDS: Record<ConnectorKind, readonly string[]> = {
  jira: ['api_token', 'pat', 'webhook_secret'],
  servicenow: ['password', 'webhook_secret'],
  splunk: ['hec_token', 'signing_secret'],
  datadog: ['api_key', 'signing_secret'],
  elasticsearch: ['api_key', 'password', 'signing_secret'],
  webhook: ['secret'],
};

/** Config fields holding a URL the connector sends its secrets to. */
export const URL_FIELDS: Record<ConnectorKind, readonly string[]> = {
  jira: ['base_url'],
  servicenow: ['instance_url'],
  splunk: ['hec_url'],
  datadog: ['logs_url', 'metrics_url'],
  elasticsearch: ['url'],
  webhook: ['url'],
};

export const filtersSchema = z.strictObject({
  event_types: z.array(z.enum(EVENT_TYPES)).optional(),
  min_severity: z.enum(SEVERITIES).optional(),
});
export type ConnectorFilters = z.infer<typeof filtersSchema>;

/** A connector as activities see it: config with secrets decrypted. Never returned by the API. */
export interface Connector<K extends ConnectorKind = ConnectorKind> {
  id: string;
  name: string;
  kind: K;
  enabled: boolean;
  auto_push: boolean;
  config: ConfigByKind[K];
  filters: ConnectorFilters;
  retry: RetrySpec | null;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export function connectorTimeoutMs(config: { timeout?: DurationInput }): number {
  return config.timeout !== undefined ? parseDuration(config.timeout) : DEFAULT_TIMEOUT_MS;
}

export function retryPolicyFor(
  kind: ConnectorKind,
  retry: RetrySpec | null | undefined,
  kindOverride?: RetrySpec,
): RetryPolicyMs {
  return resolveRetry(isItsmKind(kind) ? DEFAULT_ITSM_RETRY : DEFAULT_SIEM_RETRY, kindOverride, retry);
}

export function passesFilters(
  filters: ConnectorFilters,
  event: { event_type: string; severity: Severity },
): boolean {
  if (
    filters.event_types?.length &&
    !filters.event_types.includes(event.event_type as (typeof EVENT_TYPES)[number])
  )
    return false;
  if (filters.min_severity && SEVERITIES.indexOf(event.severity) < SEVERITIES.indexOf(filters.min_severity))
    return false;
  return true;
}
