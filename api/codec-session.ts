import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from './api-keys.js';

/**
 * The browser session of the codec endpoint. The Temporal Web UI cannot send escalate's bearer
 * key, but it can send cookies ("Include cross-origin credentials" in its codec settings). After
 * signing in with an admin key, the browser holds `v1.<expiry>.<HMAC(admin key, expiry)>`: no
 * server state, never the key itself, and it dies with the key (removed from ESCALATE_API_KEYS)
 * or at its expiry.
 */
export const CODEC_COOKIE = 'escalate_codec_session';
export const CODEC_SESSION_SECONDS = 8 * 3600;

const mac = (key: string, expiry: number) =>
  createHmac('sha256', key).update(`temporal-codec-session.${expiry}`).digest();

export function issueCodecSession(key: ApiKey, nowMs = Date.now()): string {
  const expiry = Math.floor(nowMs / 1000) + CODEC_SESSION_SECONDS;
  return `v1.${expiry}.${mac(key.key, expiry).toString('base64url')}`;
}

/** The admin key that issued `token`, if it is still configured and the session has not expired. */
export function verifyCodecSession(keys: ApiKey[], token: string, nowMs = Date.now()): ApiKey | undefined {
  const match = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return undefined;
  const expiry = Number(match[1]);
  if (expiry * 1000 <= nowMs) return undefined;
  const presented = Buffer.from(match[2]!, 'base64url');
  let found: ApiKey | undefined;
  for (const k of keys) {
    if (k.scope === 'admin' && timingSafeEqual(mac(k.key, expiry), presented)) found = k;
  }
  return found;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The sign-in page (a plain form: no script), with an optional message. */
export function signInPage(message?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>escalate — Temporal codec sign-in</title></head>
<body>
<h1>Decode escalate's payloads in the Temporal Web UI</h1>
${message ? `<p role="status">${escapeHtml(message)}</p>` : ''}
<form method="post">
  <label>Admin API key <input type="password" name="api_key" autocomplete="off" required></label>
  <button type="submit">Sign in</button>
</form>
<p>Then, in the Web UI's codec settings, set the endpoint to this API's <code>/v1/temporal-codec</code>
and turn on "Include cross-origin credentials".</p>
</body></html>
`;
}
