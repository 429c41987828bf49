/**
 * Generic webhook following Standard Webhooks: `POST {url}` with body
 * `{"type": "violation", "timestamp": <ISO>, "data": <event>}` and the headers `webhook-id`
 * (stable per event and connector, so receivers can de-duplicate retries), `webhook-timestamp`
 * (seconds) and, with a `whsec_` secret, `webhook-signature: v1,<base64>`.
 * With a secret the request also carries `X-Escalate-Signature` keyed by the secret string as configured.
 * Notices (a delivery that failed for good) are messages of their own type (`delivery_failed`),
 * with a `webhook-id` stable per notice and connector.
 */
import { createHash } from 'node:crypto';
import type { WebhookConfig } from '../domain/connector.js';
import { connectorTimeoutMs } from '../domain/connector.js';
import type { ViolationEvent } from '../domain/event.js';
import type { NotificationMessage } from '../domain/notification-message.js';
import { standardWebhookHeaders } from '../domain/signing.js';
import { dispatcherFor } from './dispatcher.js';
import { errorFromResponse, type HttpRequest, type HttpResponse, send } from './http.js';
import {
  jsonHeaders,
  nowOf,
  type SiemContext,
  type SiemResult,
  shortText,
  siemPayload,
  signed,
} from './siem-common.js';

export const WEBHOOK_EVENT_TYPE = 'violation';

/**
 * `msg_` + 32 hex chars of sha256(connectorId:subject), the subject being the event id (or a
 * notice's key): the same on every retry and replay.
 */
export function webhookMessageId(connectorId: string, subject: string): string {
  return `msg_${createHash('sha256').update(`${connectorId}:${subject}`, 'utf8').digest('hex').slice(0, 32)}`;
}

function standardRequest(
  config: WebhookConfig,
  id: string,
  now: Date,
  type: string,
  data: unknown,
): HttpRequest {
  const timestampSeconds = Math.floor(now.getTime() / 1000);
  const body = JSON.stringify({ type, timestamp: new Date(timestampSeconds * 1000).toISOString(), data });
  const standard: Record<string, string> = config.secret
    ? { ...standardWebhookHeaders({ secret: config.secret, id, timestampSeconds, body }) }
    : { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds) };
  return signed({ method: 'POST', url: config.url, headers: jsonHeaders(standard), body }, config.secret);
}

export function buildWebhookRequest(
  config: WebhookConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): HttpRequest {
  const id = webhookMessageId(ctx.connectorId, event.event_id);
  return standardRequest(config, id, nowOf(ctx), WEBHOOK_EVENT_TYPE, siemPayload(event, ctx));
}

/** A notice as a Standard Webhooks message: `type` is the notice's (`delivery_failed`), `data` its facts. */
export function buildWebhookNoticeRequest(
  config: WebhookConfig,
  message: NotificationMessage,
  ctx: { connectorId: string; noticeKey: string; now?: () => Date },
): HttpRequest {
  const id = webhookMessageId(ctx.connectorId, ctx.noticeKey);
  return standardRequest(config, id, ctx.now ? ctx.now() : new Date(), message.type, message.data);
}

/** Sends a notice; answers are judged as for violations. */
export async function sendWebhookNotice(
  config: WebhookConfig,
  message: NotificationMessage,
  ctx: { connectorId: string; noticeKey: string; timeoutMs?: number },
): Promise<SiemResult> {
  return answered(
    await send(buildWebhookNoticeRequest(config, message, ctx), ctx.timeoutMs ?? connectorTimeoutMs(config), {
      dispatcher: dispatcherFor(config),
    }),
  );
}

/** 2xx delivered; 408/409/429 and 5xx retry; any other answer (3xx, 4xx) fails at once. */
export function isRetryableWebhookStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 409 || status === 429;
}

export async function deliverToWebhook(
  config: WebhookConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): Promise<SiemResult> {
  return answered(
    await send(buildWebhookRequest(config, event, ctx), connectorTimeoutMs(config), {
      dispatcher: dispatcherFor(config),
    }),
  );
}

function answered(res: HttpResponse): SiemResult {
  if (res.status < 200 || res.status >= 300) {
    throw errorFromResponse(res, res.text, { retryable: isRetryableWebhookStatus(res.status) });
  }
  const answer = shortText(res.text);
  return {
    status: res.status,
    message: `HTTP ${res.status}${answer ? `: ${answer}` : ''}`,
    durationMs: res.durationMs,
  };
}
