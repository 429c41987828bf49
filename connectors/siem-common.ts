/**
 * Shared pieces of the SIEM connectors: the call context, the result shape, the derived fields
 * every wire format needs (severity, occurrence time, host) and request signing.
 */
import { hostname as osHostname } from 'node:os';
import type { ViolationEvent } from '../domain/event.js';
import { type Severity, severityFromRisk } from '../domain/severity.js';
import { ESCALATE_SIGNATURE_HEADER, escalateSignatureHeader } from '../domain/signing.js';
import { ConnectorError, type HttpRequest, type HttpResponse, parseRetryAfter } from './http.js';

export interface SiemContext {
  connectorId: string;
  /** Host name reported to the SIEM; default: the connector's configured host, else this machine's. */
  host?: string;
  /** Clock (tests, previews); default `new Date()`. */
  now?: () => Date;
  /** When escalate received the violation (default: now). */
  receivedAt?: Date;
  /**
   * The event's derived severity (rules may use configured risk bands). Default: the payload's
   * `severity`, else derived from `risk_score` with the default bands.
   */
  severity?: Severity;
}

/** A short human summary of the remote answer to a successful delivery. */
export interface SiemResult {
  status: number;
  remoteCode?: string;
  message: string;
  durationMs?: number;
}

export const USER_AGENT = 'escalate';

export const nowOf = (ctx: SiemContext): Date => (ctx.now ? ctx.now() : new Date());

export function severityOf(event: ViolationEvent, ctx: SiemContext): Severity {
  if (ctx.severity) return ctx.severity;
  if (event.severity) return event.severity;
  return severityFromRisk(event.risk_score ?? 0);
}

/** The stored payload with its severity filled in when only a risk score was given. */
export function siemPayload(event: ViolationEvent, ctx: SiemContext): ViolationEvent {
  return event.severity ? event : { ...event, severity: severityOf(event, ctx) };
}

/** When the violation happened; the delivery time for a payload without (or with an unreadable) `occurred_at`. */
export function occurredAt(event: ViolationEvent, ctx: SiemContext): Date {
  const at = event.occurred_at ? new Date(event.occurred_at) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : nowOf(ctx);
}

export function hostOf(ctx: SiemContext, configured?: string): string {
  return ctx.host ?? configured ?? osHostname();
}

/** Adds `X-Escalate-Signature` over the exact body when a signing secret is configured. */
export function signed(req: HttpRequest, signingSecret: string | undefined): HttpRequest {
  if (!signingSecret) return req;
  const headers = {
    ...req.headers,
    [ESCALATE_SIGNATURE_HEADER]: escalateSignatureHeader(signingSecret, req.body ?? ''),
  };
  return { ...req, headers };
}

export const jsonHeaders = (extra: Record<string, string>): Record<string, string> => ({
  'Content-Type': 'application/json',
  Accept: 'application/json',
  'User-Agent': USER_AGENT,
  ...extra,
});

/** An error for a failure the remote reported in an otherwise successful response (e.g. a bulk item). */
export function errorInResponse(
  res: HttpResponse,
  message: string,
  opts: { status: number; retryable: boolean; remoteCode?: string },
): ConnectorError {
  return new ConnectorError(message, {
    status: opts.status,
    retryable: opts.retryable,
    remoteCode: opts.remoteCode,
    retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
    durationMs: res.durationMs,
  });
}

/** The first readable sentence of a response body, for result messages. */
export function shortText(text: string, max = 200): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}
