/**
 * How escalate talks to one Jira: the REST root (the site for API tokens and PATs, Atlassian's API
 * gateway for OAuth on Cloud), the Authorization header per auth scheme, and one retry with a
 * fresh OAuth token when Jira answers 401 to a cached one. Every Jira call goes through here.
 */
import { type JiraConfig, jiraAuthOf } from '../domain/connector.js';
import { dispatcherFor } from './dispatcher.js';
import { basicAuth, type HttpRequest, type HttpResponse, parseJson, send } from './http.js';
import { type OAuthGrant, oauthAccessToken } from './oauth.js';

export const ATLASSIAN_TOKEN_URL = 'https://auth.atlassian.com/oauth/token';
export const ATLASSIAN_API_URL = 'https://api.atlassian.com';

/** One Jira REST call, relative to the API root (`/issue`, `/issue/SEC-1/transitions`...). */
export interface JiraCall {
  method: HttpRequest['method'];
  path: string;
  query?: Record<string, string>;
  /** JSON body. */
  body?: unknown;
}

/** `…/rest/api/3` (Cloud) or `…/rest/api/2` (Data Center); OAuth on Cloud goes through the gateway. */
export function jiraApiRoot(config: JiraConfig): string {
  if (config.api === 'cloud' && jiraAuthOf(config) === 'oauth') {
    const gateway = config.api_url ?? ATLASSIAN_API_URL;
    return `${gateway}/ex/jira/${encodeURIComponent(config.cloud_id ?? '')}/rest/api/3`;
  }
  return `${config.base_url}/rest/api/${config.api === 'cloud' ? '3' : '2'}`;
}

export function jiraOAuthGrant(config: JiraConfig): OAuthGrant {
  const tokenUrl =
    config.token_url ??
    (config.api === 'cloud' ? ATLASSIAN_TOKEN_URL : `${config.base_url}/rest/oauth2/latest/token`);
  return { tokenUrl, clientId: config.client_id ?? '', clientSecret: config.client_secret ?? '' };
}

/** The Authorization header; OAuth fetches (or reuses) a token, refusing `stale`. */
export async function jiraAuthorization(
  config: JiraConfig,
  timeoutMs: number,
  stale?: string,
): Promise<string> {
  switch (jiraAuthOf(config)) {
    case 'basic':
      return basicAuth(config.email ?? '', config.api_token ?? '');
    case 'pat':
      return `Bearer ${config.pat ?? ''}`;
    case 'oauth':
      return `Bearer ${await oauthAccessToken(jiraOAuthGrant(config), timeoutMs, { stale, dispatcher: dispatcherFor(config) })}`;
  }
}

/** The header a preview shows (masked later): the scheme without fetching a token. */
export const jiraPreviewAuthorization = (config: JiraConfig): string =>
  jiraAuthOf(config) === 'basic' ? 'Basic (credentials)' : 'Bearer (token)';

export function jiraRequest(config: JiraConfig, call: JiraCall, authorization: string): HttpRequest {
  const query = call.query ? `?${new URLSearchParams(call.query)}` : '';
  return {
    method: call.method,
    url: `${jiraApiRoot(config)}${call.path}${query}`,
    headers: { Authorization: authorization, Accept: 'application/json', 'Content-Type': 'application/json' },
    ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
  };
}

/** Sends the call; with OAuth, a 401 is retried once with a freshly fetched token. */
export async function jiraSend(config: JiraConfig, call: JiraCall, timeoutMs: number): Promise<HttpResponse> {
  const via = { dispatcher: dispatcherFor(config) };
  const authorization = await jiraAuthorization(config, timeoutMs);
  const res = await send(jiraRequest(config, call, authorization), timeoutMs, via);
  if (res.status !== 401 || jiraAuthOf(config) !== 'oauth') return res;
  const stale = authorization.slice('Bearer '.length);
  return send(jiraRequest(config, call, await jiraAuthorization(config, timeoutMs, stale)), timeoutMs, via);
}

/** Jira error bodies: `{errorMessages: [...], errors: {field: message}}`. */
export function jiraErrorMessage(res: HttpResponse): string {
  const body = parseJson(res.text) as
    | { errorMessages?: string[]; errors?: Record<string, string>; message?: string }
    | undefined;
  if (!body || typeof body !== 'object') return res.text;
  const parts = [
    ...(body.errorMessages ?? []),
    ...Object.entries(body.errors ?? {}).map(([f, m]) => `${f}: ${m}`),
  ];
  if (body.message) parts.push(body.message);
  return parts.length ? parts.join('; ') : res.text;
}
