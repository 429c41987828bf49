import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  parsePayloadKey,
  payloadCodecFromEnv,
  payloadDataConverter,
} from '../../infra/payload-codec.js';

const hexKey = () => randomBytes(32).toString('hex');
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const EVENT = { user_email: 'alice@example.com', summary: 'max-tokens exceeded' };

describe('payload keys', () => {
  it('takes 32 bytes as hex or base64 and names them by a fingerprint', () => {
    const bytes = randomBytes(32);
    const fromHex = parsePayloadKey(bytes.toString('hex'));
    const fromB64 = parsePayloadKey(bytes.toString('base64'));
    expect(fromHex.key.equals(bytes)).toBe(true);
    expect(fromB64.key.equals(bytes)).toBe(true);
    expect(fromHex.id).toBe(fromB64.id);
    expect(fromHex.id).toMatch(/^[0-9a-f]{16}$/);
    expect(fromHex.id).not.toBe(parsePayloadKey(hexKey()).id);
  });

  it('refuses anything else instead of stretching it', () => {
    for (const bad of ['', 'secret', 'ab'.repeat(31), randomBytes(16).toString('base64'), `${hexKey()}00`])
      expect(() => parsePayloadKey(bad), JSON.stringify(bad)).toThrow(/32 bytes/);
  });

  it('is off without ESCALATE_PAYLOAD_KEY; a previous key alone is a configuration error', () => {
    expect(payloadCodecFromEnv({})).toBeUndefined();
    expect(payloadDataConverter(undefined)).toBeUndefined();
    expect(() => payloadCodecFromEnv({ ESCALATE_PAYLOAD_KEY_PREVIOUS: hexKey() })).toThrow(
      /without ESCALATE_PAYLOAD_KEY/,
    );
    expect(() =>
      payloadCodecFromEnv({ ESCALATE_PAYLOAD_KEY: hexKey(), ESCALATE_PAYLOAD_KEY_PREVIOUS: 'x' }),
    ).toThrow(/ESCALATE_PAYLOAD_KEY_PREVIOUS\[0\]/);
  });
});

describe('AES-256-GCM payload codec', () => {
  it('seals each payload whole (metadata too) and names the key; decoding restores it', async () => {
    const key = parsePayloadKey(hexKey());
    const codec = new AesGcmPayloadCodec(key);
    const original = payloadOf(EVENT);
    const [sealed] = await codec.encode([original]);
    expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe(key.id);
    expect(Object.keys(sealed!.metadata!)).toEqual(['encoding', KEY_ID_METADATA]);
    expect(text(sealed!.data)).not.toContain('alice');
    expect(text(sealed!.data)).not.toContain('json/plain');
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(EVENT);
    expect(text(opened!.metadata!.encoding)).toBe('json/plain');
  });

  it('uses a fresh nonce every time', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKey(hexKey()));
    const [a, b] = await codec.encode([payloadOf(EVENT), payloadOf(EVENT)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('reads payloads written before encryption was on as they are', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKey(hexKey()));
    const plain = payloadOf(EVENT);
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('rotates: the new key seals, previous keys still open what they sealed', async () => {
    const [oldKey, newKey] = [hexKey(), hexKey()];
    const before = payloadCodecFromEnv({ ESCALATE_PAYLOAD_KEY: oldKey })!;
    const [old] = await before.encode([payloadOf(EVENT)]);
    const after = payloadCodecFromEnv({
      ESCALATE_PAYLOAD_KEY: newKey,
      ESCALATE_PAYLOAD_KEY_PREVIOUS: oldKey,
    })!;
    const [fresh] = await after.encode([payloadOf(EVENT)]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe(parsePayloadKey(newKey).id);
    for (const p of await after.decode([old!, fresh!]))
      expect(defaultPayloadConverter.fromPayload(p)).toEqual(EVENT);
    // Without the old key, its payloads are refused with the reason (a workflow task then retries).
    const newOnly = payloadCodecFromEnv({ ESCALATE_PAYLOAD_KEY: newKey })!;
    await expect(newOnly.decode([old!])).rejects.toThrow(
      `payload sealed with key ${parsePayloadKey(oldKey).id}: neither ESCALATE_PAYLOAD_KEY nor ESCALATE_PAYLOAD_KEY_PREVIOUS holds it`,
    );
  });

  it('refuses an altered or truncated payload', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKey(hexKey()));
    const [sealed] = await codec.encode([payloadOf(EVENT)]);
    const altered = Buffer.from(sealed!.data!);
    altered[20]! ^= 1;
    await expect(codec.decode([{ ...sealed!, data: altered }])).rejects.toThrow(/failed authentication/);
    await expect(codec.decode([{ ...sealed!, data: altered.subarray(0, 10) }])).rejects.toThrow(/truncated/);
  });
});

describe('the data converter for clients and workers', () => {
  it('encodes failure messages and stack traces, so the codec encrypts them too', async () => {
    const converter = payloadDataConverter(new AesGcmPayloadCodec(parsePayloadKey(hexKey())))!;
    expect(converter.payloadCodecs).toHaveLength(1);
    // The Worker loads it by path with require(): it must load that way.
    const { failureConverter } = createRequire(import.meta.url)(converter.failureConverterPath!);
    const failure = failureConverter.errorToFailure(
      new Error('Jira answered 400: user alice@example.com cannot be assigned'),
      defaultPayloadConverter,
    );
    expect(failure.message).toBe('Encoded failure');
    expect(JSON.stringify(failure)).not.toContain('alice@example.com');
    expect(text(failure.encodedAttributes.data)).toContain('alice@example.com');
  });
});
