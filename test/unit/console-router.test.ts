/**
 * The console behind a TLS-terminating proxy: the browser's Origin is https://<host> while the
 * API process sees plain HTTP. Sign-in works, the cookie is Secure, and another origin is refused.
 */
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import { consoleRouter } from '../../api/ui/index.js';

const KEY = 'proxy-admin-key-0123456789';
const HOST = 'escalate.example.com';

function app() {
  const a = new Hono();
  a.route(
    '/ui',
    consoleRouter({
      apiKeys: parseApiKeys(`${KEY}:admin`),
      secret: randomBytes(32),
      fetchApi: () => new Response('{}', { status: 500 }),
      audit: async () => {},
      logger: pino({ level: 'silent' }),
    }),
  );
  return a;
}

/** The sign-in form as a browser behind the proxy gets it: its token and its cookie. */
async function form(a: Hono) {
  const res = await a.request(`http://${HOST}/ui/login`, { headers: { 'x-forwarded-proto': 'https' } });
  const token = /name="_csrf" value="([^"]+)"/.exec(await res.text())![1]!;
  return { token, cookie: res.headers.get('set-cookie')!.split(';')[0]! };
}

const signIn = (a: Hono, f: { token: string; cookie: string }, origin: string) =>
  a.request(`http://${HOST}/ui/login`, {
    method: 'POST',
    headers: {
      origin,
      cookie: f.cookie,
      'x-forwarded-proto': 'https',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ api_key: KEY, _csrf: f.token, next: '/ui/tickets?status=open' }),
  });

describe('console behind a proxy', () => {
  it('signs in from https://<host> with a Secure cookie and returns to the page asked for', async () => {
    const a = app();
    const res = await signIn(a, await form(a), `https://${HOST}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui/tickets?status=open');
    expect(res.headers.get('set-cookie')).toMatch(/escalate_session=[^;]+;.*Secure/);
  });

  it('refuses a sign-in posted from another origin', async () => {
    const a = app();
    const res = await signIn(a, await form(a), 'https://evil.example');
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie') ?? '').not.toContain('escalate_session=');
  });
});
