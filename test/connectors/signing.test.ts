import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  escalateSignatureHeader,
  hmacSha256Hex,
  standardWebhookHeaders,
  verifyEscalateSignature,
} from '../../domain/signing.js';
import { referenceSignature } from './siem-fixtures.js';

describe('hmacSha256Hex', () => {
  it('matches the RFC 4231 test vector', () => {
    expect(hmacSha256Hex('Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('signs the exact UTF-8 bytes of the body', () => {
    const body = '{"summary":"naïve café ✓"}';
    expect(hmacSha256Hex('s3cret', body)).toBe(
      createHmac('sha256', 's3cret').update(Buffer.from(body, 'utf8')).digest('hex'),
    );
  });
});

describe('X-Escalate-Signature', () => {
  const secret = 'signing-secret-ü';
  const body = '{"event_id":"1","summary":"x"}';

  it('is sha256=<hex> of the raw body', () => {
    expect(escalateSignatureHeader(secret, body)).toBe(referenceSignature(secret, body));
  });

  it('verifies a correct header, whatever the case of the hex', () => {
    const header = referenceSignature(secret, body);
    expect(verifyEscalateSignature(secret, body, header)).toBe(true);
    expect(verifyEscalateSignature(secret, body, header.toUpperCase().replace('SHA256=', 'sha256='))).toBe(
      true,
    );
  });

  it.each([
    ['another body', (h: string) => h, `${body} `],
    ['another secret', () => referenceSignature('other', body), body],
    ['a truncated signature', (h: string) => h.slice(0, -2), body],
    ['a longer signature', (h: string) => `${h}00`, body],
    ['no sha256= prefix', (h: string) => h.slice('sha256='.length), body],
    ['non-hex characters', (h: string) => `${h.slice(0, -1)}z`, body],
    ['an empty header', () => '', body],
  ])('rejects %s', (_name, mutate, signedBody) => {
    const header = mutate(referenceSignature(secret, body));
    expect(verifyEscalateSignature(secret, signedBody, header)).toBe(false);
  });

  it('rejects a missing header', () => {
    expect(verifyEscalateSignature(secret, body, undefined)).toBe(false);
    expect(verifyEscalateSignature(secret, body, null)).toBe(false);
  });
});

describe('Standard Webhooks headers', () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const body = '{"type":"violation","data":{"event_id":"e1"}}';

  it('are verified by the standardwebhooks reference library', () => {
    const timestampSeconds = Math.floor(Date.now() / 1000);
    const headers = standardWebhookHeaders({ secret, id: 'msg_abc', timestampSeconds, body });
    expect(headers['webhook-id']).toBe('msg_abc');
    expect(headers['webhook-timestamp']).toBe(String(timestampSeconds));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('matches an independent node:crypto computation', () => {
    const headers = standardWebhookHeaders({ secret, id: 'msg_1', timestampSeconds: 1_700_000_000, body });
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`msg_1.1700000000.${body}`).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('a tampered body no longer verifies', () => {
    const headers = standardWebhookHeaders({
      secret,
      id: 'msg_2',
      timestampSeconds: Math.floor(Date.now() / 1000),
      body,
    });
    expect(() => new Webhook(secret).verify(body.replace('e1', 'e2'), { ...headers })).toThrow();
  });

  it('refuses a non-integer timestamp', () => {
    expect(() => standardWebhookHeaders({ secret, id: 'm', timestampSeconds: 1.5, body })).toThrow(/integer/);
  });
});
