/**
 * OAuth 2.0 access tokens for connectors (Jira service accounts, ServiceNow): the client
 * credentials grant, or the password grant when a username is given. Tokens are cached in the
 * worker process per grant (token URL, client, secret, user), shared by concurrent callers, and
 * refreshed shortly before they expire; a caller that got a 401 with a token asks for a fresh
 * one. Tokens are never stored: a restarted worker simply asks again.
 */
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { ConnectorError, errorFromResponse, type HttpRequest, parseJson, send } from './http.js';

export interface OAuthGrant {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Password grant when both are set; client credentials otherwise. */
  username?: string;
  password?: string;
}

interface CachedToken {
  accessToken: string;
  /** Epoch ms after which the token is not used any more (a margin before its real expiry). */
  refreshAt: number;
}

/** Lifetime assumed when the endpoint does not say (`expires_in` is optional in RFC 6749). */
const DEFAULT_LIFETIME_S = 300;
/** Refresh this long before expiry (at most a fifth of the lifetime, for short-lived tokens). */
const REFRESH_MARGIN_MS = 60_000;

const cache = new Map<string, CachedToken>();
const pending = new Map<string, Promise<CachedToken>>();

const grantKey = (g: OAuthGrant): string =>
  createHash('sha256')
    .update([g.tokenUrl, g.clientId, g.clientSecret, g.username ?? '', g.password ?? ''].join('\0'))
    .digest('hex');

/** The token request, form-encoded as RFC 6749 §4.3/§4.4 require (client secret in the body). */
export function buildTokenRequest(grant: OAuthGrant): HttpRequest {
  const form = new URLSearchParams({
    grant_type: grant.username ? 'password' : 'client_credentials',
    client_id: grant.clientId,
    client_secret: grant.clientSecret,
  });
  if (grant.username) {
    form.set('username', grant.username);
    form.set('password', grant.password ?? '');
  }
  return {
    method: 'POST',
    url: grant.tokenUrl,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: form.toString(),
  };
}

/** `{error, error_description}` (RFC 6749 §5.2), or the body. */
function tokenErrorMessage(text: string): string {
  const body = parseJson(text) as { error?: unknown; error_description?: unknown } | undefined;
  if (!body || typeof body !== 'object') return text;
  const parts = [body.error, body.error_description].filter((p) => typeof p === 'string' && p);
  return parts.length ? parts.join(': ') : text;
}

async function requestToken(
  grant: OAuthGrant,
  timeoutMs: number,
  dispatcher?: Dispatcher,
): Promise<CachedToken> {
  const res = await send(buildTokenRequest(grant), timeoutMs, { dispatcher });
  if (res.status !== 200) {
    const refused = res.status === 400 || res.status === 401 || res.status === 403;
    throw errorFromResponse(res, `OAuth token request refused: ${tokenErrorMessage(res.text)}`, {
      remoteCode: 'oauth_token',
      retryable: refused ? false : undefined,
    });
  }
  const body = parseJson(res.text) as { access_token?: unknown; expires_in?: unknown } | undefined;
  if (typeof body?.access_token !== 'string' || !body.access_token) {
    throw new ConnectorError(`OAuth token endpoint answered ${res.status} without an access_token`, {
      status: res.status,
      retryable: true,
      remoteCode: 'oauth_token',
    });
  }
  const lifetimeS = Number(body.expires_in);
  const lifetimeMs = (Number.isFinite(lifetimeS) && lifetimeS > 0 ? lifetimeS : DEFAULT_LIFETIME_S) * 1000;
  return {
    accessToken: body.access_token,
    refreshAt: Date.now() + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 5),
  };
}

/**
 * A valid access token for the grant: the cached one unless it is near expiry or `stale` (the
 * token a request was just refused with) is the cached one. Concurrent callers share one request.
 */
export async function oauthAccessToken(
  grant: OAuthGrant,
  timeoutMs: number,
  opts: { stale?: string; dispatcher?: Dispatcher } = {},
): Promise<string> {
  const key = grantKey(grant);
  const cached = cache.get(key);
  if (cached && cached.refreshAt > Date.now() && cached.accessToken !== opts.stale) return cached.accessToken;
  let inflight = pending.get(key);
  if (!inflight) {
    inflight = requestToken(grant, timeoutMs, opts.dispatcher).finally(() => pending.delete(key));
    pending.set(key, inflight);
  }
  const fresh = await inflight;
  cache.set(key, fresh);
  return fresh.accessToken;
}

/** Forgets every cached token (tests; a process that rotated credentials needs nothing: keys change). */
export function clearOAuthTokens(): void {
  cache.clear();
}
