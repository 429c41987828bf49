import { z } from 'zod';
import { type DurationInput, parseDuration, tryParseDuration } from './duration.js';
import { EVENT_TYPES } from './event.js';
import { DEFAULT_NOTIFY_ON, NOTICE_TYPES, type NoticeType, WEBHOOK_NOTICE_TYPES } from './notification.js';
import {
  DEFAULT_ITSM_RETRY,
  DEFAULT_NOTIFY_RETRY,
  DEFAULT_SIEM_RETRY,
  type RetryPolicyMs,
  type RetrySpec,
  resolveRetry,
} from './retry.js';
import { SEVERITIES, type Severity } from './severity.js';
import { validateTemplate } from './template.js';
import { TICKET_STATUSES } from './ticket-status.js';

export const ITSM_KINDS = ['jira', 'servicenow'] as const;
export const SIEM_KINDS = ['splunk', 'datadog', 'elasticsearch', 'webhook'] as const;
/** Chat notifications: people are told about tickets and failed deliveries. */
export const NOTIFY_KINDS = ['slack', 'teams'] as const;
export const CONNECTOR_KINDS = [...ITSM_KINDS, ...SIEM_KINDS, ...NOTIFY_KINDS] as const;
export type ItsmKind = (typeof ITSM_KINDS)[number];
export type SiemKind = (typeof SIEM_KINDS)[number];
export type NotifyKind = (typeof NOTIFY_KINDS)[number];
export type ConnectorKind = (typeof CONNECTOR_KINDS)[number];

export const isItsmKind = (k: string): k is ItsmKind => (ITSM_KINDS as readonly string[]).includes(k);
export const isSiemKind = (k: string): k is SiemKind => (SIEM_KINDS as readonly string[]).includes(k);
export const isNotifyKind = (k: string): k is NotifyKind => (NOTIFY_KINDS as readonly string[]).includes(k);

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

/**
 * A URL that is itself the credential (Slack incoming webhook, Teams Workflows trigger with its
 * `sig=` query): http(s), query kept as given, no user info or fragment.
 */
