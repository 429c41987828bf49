/**
 * Console sessions: an admin API key, entered once, becomes a signed, expiring, HttpOnly,
 * SameSite=Strict cookie naming the key by its digest (never the key). Every state-changing form
 * carries a CSRF token bound to the session; the sign-in form one bound to a pre-session cookie.
 * Stateless, so any API replica sharing ESCALATE_SECRET_KEY and ESCALATE_API_KEYS accepts it;
 * removing a key from ESCALATE_API_KEYS ends its sessions at once.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { ApiKey } from '../api-keys.js';

export const SESSION_COOKIE = 'escalate_session';
export const LOGIN_COOKIE = 'escalate_login';
export const FLASH_COOKIE = 'escalate_flash';
export const CONSOLE_PATH = '/ui';
/** A working day: a stolen cookie is useless past it, and an operator signs in once a day. */
export const SESSION_TTL_S = 8 * 3600;

export interface Session {
  key: ApiKey;
  /** Random per sign-in: what the CSRF token is bound to. */
  sid: string;
  expiresAt: number;
}

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
const sameText = (a: string, b: string) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
};
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (value: string): unknown => {
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
};

const isHttps = (c: Context) =>
  new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

const cookieOptions = (c: Context, maxAge: number) =>
  ({ path: CONSOLE_PATH, httpOnly: true, sameSite: 'Strict', secure: isHttps(c), maxAge }) as const;

export function consoleSessions(opts: { secret: Buffer; apiKeys: ApiKey[]; now?: () => number }) {
  const now = () => Math.floor((opts.now?.() ?? Date.now()) / 1000);
  const mac = (purpose: string, value: string) =>
    createHmac('sha256', opts.secret).update(`${purpose}:${value}`).digest('base64url');
  /** The admin key whose digest this is, compared in constant time against each. */
  const keyByDigest = (hex: string) => {
    let match: ApiKey | undefined;
    for (const k of opts.apiKeys) if (k.scope === 'admin' && sameText(digest(k.key), hex)) match = k;
    return match;
  };

  return {
    async start(c: Context, key: ApiKey): Promise<void> {
      const payload = {
        k: digest(key.key),
        s: randomBytes(16).toString('base64url'),
        e: now() + SESSION_TTL_S,
      };
      await setSignedCookie(c, SESSION_COOKIE, encode(payload), opts.secret, cookieOptions(c, SESSION_TTL_S));
    },

    /** The session of this request, if its cookie is ours, unexpired, and its key still configured. */
    async read(c: Context): Promise<Session | undefined> {
      const raw = await getSignedCookie(c, opts.secret, SESSION_COOKIE);
      if (!raw) return undefined;
      const p = decode(raw) as { k?: unknown; s?: unknown; e?: unknown } | undefined;
      if (typeof p?.k !== 'string' || typeof p.s !== 'string' || typeof p.e !== 'number') return undefined;
      if (p.e <= now()) return undefined;
      const key = keyByDigest(p.k);
      return key ? { key, sid: p.s, expiresAt: p.e } : undefined;
    },

    end(c: Context): void {
      deleteCookie(c, SESSION_COOKIE, { path: CONSOLE_PATH, secure: isHttps(c) });
    },

    csrfToken: (session: Session) => mac('csrf', session.sid),
    checkCsrf: (session: Session, token: unknown) =>
      typeof token === 'string' && sameText(token, mac('csrf', session.sid)),

    /** The sign-in form's token: random, kept in a signed short-lived cookie (double submit). */
    async loginToken(c: Context): Promise<string> {
      const token = randomBytes(16).toString('base64url');
      await setSignedCookie(c, LOGIN_COOKIE, token, opts.secret, cookieOptions(c, 600));
      return token;
    },
    async checkLoginToken(c: Context, token: unknown): Promise<boolean> {
      const expected = await getSignedCookie(c, opts.secret, LOGIN_COOKIE);
      deleteCookie(c, LOGIN_COOKIE, { path: CONSOLE_PATH, secure: isHttps(c) });
      return typeof expected === 'string' && typeof token === 'string' && sameText(token, expected);
    },

    /** A message for the page a POST redirects to (shown once). */
    async flash(c: Context, flash: Flash): Promise<void> {
      await setSignedCookie(c, FLASH_COOKIE, encode(flash), opts.secret, cookieOptions(c, 60));
    },
    async takeFlash(c: Context): Promise<Flash | undefined> {
      const raw = await getSignedCookie(c, opts.secret, FLASH_COOKIE);
      if (raw === undefined) return undefined;
      deleteCookie(c, FLASH_COOKIE, { path: CONSOLE_PATH, secure: isHttps(c) });
      const f = raw ? (decode(raw) as Flash | undefined) : undefined;
      return f && (f.kind === 'ok' || f.kind === 'error') && typeof f.text === 'string' ? f : undefined;
    },
  };
}

export type ConsoleSessions = ReturnType<typeof consoleSessions>;
