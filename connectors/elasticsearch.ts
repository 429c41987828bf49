/**
 * Elasticsearch: `POST {url}/_bulk` with one `create` action per violation, `_id = event_id` and a
 * daily index `{prefix}-YYYY.MM.DD` from `occurred_at` in UTC, so a retried delivery hits the
 * same document and ES answers 409 instead of storing a duplicate.
 *
 * A bulk request answers 200 even when its item failed: the item's own status decides
 * (201 created, 409 already stored → success; 429 → retry; 400 → fail with the ES error).
 */
import type { ElasticsearchConfig } from '../domain/connector.js';
import { connectorTimeoutMs } from '../domain/connector.js';
import type { ViolationEvent } from '../domain/event.js';
import { dispatcherFor } from './dispatcher.js';
import {
  basicAuth,
  ConnectorError,
  errorFromResponse,
  type HttpRequest,
  type HttpResponse,
  isRetryableStatus,
  parseJson,
  send,
} from './http.js';
import {
  errorInResponse,
  nowOf,
  occurredAt,
  type SiemContext,
  type SiemResult,
  siemPayload,
  signed,
  USER_AGENT,
} from './siem-common.js';

export function elasticsearchAuth(config: ElasticsearchConfig): string {
  if (config.api_key) return `ApiKey ${config.api_key}`;
  if (config.username && config.password) return basicAuth(config.username, config.password);
  throw new ConnectorError('elasticsearch connector needs api_key or username + password', {
    retryable: false,
    remoteCode: 'config',
  });
}

export function elasticsearchHeaders(
  config: ElasticsearchConfig,
  contentType: string,
): Record<string, string> {
  return {
    'Content-Type': contentType,
    Accept: 'application/json',
    'User-Agent': USER_AGENT,
    Authorization: elasticsearchAuth(config),
  };
}

const DAY_MS = 86_400_000;
/** `occurred_at` picks the index only this close to the receipt: 7 days before, 1 day after. */
export const INDEX_WINDOW = { beforeMs: 7 * DAY_MS, afterMs: DAY_MS };

/**
 * `{prefix}-YYYY.MM.DD` of the day (UTC) the violation occurred, when that is within
 * INDEX_WINDOW of when escalate received it; else of the day it was received. The sender sets
 * `occurred_at`: without the window, an ingest key could create one index per day of any year.
 */
export function elasticsearchIndexName(
  config: ElasticsearchConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): string {
  const received = ctx.receivedAt ?? nowOf(ctx);
  const occurred = occurredAt(event, ctx);
  const offset = occurred.getTime() - received.getTime();
  const inWindow = offset >= -INDEX_WINDOW.beforeMs && offset <= INDEX_WINDOW.afterMs;
  const day = (inWindow ? occurred : received).toISOString().slice(0, 10).replaceAll('-', '.');
  return `${config.index_prefix}-${day}`;
}

/** The stored document: the payload plus `@timestamp` (the occurrence time) for Kibana. */
export function elasticsearchDocument(event: ViolationEvent, ctx: SiemContext): Record<string, unknown> {
  return { '@timestamp': occurredAt(event, ctx).toISOString(), ...siemPayload(event, ctx) };
}

export function buildElasticsearchRequest(
  config: ElasticsearchConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): HttpRequest {
  const action = { create: { _index: elasticsearchIndexName(config, event, ctx), _id: event.event_id } };
  return signed(
    {
      method: 'POST',
      url: `${config.url}/_bulk`,
      headers: elasticsearchHeaders(config, 'application/x-ndjson'),
      body: `${JSON.stringify(action)}\n${JSON.stringify(elasticsearchDocument(event, ctx))}\n`,
    },
    config.signing_secret,
  );
}

export interface EsError {
  type?: string;
  reason?: string;
}

/** `type: reason` of an ES error object (`{"error": {"type", "reason", "caused_by"}}`). */
export function describeEsError(error: unknown): EsError & { text: string } {
  if (typeof error === 'string') return { reason: error, text: error };
  const e = (error ?? {}) as { type?: unknown; reason?: unknown; caused_by?: unknown };
  const type = typeof e.type === 'string' ? e.type : undefined;
  const reason = typeof e.reason === 'string' ? e.reason : undefined;
  const cause = e.caused_by ? describeEsError(e.caused_by).text : undefined;
  const text = [type, reason].filter(Boolean).join(': ') + (cause ? ` (caused by ${cause})` : '');
  return { type, reason, text: text || JSON.stringify(error) };
}

/** Error for a non-2xx ES response (whole request refused). */
export function elasticsearchResponseError(res: HttpResponse) {
  const json = parseJson(res.text) as { error?: unknown } | undefined;
  if (!json?.error) return errorFromResponse(res, res.text);
  const err = describeEsError(json.error);
  return errorFromResponse(res, err.text, { remoteCode: err.type });
}

interface BulkItem {
  _index?: string;
  _id?: string;
  status?: number;
  result?: string;
  error?: unknown;
}

/** The result of our single `create` action (`items[0].create`). */
function firstItem(text: string): BulkItem | undefined {
  const json = parseJson(text) as { items?: unknown } | undefined;
  if (!json || !Array.isArray(json.items)) return undefined;
  const entry = json.items[0] as Record<string, BulkItem> | undefined;
  return entry ? (entry['create'] ?? Object.values(entry)[0]) : undefined;
}

export async function deliverToElasticsearch(
  config: ElasticsearchConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): Promise<SiemResult> {
  const res = await send(buildElasticsearchRequest(config, event, ctx), connectorTimeoutMs(config), {
    dispatcher: dispatcherFor(config),
  });
  if (res.status < 200 || res.status >= 300) throw elasticsearchResponseError(res);
  const item = firstItem(res.text);
  if (!item || typeof item.status !== 'number') {
    throw errorInResponse(res, `unexpected _bulk response: ${res.text.slice(0, 500) || '(empty body)'}`, {
      status: res.status,
      retryable: false,
      remoteCode: 'bad_response',
    });
  }
  const where = `${item._index ?? elasticsearchIndexName(config, event, ctx)}/${item._id ?? event.event_id}`;
  const base = { status: item.status, durationMs: res.durationMs };
  if (item.status >= 200 && item.status < 300)
    return { ...base, remoteCode: item.result, message: `${item.result ?? 'stored'} ${where}` };
  const err = describeEsError(item.error);
  if (item.status === 409) return { ...base, remoteCode: err.type, message: `already stored ${where}` };
  throw errorInResponse(res, `bulk item ${where}: HTTP ${item.status}: ${err.text}`, {
    status: item.status,
    retryable: isRetryableStatus(item.status),
    remoteCode: err.type,
  });
}
