import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SecretBox } from './secret-box.js';

/**
 * ESCALATE_SECRET_KEY is required in production. `npm start` (dev) generates one under `.data/`
 * instead, and says so.
 */
export function resolveSecretKey(opts: { devKeyFile?: string; warn?: (m: string) => void } = {}): string {
  const fromEnv = process.env.ESCALATE_SECRET_KEY;
  if (fromEnv) return fromEnv;
  if (!opts.devKeyFile) {
    throw new Error(
      'ESCALATE_SECRET_KEY is not set: it encrypts connector secrets at rest (generate one with `openssl rand -hex 32`)',
    );
  }
  if (!existsSync(opts.devKeyFile)) {
    mkdirSync(dirname(opts.devKeyFile), { recursive: true });
    writeFileSync(opts.devKeyFile, `${SecretBox.generateKey()}\n`, { mode: 0o600 });
    opts.warn?.(
      `ESCALATE_SECRET_KEY not set: generated a development key in ${opts.devKeyFile} (set the variable in production)`,
    );
  }
  return readFileSync(opts.devKeyFile, 'utf8').trim();
}

/** ESCALATE_SECRET_KEY_PREVIOUS: comma-separated keys that still open (never seal) stored secrets. */
export const previousSecretKeys = (raw = process.env.ESCALATE_SECRET_KEY_PREVIOUS): string[] =>
  (raw ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);

/** The process's SecretBox: the current key seals, the previous ones still open. */
export const secretBoxFromEnv = (opts: Parameters<typeof resolveSecretKey>[0] = {}): SecretBox =>
  new SecretBox(resolveSecretKey(opts), previousSecretKeys());
