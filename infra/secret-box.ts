import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { SecretsUnreadableError } from '../domain/secrets.js';

interface Key {
  /** Names the key inside a v2 ciphertext (an HMAC of the derived key: says nothing about it). */
  id: string;
  /** The 32 bytes given: v1 ciphertexts were sealed with them directly. */
  material: Buffer;
  /** HKDF-SHA256 of the material: what v2 ciphertexts are sealed with. */
  derived: Buffer;
}

const HKDF_SALT = 'escalate/secret-box';
const HKDF_INFO = 'connector secrets v2';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for connector secrets at rest.
 *
 * Keys: ESCALATE_SECRET_KEY (32 bytes as hex or base64, e.g. `openssl rand -hex 32`; any other
 * string is stretched with SHA-256) seals; ESCALATE_SECRET_KEY_PREVIOUS (comma-separated) only
 * opens, so a rotated key keeps old rows readable until they are sealed again.
 *
 * Format `v2:<key id>:<base64 iv|tag|ciphertext>`: the AES key is derived from the material with
 * HKDF-SHA256, and the associated data (the connector id) is authenticated, so a ciphertext copied
 * onto another connector does not open. `v1:<base64 iv|tag|ciphertext>` (the material used
 * directly, no associated data) is still read, with any configured key.
 */
export class SecretBox {
  readonly #current: Key;
  readonly #keys: Key[];

  constructor(keyMaterial: string, previous: readonly string[] = []) {
    if (!keyMaterial) throw new Error('ESCALATE_SECRET_KEY is empty');
    this.#current = makeKey(keyMaterial);
    this.#keys = [this.#current, ...previous.filter(Boolean).map(makeKey)];
  }

  static keyFrom(material: string): Buffer {
    if (/^[0-9a-f]{64}$/i.test(material)) return Buffer.from(material, 'hex');
    const b64 = Buffer.from(material, 'base64');
    if (b64.length === 32 && /^[A-Za-z0-9+/]{43}=?$/.test(material)) return b64;
    return createHash('sha256').update(material, 'utf8').digest();
  }

  /**
   * A key for another purpose (e.g. signing console sessions), derived from the current key with
   * HKDF: never this key itself. A rotated ESCALATE_SECRET_KEY changes it.
   */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(
      hkdfSync('sha256', this.#current.material, Buffer.alloc(0), `escalate:${purpose}`, 32),
    );
  }

  static generateKey(): string {
    return randomBytes(32).toString('hex');
  }

  /** The current key's id, as v2 ciphertexts name it. */
  get keyId(): string {
    return this.#current.id;
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current.derived, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `v2:${this.#current.id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** Whether `sealed` is already in the current format under the current key. */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`v2:${this.#current.id}:`);
  }

  open(sealed: string, associatedData: string): string {
    const v2 = /^v2:([0-9a-f]+):(.*)$/s.exec(sealed);
    if (v2) {
      const key = this.#keys.find((k) => k.id === v2[1]);
      if (!key)
        throw new SecretsUnreadableError(`sealed with a key this process does not have (key id ${v2[1]})`);
      const opened = decrypt(key.derived, Buffer.from(v2[2]!, 'base64'), associatedData);
      if (opened === undefined)
        throw new SecretsUnreadableError('authentication failed (altered, or sealed for another connector)');
      return opened;
    }
    if (sealed.startsWith('v1:')) {
      const raw = Buffer.from(sealed.slice(3), 'base64');
      for (const key of this.#keys) {
        const opened = decrypt(key.material, raw);
        if (opened !== undefined) return opened;
      }
      throw new SecretsUnreadableError('sealed (v1 format) with none of the configured keys');
    }
    throw new SecretsUnreadableError('unknown format');
  }
}

function makeKey(material: string): Key {
  const bytes = SecretBox.keyFrom(material);
  const derived = Buffer.from(hkdfSync('sha256', bytes, HKDF_SALT, HKDF_INFO, 32));
  const id = createHmac('sha256', derived).update('escalate key id').digest('hex').slice(0, 16);
  return { id, material: bytes, derived };
}

/** The plaintext, or undefined when the key or the associated data is not the one it was sealed with. */
function decrypt(key: Buffer, raw: Buffer, associatedData?: string): string | undefined {
  if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    if (associatedData !== undefined) decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return undefined;
  }
}
