/**
 * Datadog: one log per violation via `POST {logs_url}/api/v2/logs` (array body, `DD-API-KEY`,
 * 202 = accepted) and, when `metrics_url` is set, a count metric `escalate.violations` via
 * `POST {metrics_url}/api/v2/series`.
 *
 * Log shape: the reserved attributes `ddsource`, `ddtags`, `hostname`, `service`, `message` and
 * `status` (Datadog's log level, from the severity) at the top level; the full violation payload
 * under `escalate`, so facets read `@escalate.event_type`, `@escalate.policy.id`, ….
 */
import type { DatadogConfig } from '../domain/connector.js';
import { connectorTimeoutMs } from '../domain/connector.js';
import type { ViolationEvent } from '../domain/event.js';
import type { Severity } from '../domain/severity.js';
import { dispatcherFor } from './dispatcher.js';
import {
  ConnectorError,
  errorFromResponse,
  type HttpRequest,
  type HttpResponse,
  parseJson,
  send,
} from './http.js';
import {
  hostOf,
  jsonHeaders,
  nowOf,
  type SiemContext,
  type SiemResult,
  severityOf,
  shortText,
  siemPayload,
  signed,
} from './siem-common.js';

export const DATADOG_SOURCE = 'escalate';
export const VIOLATIONS_METRIC = 'escalate.violations';
/** `type` of a count series in the v2 metrics API (0 unspecified, 1 count, 2 rate, 3 gauge). */
export const METRIC_TYPE_COUNT = 1;
const MAX_TAG_LENGTH = 200;

const LOG_STATUS: Record<Severity, string> = {
  critical: 'critical',
  high: 'error',
  medium: 'warn',
  low: 'info',
};

/** One `key:value` Datadog tag; commas (the ddtags separator) and whitespace become `_`. */
export function datadogTag(key: string, value: string): string {
  const clean = (s: string) => s.trim().replace(/[,\s]+/g, '_');
  return `${clean(key)}:${clean(value)}`.slice(0, MAX_TAG_LENGTH);
}

export function datadogTags(event: ViolationEvent, ctx: SiemContext): string[] {
  const tags = [datadogTag('event_type', event.event_type), datadogTag('severity', severityOf(event, ctx))];
  for (const [k, v] of Object.entries(event.tags ?? {})) tags.push(datadogTag(k, v));
  return tags;
}

export function buildDatadogLog(config: DatadogConfig, event: ViolationEvent, ctx: SiemContext) {
  const severity = severityOf(event, ctx);
  return {
    ddsource: DATADOG_SOURCE,
    ddtags: datadogTags(event, ctx).join(','),
    hostname: hostOf(ctx, config.hostname),
    service: config.service,
    status: LOG_STATUS[severity],
    message: `[escalate] ${severity} ${event.event_type}: ${event.summary}`,
    escalate: siemPayload(event, ctx),
  };
}

export function buildDatadogLogRequest(
  config: DatadogConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): HttpRequest {
  return signed(
    {
      method: 'POST',
      url: `${config.logs_url}/api/v2/logs`,
      headers: jsonHeaders({ 'DD-API-KEY': config.api_key }),
      body: JSON.stringify([buildDatadogLog(config, event, ctx)]),
    },
    config.signing_secret,
  );
}

/** The count metric request, or undefined when no `metrics_url` is configured. */
export function buildDatadogMetricRequest(
  config: DatadogConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): HttpRequest | undefined {
  if (!config.metrics_url) return undefined;
  const series = {
    metric: VIOLATIONS_METRIC,
    type: METRIC_TYPE_COUNT,
    points: [{ timestamp: Math.floor(nowOf(ctx).getTime() / 1000), value: 1 }],
    tags: datadogTags(event, ctx).slice(0, 2),
    resources: [{ name: hostOf(ctx, config.hostname), type: 'host' }],
  };
  return signed(
    {
      method: 'POST',
      url: `${config.metrics_url}/api/v2/series`,
      headers: jsonHeaders({ 'DD-API-KEY': config.api_key }),
      body: JSON.stringify({ series: [series] }),
    },
    config.signing_secret,
  );
}

export function buildDatadogRequests(
  config: DatadogConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): HttpRequest[] {
  const metric = buildDatadogMetricRequest(config, event, ctx);
  return metric
    ? [buildDatadogLogRequest(config, event, ctx), metric]
    : [buildDatadogLogRequest(config, event, ctx)];
}

/** Datadog error bodies: `{"errors": ["Forbidden"]}` or `{"errors": [{"title", "detail"}]}`. */
export function datadogErrorMessage(text: string): string {
  const json = parseJson(text) as { errors?: unknown } | undefined;
  if (!json || !Array.isArray(json.errors) || json.errors.length === 0) return text;
  return json.errors
    .map((e) => {
      if (typeof e === 'string') return e;
      const { title, detail } = (e ?? {}) as { title?: unknown; detail?: unknown };
      return [title, detail].filter((s) => typeof s === 'string' && s).join(': ') || JSON.stringify(e);
    })
    .join('; ');
}

const isSuccess = (res: HttpResponse) => res.status >= 200 && res.status < 300;

async function sendMetric(config: DatadogConfig, req: HttpRequest, timeoutMs: number): Promise<string> {
  try {
    const res = await send(req, timeoutMs, { dispatcher: dispatcherFor(config) });
    if (isSuccess(res)) {
      const errors = (parseJson(res.text) as { errors?: unknown[] } | undefined)?.errors;
      return errors?.length ? `metric accepted with errors: ${datadogErrorMessage(res.text)}` : 'metric sent';
    }
    return `metric failed: HTTP ${res.status}: ${shortText(datadogErrorMessage(res.text))}`;
  } catch (err) {
    return `metric failed: ${err instanceof ConnectorError ? err.message : String(err)}`;
  }
}

export async function deliverToDatadog(
  config: DatadogConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): Promise<SiemResult> {
  const timeoutMs = connectorTimeoutMs(config);
  const res = await send(buildDatadogLogRequest(config, event, ctx), timeoutMs, {
    dispatcher: dispatcherFor(config),
  });
  // 400/401/403/413 fail at once, 408/429/5xx retry: the generic HTTP classification is Datadog's.
  if (!isSuccess(res)) throw errorFromResponse(res, datadogErrorMessage(res.text));
  const parts = [`log accepted (HTTP ${res.status})`];
  // The metric goes only after the log is in, so a retried delivery never counts twice; its
  // failure is reported, never fatal.
  const metric = buildDatadogMetricRequest(config, event, ctx);
  if (metric) parts.push(await sendMetric(config, metric, timeoutMs));
  return { status: res.status, message: parts.join('; '), durationMs: res.durationMs };
}
