/**
 * How escalate authenticates to a ServiceNow instance: Basic (username + password), or OAuth 2.0
 * with a token from `{instance_url}/oauth_token.do` (client credentials, or the password grant
 * when a username is configured), cached and fetched afresh once when the instance answers 401.
 * Every ServiceNow call goes through `serviceNowSend`.
 */
import type { ServiceNowConfig } from '../domain/connector.js';
import { dispatcherFor } from './dispatcher.js';
import { basicAuth, type HttpRequest, type HttpResponse, send } from './http.js';
import { type OAuthGrant, oauthAccessToken } from './oauth.js';

export function serviceNowOAuthGrant(config: ServiceNowConfig): OAuthGrant {
  return {
    tokenUrl: `${config.instance_url}/oauth_token.do`,
    clientId: config.client_id ?? '',
    clientSecret: config.client_secret ?? '',
    ...(config.username ? { username: config.username, password: config.password ?? '' } : {}),
  };
}

/** The Authorization header; OAuth fetches (or reuses) a token, refusing `stale`. */
export async function serviceNowAuthorization(
  config: ServiceNowConfig,
  timeoutMs: number,
  stale?: string,
): Promise<string> {
  if (config.auth !== 'oauth') return basicAuth(config.username ?? '', config.password ?? '');
  const dispatcher = dispatcherFor(config);
  return `Bearer ${await oauthAccessToken(serviceNowOAuthGrant(config), timeoutMs, { stale, dispatcher })}`;
}

/** The header a preview shows (masked later): the scheme without fetching a token. */
export const serviceNowPreviewAuthorization = (config: ServiceNowConfig): string =>
  config.auth === 'oauth' ? 'Bearer (token)' : 'Basic (credentials)';

/** Requests are built without Authorization; this adds it (first, as a preview shows it). */
export const withAuthorization = (req: HttpRequest, authorization: string): HttpRequest => ({
  ...req,
  headers: { Authorization: authorization, ...req.headers },
});

/** Sends the request; with OAuth, a 401 is retried once with a freshly fetched token. */
export async function serviceNowSend(
  config: ServiceNowConfig,
  req: HttpRequest,
  timeoutMs: number,
): Promise<HttpResponse> {
  const via = { dispatcher: dispatcherFor(config) };
  const authorization = await serviceNowAuthorization(config, timeoutMs);
  const res = await send(withAuthorization(req, authorization), timeoutMs, via);
  if (res.status !== 401 || config.auth !== 'oauth') return res;
  const stale = authorization.slice('Bearer '.length);
  return send(
    withAuthorization(req, await serviceNowAuthorization(config, timeoutMs, stale)),
    timeoutMs,
    via,
  );
}
