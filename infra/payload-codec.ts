import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

/**
 * Temporal payload encryption (ESCALATE_PAYLOAD_KEY): every payload the API, the workers and the
 * replay tooling send to Temporal (workflow inputs, activity arguments and results, signals,
 * updates, summaries, failure messages) is sealed with AES-256-GCM before it leaves the process.
 * Temporal stores ciphertext; the Web UI and CLI read it through the API's codec endpoint.
 *
 * Rotation: the payload names its key (`encryption-key-id`, a fingerprint of the key). Set the
 * new key as ESCALATE_PAYLOAD_KEY and keep the old one in ESCALATE_PAYLOAD_KEY_PREVIOUS
 * (comma-separated, decrypt only) until no open workflow holds payloads sealed with it.
 * Payloads that are not encrypted (written before encryption was turned on) are read as is.
 */

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const Proto = proto.temporal.api.common.v1.Payload;
const utf8 = (s: string) => new TextEncoder().encode(s);

export interface PayloadKey {
  /** Fingerprint of the key, stored in each payload's metadata: names the key, reveals nothing. */
  id: string;
  key: Buffer;
}

/** A 32-byte key given as 64 hex digits or base64; anything else is refused (no stretching). */
export function parsePayloadKey(material: string, name = 'ESCALATE_PAYLOAD_KEY'): PayloadKey {
  const text = material.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-f]{64}$/i.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) key = Buffer.from(text, 'base64');
  if (key?.length !== 32) {
    throw new Error(`${name} must be 32 bytes as 64 hex digits or base64 (generate: openssl rand -hex 32)`);
  }
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

export class AesGcmPayloadCodec implements PayloadCodec {
  readonly #current: PayloadKey;
  readonly #keys: Map<string, Buffer>;

  constructor(current: PayloadKey, previous: PayloadKey[] = []) {
    this.#current = current;
    this.#keys = new Map([...previous, current].map((k) => [k.id, k.key]));
  }

  get keyId(): string {
    return this.#current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, this.#current.key, iv);
      const sealed = Buffer.concat([
        iv,
        cipher.update(Proto.encode(payload).finish()),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return {
        metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(this.#current.id) },
        data: new Uint8Array(sealed),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (metadataText(payload, 'encoding') !== ENCRYPTED_ENCODING) return payload;
      const keyId = metadataText(payload, KEY_ID_METADATA) ?? '';
      const key = this.#keys.get(keyId);
      if (!key) {
        throw new Error(
          `payload sealed with key ${keyId || '(none)'}: neither ESCALATE_PAYLOAD_KEY nor ESCALATE_PAYLOAD_KEY_PREVIOUS holds it`,
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload is truncated');
      const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new Error(`encrypted payload (key ${keyId}) failed authentication: altered or truncated`);
      }
      const decoded = Proto.decode(plain);
      return { metadata: decoded.metadata, data: decoded.data };
    });
  }
}

function metadataText(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? Buffer.from(value).toString('utf8') : undefined;
}

/** The codec ESCALATE_PAYLOAD_KEY (+ ESCALATE_PAYLOAD_KEY_PREVIOUS) describe; none when unset. */
export function payloadCodecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | undefined {
  if (!env.ESCALATE_PAYLOAD_KEY) {
    if (env.ESCALATE_PAYLOAD_KEY_PREVIOUS)
      throw new Error('ESCALATE_PAYLOAD_KEY_PREVIOUS is set without ESCALATE_PAYLOAD_KEY');
    return undefined;
  }
  const previous = (env.ESCALATE_PAYLOAD_KEY_PREVIOUS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((k, i) => parsePayloadKey(k, `ESCALATE_PAYLOAD_KEY_PREVIOUS[${i}]`));
  return new AesGcmPayloadCodec(parsePayloadKey(env.ESCALATE_PAYLOAD_KEY), previous);
}

/**
 * Failure messages and stack traces moved into an encoded (hence encrypted) payload. A path, not
 * an object, because the Worker loads its failure converter by path; a CommonJS file so that it
 * loads the same from sources, compiled output and the test runner.
 */
export const ENCODED_FAILURE_CONVERTER_PATH = fileURLToPath(
  new URL('./encoded-failure-converter.cjs', import.meta.url),
);

/** The data converter for clients and workers: encryption with `codec`, Temporal's default without. */
export function payloadDataConverter(codec: PayloadCodec | undefined): DataConverter | undefined {
  if (!codec) return undefined;
  return { payloadCodecs: [codec], failureConverterPath: ENCODED_FAILURE_CONVERTER_PATH };
}

/**
 * Whether `client` seals payloads. Summaries it writes then carry no email or free text at all, so
 * that no personal data depends on every reader of the history having the codec.
 */
export function encryptsPayloads(client: Client): boolean {
  return client.options.loadedDataConverter.payloadCodecs.some((c) => c instanceof AesGcmPayloadCodec);
}
