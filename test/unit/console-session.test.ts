/**
 * Console sessions without a browser: the cookie names the key by digest only, is refused once
 * expired, tampered with, or when its key is no longer configured; CSRF tokens are bound to one
 * session; ingest keys never get a session.
 */
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import { consoleSessions, SESSION_TTL_S } from '../../api/ui/session.js';

const keys = parseApiKeys('admin-key-0123456789:admin,ingest-key-0123456789:ingest');
const secret = randomBytes(32);

function harness(now: () => number, apiKeys = keys) {
  const sessions = consoleSessions({ secret, apiKeys, now });
  const app = new Hono();
  app.get('/start/:i', async (c) => {
    await sessions.start(c, apiKeys[Number(c.req.param('i'))]!);
    return c.text('ok');
  });
  app.get('/who', async (c) => {
    const s = await sessions.read(c);
    return c.json(s ? { label: s.key.label, csrf: sessions.csrfToken(s) } : null);
  });
  return app;
}

const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]!;

describe('console sessions', () => {
  it('sets a signed HttpOnly SameSite=Strict cookie under /ui that holds no key', async () => {
    const res = await harness(Date.now).request('/start/0');
    const header = res.headers.get('set-cookie')!;
    expect(header).toMatch(/^escalate_session=[^;]+; Max-Age=28800; Path=\/ui; HttpOnly; SameSite=Strict$/);
    expect(decodeURIComponent(header)).not.toContain('admin-key');
  });

  it('reads back the key, then refuses it once expired, tampered with, or no longer configured', async () => {
    let t = Date.now();
    const app = harness(() => t);
    const cookie = cookieOf(await app.request('/start/0'));
    const who = async (a = app, c = cookie) => (await a.request('/who', { headers: { cookie: c } })).json();
    await expect(who()).resolves.toMatchObject({ label: 'key…6789' });
    await expect(who(app, cookie.replace(/=./, '=A'))).resolves.toBeNull();
    await expect(who(harness(() => t, keys.slice(1)))).resolves.toBeNull();
    t += SESSION_TTL_S * 1000;
    await expect(who()).resolves.toBeNull();
  });

  it('binds the CSRF token to one sign-in, and gives ingest keys no session', async () => {
    const app = harness(Date.now);
    const csrf = async () => {
      const cookie = cookieOf(await app.request('/start/0'));
      return ((await (await app.request('/who', { headers: { cookie } })).json()) as { csrf: string }).csrf;
    };
    expect(await csrf()).not.toBe(await csrf());
    const ingest = cookieOf(await app.request('/start/1'));
    await expect((await app.request('/who', { headers: { cookie: ingest } })).json()).resolves.toBeNull();
  });
});
