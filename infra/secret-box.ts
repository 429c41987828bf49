import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for connector secrets at rest. The key is ESCALATE_SECRET_KEY: 32 bytes as hex or
 * base64 (generate with `openssl rand -hex 32`); any other string is stretched with SHA-256.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(keyMaterial: string) {
    if (!keyMaterial) throw new Error('ESCALATE_SECRET_KEY is empty');
    this.#key = SecretBox.keyFrom(keyMaterial);
  }

  static keyFrom(material: string): Buffer {
    if (/^[0-9a-f]{64}$/i.test(material)) return Buffer.from(material, 'hex');
    const b64 = Buffer.from(material, 'base64');
    if (b64.length === 32 && /^[A-Za-z0-9+/]{43}=?$/.test(material)) return b64;
    return createHash('sha256').update(material, 'utf8').digest();
  }

  /** A key for another purpose (e.g. signing console sessions), derived with HKDF: never this key itself. */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), `escalate:${purpose}`, 32));
  }

  static generateKey(): string {
    return randomBytes(32).toString('hex');
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string): string {
    if (!sealed.startsWith('v1:')) throw new Error('unknown secret format');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('connector secrets cannot be decrypted: was ESCALATE_SECRET_KEY changed?');
    }
  }
}