export const credentialUrl = z
  .url()
  .max(4096)
  .refine((u) => /^https?:\/\//i.test(u), { message: 'only http(s) URLs are allowed' })
  .refine(
    (u) => {
      // zod runs this check even when z.url() refused the value: never throw.
      const url = URL.canParse(u) ? new URL(u) : undefined;
      return url !== undefined && !url.username && !url.password && !url.hash;
    },
    { message: 'the URL must not carry user info or a fragment' },
  );

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

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** How every connector reaches its service: TLS trust and an optional HTTP(S) proxy. */
const transport = {
  tls: z
    .strictObject({
      /** PEM certificate(s) of the CA that issued the service's certificate (replaces the default trust). */
      ca: z
        .string()
        .max(65_536)
        .regex(PEM_CERTIFICATE, 'a PEM certificate (-----BEGIN CERTIFICATE-----)')
        .optional(),
      /** Accept any certificate: for trials only, never in production. */
      insecure_skip_verify: z.boolean().default(false),
    })
    .optional(),
  /** `http(s)://[user:password@]host:port`; else HTTPS_PROXY/HTTP_PROXY/NO_PROXY of the worker. */
  proxy_url: z
    .url()
    .refine((u) => /^https?:\/\//i.test(u), { message: 'only http(s) proxies are supported' })
    .optional(),
  timeout: durationSchema.optional(),
};

export type TransportConfig = { tls?: { ca?: string; insecure_skip_verify?: boolean }; proxy_url?: string };

/** Fields every ITSM connector understands (templates, transport, timeout). */
const itsmCommon = {
  title_template: templateString.optional(),
  description_template: templateString.optional(),
  ...transport,
};

const shortTemplate = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .superRefine((t, ctx) => {
      const problem = validateTemplate(t);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
const oauthClient = {
  client_id: z.string().min(1).max(256).optional(),
  client_secret: secret.optional(),
};

export const jiraConfigSchema = z
  .strictObject({
    base_url: httpUrl,
    api: z.enum(['cloud', 'datacenter']).default('cloud'),
    /** `basic` (Cloud: email + api_token), `pat` (Data Center), `oauth` (client credentials). */
    auth: z.enum(['basic', 'pat', 'oauth']).optional(),
    email: z.string().min(1).max(320).optional(),
    api_token: secret.optional(),
    pat: secret.optional(),
    ...oauthClient,
    /** Jira Cloud site id: OAuth requests go to the API gateway `{api_url}/ex/jira/{cloud_id}`. */
    cloud_id: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'a Jira Cloud site id (UUID)')
      .optional(),
    /** OAuth token endpoint (Cloud: Atlassian's; Data Center: {base_url}/rest/oauth2/latest/token). */
    token_url: httpUrl.optional(),
    /** Atlassian API gateway (Cloud with OAuth). */
    api_url: httpUrl.optional(),
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
    /** Label templates (rendered; spaces become dashes). */
    labels: z.array(shortTemplate(255)).max(50).optional(),
    /** Component name templates. */
    components: z.array(shortTemplate(255)).max(50).optional(),
    /** Default assignee template (Cloud: accountId; Data Center: user name); a rule's assignee wins. */
    assignee: shortTemplate(255).optional(),
    /** Rendered values, shaped to each field's type from the project's create metadata. */
    custom_fields: z
      .record(
        z.string().regex(/^customfield_\d+$/, 'Jira custom fields are customfield_NNNNN'),
        templateString,
      )
      .optional(),
    /** escalate status → transition name (case-insensitive); unset statuses go by status category. */
    transitions: z.partialRecord(z.enum(TICKET_STATUSES), z.string().trim().min(1).max(255)).optional(),
    /** Resolution name sent with the transition into resolved/closed when its screen has the field. */
    resolution: z.string().trim().min(1).max(255).optional(),
    /** Jira status name → escalate status, overriding the status category. */
    status_map: z.record(z.string(), z.enum(TICKET_STATUSES)).optional(),
    ...itsmCommon,
  })
  .superRefine((c, ctx) => {
    const need = (field: keyof typeof c, why: string) => {
      if (!c[field]) ctx.addIssue({ code: 'custom', path: [field], message: `${field} is required ${why}` });
    };
    const auth = jiraAuthOf(c);
    if (auth === 'basic') {
      if (c.api !== 'cloud')
        ctx.addIssue({ code: 'custom', path: ['auth'], message: 'basic auth is for Jira Cloud; use pat' });
      need('email', 'for Jira Cloud');
      need('api_token', 'for Jira Cloud');
    } else if (auth === 'pat') {
      if (c.api !== 'datacenter')
        ctx.addIssue({ code: 'custom', path: ['auth'], message: 'pat is for Jira Data Center' });
      need('pat', 'for Jira Data Center');
    } else {
      need('client_id', 'for auth "oauth"');
      need('client_secret', 'for auth "oauth"');
      if (c.api === 'cloud')
        need('cloud_id', 'for OAuth on Jira Cloud (requests go through the API gateway)');
    }
  });

/** The Jira auth scheme a config uses: explicit, else basic on Cloud and PAT on Data Center. */
export function jiraAuthOf(c: { auth?: 'basic' | 'pat' | 'oauth'; api: 'cloud' | 'datacenter' }) {
  return c.auth ?? (c.api === 'cloud' ? 'basic' : 'pat');
}

/** A ServiceNow choice value (`state`, `priority`, `severity`...), as the instance stores it. */
const choiceValue = z.string().trim().min(1).max(40);

export const servicenowConfigSchema = z
  .strictObject({
    instance_url: httpUrl,
    /** `basic` (username + password) or `oauth` (client credentials, or the password grant with username + password). */
    auth: z.enum(['basic', 'oauth']).default('basic'),
    username: z.string().min(1).max(256).optional(),
    password: secret.optional(),
    ...oauthClient,
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
    /** severity → `priority` value, for tables where priority is set directly (not from urgency × impact). */
    priority_map: severityMap(choiceValue).optional(),
    /** severity → `severity` value (security incidents: 1 High, 2 Medium, 3 Low). */
    severity_map: severityMap(choiceValue).optional(),
    /**
     * escalate status → `state` value sent outbound; a list adds inbound values (the first is sent).
     * Overrides the table's built-in map per status.
     */
    state_map: z
      .partialRecord(z.enum(TICKET_STATUSES), z.union([choiceValue, z.array(choiceValue).min(1).max(20)]))
      .optional(),
    custom_fields: z
      .record(z.string().regex(/^u_[a-z0-9_]+$/, 'ServiceNow custom fields are u_*'), templateString)
      .optional(),
    close_code: z.string().max(128).optional(),
    ...itsmCommon,
  })
  .superRefine((c, ctx) => {
    const need = (field: keyof typeof c, why: string) => {
      if (!c[field]) ctx.addIssue({ code: 'custom', path: [field], message: `${field} is required ${why}` });
    };
    if (c.auth === 'basic') {
      need('username', 'for basic auth');
      need('password', 'for basic auth');
    } else {
      need('client_id', 'for auth "oauth"');
      need('client_secret', 'for auth "oauth"');
      if (Boolean(c.username) !== Boolean(c.password))
        ctx.addIssue({
          code: 'custom',
          path: [c.username ? 'password' : 'username'],
          message: 'the password grant needs both username and password (omit both for client credentials)',
        });
    }
  });

export const splunkConfigSchema = z.strictObject({
  hec_url: httpUrl,
  hec_token: secret,
  index: z.string().max(256).optional(),
  sourcetype: z.string().max(256).default('escalate:security'),
  host: z.string().max(256).optional(),
  signing_secret: secret.optional(),
  ...transport,
});

export const datadogConfigSchema = z.strictObject({
  logs_url: httpUrl,
  api_key: secret,
  service: z.string().max(256).default('escalate'),
  metrics_url: httpUrl.optional(),
  hostname: z.string().max(256).optional(),
  signing_secret: secret.optional(),
  ...transport,
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
    ...transport,
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
  ...transport,
});

/** Slack: an incoming webhook, or a bot token posting with `chat.postMessage` (threads need the bot). */
export const slackConfigSchema = z
  .strictObject({
    webhook_url: credentialUrl.optional(),
    bot_token: z
      .string()
      .regex(/^xox[a-z]-[A-Za-z0-9-]+$/, 'Slack bot tokens look like xoxb-…')
      .max(4096)
      .optional(),
    /** Channel id (C…, G…) for the bot token; a name posts too, but the lookup before a retry needs the id. */
    channel: z.string().min(1).max(80).optional(),
    /** Slack's Web API; settable for tests and proxies. */
    api_url: httpUrl.default('https://slack.com/api'),
    ...transport,
  })
  .superRefine((c, ctx) => {
    if (c.webhook_url && c.bot_token)
      ctx.addIssue({
        code: 'custom',
        path: ['bot_token'],
        message: 'give webhook_url or bot_token + channel, not both',
      });
    else if (!c.webhook_url && !c.bot_token)
      ctx.addIssue({
        code: 'custom',
        path: ['webhook_url'],
        message: 'webhook_url or bot_token + channel is required',
      });
    else if (c.bot_token && !c.channel)
      ctx.addIssue({ code: 'custom', path: ['channel'], message: 'channel is required with bot_token' });
  });

/** Microsoft Teams: a Workflows "when a Teams webhook request is received" URL. */
export const teamsConfigSchema = z.strictObject({
  webhook_url: credentialUrl,
  ...transport,
});

export const CONFIG_SCHEMAS = {
  jira: jiraConfigSchema,
  servicenow: servicenowConfigSchema,
  splunk: splunkConfigSchema,
  datadog: datadogConfigSchema,
  elasticsearch: elasticsearchConfigSchema,
  webhook: webhookConfigSchema,
  slack: slackConfigSchema,
  teams: teamsConfigSchema,
} as const;

export type JiraConfig = z.output<typeof jiraConfigSchema>;
export type ServiceNowConfig = z.output<typeof servicenowConfigSchema>;
export type SplunkConfig = z.output<typeof splunkConfigSchema>;
export type DatadogConfig = z.output<typeof datadogConfigSchema>;
export type ElasticsearchConfig = z.output<typeof elasticsearchConfigSchema>;
export type WebhookConfig = z.output<typeof webhookConfigSchema>;
export type SlackConfig = z.output<typeof slackConfigSchema>;
export type TeamsConfig = z.output<typeof teamsConfigSchema>;

export interface ConfigByKind {
  jira: JiraConfig;
  servicenow: ServiceNowConfig;
  splunk: SplunkConfig;
  datadog: DatadogConfig;
  elasticsearch: ElasticsearchConfig;
  webhook: WebhookConfig;
  slack: SlackConfig;
  teams: TeamsConfig;
}

/** Write-only fields: encrypted at rest, masked on every read. */
export const SECRET_FIELDS: Record<ConnectorKind, readonly string[]> = {
  jira: ['api_token', 'pat', 'client_secret', 'webhook_secret', 'proxy_url'],
  servicenow: ['password', 'client_secret', 'webhook_secret', 'proxy_url'],
  splunk: ['hec_token', 'signing_secret', 'proxy_url'],
  datadog: ['api_key', 'signing_secret', 'proxy_url'],
  elasticsearch: ['api_key', 'password', 'signing_secret', 'proxy_url'],
  webhook: ['secret', 'proxy_url'],
  // Whoever holds a Slack or Teams webhook URL can post to the channel: it is a credential.
  slack: ['webhook_url', 'bot_token', 'proxy_url'],
  teams: ['webhook_url', 'proxy_url'],
};

/** Config fields holding a URL the connector sends its secrets to. */
export const URL_FIELDS: Record<ConnectorKind, readonly string[]> = {
  jira: ['base_url', 'token_url', 'api_url'],
  servicenow: ['instance_url'],
  splunk: ['hec_url'],
  datadog: ['logs_url', 'metrics_url'],
  elasticsearch: ['url'],
  webhook: ['url'],
  // A webhook URL is itself the secret; a bot token goes to `api_url`.
  slack: ['api_url'],
  teams: [],
};

export const filtersSchema = z.strictObject({
  event_types: z.array(z.enum(EVENT_TYPES)).optional(),
  min_severity: z.enum(SEVERITIES).optional(),
});
export type ConnectorFilters = z.infer<typeof filtersSchema>;

const uniqueNotices = <T extends z.ZodType<string>>(item: T) =>
  z.array(item).refine((l) => new Set(l).size === l.length, { message: 'notify_on must not repeat a type' });

/** `notify_on` of a Slack or Teams connector: which moments it is told about. */
export const notifyOnSchema = uniqueNotices(z.enum(NOTICE_TYPES));
/** `notify_on` of a webhook connector (`[]` turns its `delivery_failed` messages off). */
export const webhookNotifyOnSchema = uniqueNotices(z.enum(WEBHOOK_NOTICE_TYPES));

/** The kinds that take `notify_on`, and what they hear of without one. */
export const NOTIFY_ON_DEFAULTS: Partial<Record<ConnectorKind, readonly NoticeType[]>> = {
  slack: DEFAULT_NOTIFY_ON,
  teams: DEFAULT_NOTIFY_ON,
  webhook: WEBHOOK_NOTICE_TYPES,
};

/** What a connector is told about: its own `notify_on`, else its kind's default (none for the others). */
export function notifyOnOf(
  kind: ConnectorKind,
  stored: readonly NoticeType[] | null | undefined,
): NoticeType[] {
  const defaults = NOTIFY_ON_DEFAULTS[kind];
  if (!defaults) return [];
  return [...(stored ?? defaults)];
}

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
  /** Effective (the kind's default when none is stored). */
  notify_on: NoticeType[];
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
  const base = isItsmKind(kind)
    ? DEFAULT_ITSM_RETRY
    : isNotifyKind(kind)
      ? DEFAULT_NOTIFY_RETRY
      : DEFAULT_SIEM_RETRY;
  return resolveRetry(base, kindOverride, retry);
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
