/**
 * Request signing for outbound SIEM/webhook deliveries and verification of inbound signatures.
 *
 * - `X-Escalate-Signature: sha256=<hex>`: HMAC-SHA256 of the exact raw body bytes, keyed by the
 *   UTF-8 bytes of the connector's signing secret.
 * - Standard Webhooks (https://www.standardwebhooks.com): `webhook-signature: v1,<base64>` where the
 *   HMAC-SHA256 covers `${webhook-id}.${webhook-timestamp}.${body}` and is keyed by the base64-decoded
 *   part of a `whsec_<base64>` secret.
 *
 * Pure functions of their inputs (HMAC, no I/O), shared by the connectors (signing) and the API
 * (verifying); they use node:crypto, so workflow code must not import them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const ESCALATE_SIGNATURE_HEADER = 'X-Escalate-Signature';
const ESCALATE_PREFIX = 'sha256=';
const WHSEC_PREFIX = 'whsec_';

export function hmacSha256Hex(secret: string | Uint8Array, rawBody: string | Uint8Array): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** Value of the `X-Escalate-Signature` header for `body`. */
export function escalateSignatureHeader(secret: string, body: string | Uint8Array): string {
  return `${ESCALATE_PREFIX}${hmacSha256Hex(secret, body)}`;
}

/** Constant-time check of an `X-Escalate-Signature` header (`sha256=<hex>`) against `body`. */
export function verifyEscalateSignature(
  secret: string,
  body: string | Uint8Array,
  header: string | null | undefined,
): boolean {
  if (!header) return false;
  const value = header.trim();
  if (!value.toLowerCase().startsWith(ESCALATE_PREFIX)) return false;
  const hex = value.slice(ESCALATE_PREFIX.length).toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return false;
  const expected = Buffer.from(hmacSha256Hex(secret, body), 'utf8');
  const given = Buffer.from(hex, 'utf8');
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}

/** The signing key of a Standard Webhooks secret: the base64 payload after `whsec_`. */
export function standardWebhookKey(secret: string): Buffer {
  const encoded = secret.startsWith(WHSEC_PREFIX) ? secret.slice(WHSEC_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new Error('Standard Webhooks secret has an empty key');
  return key;
}

export interface StandardWebhookInput {
  /** `whsec_<base64>`. */
  secret: string;
  id: string;
  timestampSeconds: number;
  body: string;
}

export interface StandardWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function standardWebhookSignature(input: StandardWebhookInput): string {
  const signed = `${input.id}.${input.timestampSeconds}.${input.body}`;
  const mac = createHmac('sha256', standardWebhookKey(input.secret)).update(signed, 'utf8').digest('base64');
  return `v1,${mac}`;
}

export function standardWebhookHeaders(input: StandardWebhookInput): StandardWebhookHeaders {
  if (!Number.isInteger(input.timestampSeconds)) throw new Error('webhook-timestamp must be integer seconds');
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestampSeconds),
    'webhook-signature': standardWebhookSignature(input),
  };
}
