/**
 * Splunk HTTP Event Collector: `POST {hec_url}/services/collector/event` with
 * `Authorization: Splunk <token>` and a JSON envelope `{time, host, source, sourcetype, index?, event}`.
 * HEC answers `{"text": "...", "code": N}`; the code decides retry or fail.
 */
import type { SplunkConfig } from '../domain/connector.js';
import { connectorTimeoutMs } from '../domain/connector.js';
import type { ViolationEvent } from '../domain/event.js';
import { dispatcherFor } from './dispatcher.js';
import { errorFromResponse, type HttpRequest, isRetryableStatus, parseJson, send } from './http.js';
import {
  hostOf,
  jsonHeaders,
  occurredAt,
  type SiemContext,
  type SiemResult,
  shortText,
  siemPayload,
  signed,
} from './siem-common.js';

export const SPLUNK_SOURCE = 'escalate';
export const DEFAULT_SOURCETYPE = 'escalate:security';

/**
 * HEC reply codes that a later attempt can get past: 8 internal error, 9 server busy,
 * 18–20 HEC unhealthy (queues full / ack service unavailable). Every other code describes the
 * request or the token (2 token required, 3 invalid authorization, 1/4 disabled or invalid token,
 * 5 no data, 6 invalid data format, 7 incorrect index, 10–16 channel/event/ack problems): fail.
 */
const RETRYABLE_HEC_CODES = new Set([8, 9, 18, 19, 20]);
const PERMANENT_HEC_CODES = new Set([1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16]);

/** Retry or fail for an error reply; a code HEC does not document falls back on the HTTP status. */
export function isRetryableHecReply(code: number, httpStatus: number): boolean {
  if (RETRYABLE_HEC_CODES.has(code)) return true;
  if (PERMANENT_HEC_CODES.has(code)) return false;
  return isRetryableStatus(httpStatus);
}

export interface HecEnvelope {
  time: number;
  host: string;
  source: string;
  sourcetype: string;
  index?: string;
  event: ViolationEvent;
}

export function buildSplunkEnvelope(
  config: SplunkConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): HecEnvelope {
  const envelope: HecEnvelope = {
    time: occurredAt(event, ctx).getTime() / 1000,
    host: hostOf(ctx, config.host),
    source: SPLUNK_SOURCE,
    sourcetype: config.sourcetype || DEFAULT_SOURCETYPE,
    event: siemPayload(event, ctx),
  };
  if (config.index) envelope.index = config.index;
  return envelope;
}

export function buildSplunkRequest(
  config: SplunkConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): HttpRequest {
  return signed(
    {
      method: 'POST',
      url: `${config.hec_url}/services/collector/event`,
      headers: jsonHeaders({ Authorization: `Splunk ${config.hec_token}` }),
      body: JSON.stringify(buildSplunkEnvelope(config, event, ctx)),
    },
    config.signing_secret,
  );
}

interface HecReply {
  text?: string;
  code?: number;
}

function readReply(text: string): HecReply {
  const json = parseJson(text);
  if (!json || typeof json !== 'object') return {};
  const { text: message, code } = json as Record<string, unknown>;
  return {
    text: typeof message === 'string' ? message : undefined,
    code: typeof code === 'number' && Number.isInteger(code) ? code : undefined,
  };
}

export async function deliverToSplunk(
  config: SplunkConfig,
  event: ViolationEvent,
  ctx: SiemContext,
): Promise<SiemResult> {
  const res = await send(buildSplunkRequest(config, event, ctx), connectorTimeoutMs(config), {
    dispatcher: dispatcherFor(config),
  });
  const reply = readReply(res.text);
  if (res.status >= 200 && res.status < 300) {
    const code = reply.code ?? 0;
    return {
      status: res.status,
      remoteCode: String(code),
      message: `HEC: ${reply.text ?? (shortText(res.text) || 'accepted')} (code ${code})`,
      durationMs: res.durationMs,
    };
  }
  if (reply.code === undefined) throw errorFromResponse(res, reply.text ?? res.text);
  throw errorFromResponse(res, `HEC code ${reply.code}: ${reply.text ?? '(no text)'}`, {
    remoteCode: String(reply.code),
    retryable: isRetryableHecReply(reply.code, res.status),
  });
}
