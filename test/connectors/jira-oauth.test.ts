import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/http.js';
import { createJiraIssue } from '../../connectors/jira.js';
import { ATLASSIAN_TOKEN_URL, jiraApiRoot, jiraOAuthGrant } from '../../connectors/jira-client.js';
import { addJiraComment, transitionJiraIssue } from '../../connectors/jira-lifecycle.js';
import { type JiraConfig, jiraConfigSchema } from '../../domain/connector.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { testDraft } from '../helpers/jira-installation.js';

const TIMEOUT = 2_000;
const CLOUD_ID = '11223344-a1b2-3c4d-5e6f-123456789abc';
const CLIENT = { clientId: 'svc-escalate', clientSecret: 'ATOA-s3cret', cloudId: CLOUD_ID };

const draft = () => testDraft('oauth');

let fake: FakeJira;
beforeEach(async () => {
  fake = await startFakeJira({ oauth: CLIENT });
});
afterEach(() => fake.close());

/** A Jira Cloud service account; the fake stands in for both Atlassian's auth server and API gateway. */
const cloud = (extra: Record<string, unknown> = {}): JiraConfig =>
  jiraConfigSchema.parse({
    base_url: 'https://acme.atlassian.net',
    auth: 'oauth',
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
    cloud_id: CLOUD_ID,
    token_url: `${fake.url}/oauth/token`,
    api_url: fake.url,
    project_key: 'SEC',
    ...extra,
  });

describe('Jira Cloud OAuth 2.0 (service account, client credentials)', () => {
  it('goes through the API gateway with a bearer token; the browse link stays on the site', async () => {
    expect(jiraApiRoot(cloud({ api_url: undefined }))).toBe(
      `https://api.atlassian.com/ex/jira/${CLOUD_ID}/rest/api/3`,
    );
    expect(jiraOAuthGrant(cloud({ token_url: undefined })).tokenUrl).toBe(ATLASSIAN_TOKEN_URL);
    expect(ATLASSIAN_TOKEN_URL).toBe('https://auth.atlassian.com/oauth/token');

    const ref = await createJiraIssue(cloud(), draft(), { timeoutMs: TIMEOUT, lookupFirst: true });
    expect(ref.externalUrl).toBe(`https://acme.atlassian.net/browse/${ref.externalId}`);
    const calls = fake.requests.filter((r) => r.path.startsWith('/ex/jira/'));
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /ex/jira/${CLOUD_ID}/rest/api/3/search/jql`,
      `POST /ex/jira/${CLOUD_ID}/rest/api/3/issue`,
    ]);
    expect(calls.every((r) => /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(r.headers.authorization ?? ''))).toBe(
      true,
    );
    const tokenCall = fake.requests.find((r) => r.path === '/oauth/token')!;
    expect(Object.fromEntries(new URLSearchParams(tokenCall.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    });
  });

  it('caches the token across calls and refreshes it once when Jira answers 401', async () => {
    const config = cloud();
    const { externalId: key } = await createJiraIssue(config, draft(), {
      timeoutMs: TIMEOUT,
      lookupFirst: false,
    });
    await transitionJiraIssue(config, key, 'in_progress', { timeoutMs: TIMEOUT });
    await addJiraComment(config, key, 'first', TIMEOUT);
    expect(fake.oauth!.tokenRequests).toBe(1);

    fake.oauth!.revokeAll();
    await addJiraComment(config, key, 'second', TIMEOUT);
    expect(fake.oauth!.tokenRequests).toBe(2);
    expect(fake.issues.get(key)!.comments).toHaveLength(2);
    const refused = fake.requests.filter((r) => r.path.endsWith('/comment') && r.method === 'POST');
    expect(refused).toHaveLength(3); // one refused with the revoked token, then two accepted
  });

  it('a refused token request fails at once, saying so; so does a 401 that survives a fresh token', async () => {
    const bad = cloud({ client_secret: 'nope' });
    const err = await createJiraIssue(bad, draft(), { timeoutMs: TIMEOUT, lookupFirst: false }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err.retryable).toBe(false);
    expect(err.remoteCode).toBe('oauth_token');
    expect(err.message).toContain(
      'OAuth token request refused: invalid_client: Client authentication failed',
    );

    const otherSite = cloud({ cloud_id: '00000000-0000-0000-0000-000000000000' });
    const notFound = await createJiraIssue(otherSite, draft(), {
      timeoutMs: TIMEOUT,
      lookupFirst: false,
    }).catch((e) => e);
    expect(notFound.status).toBe(404);
    expect(fake.issues.size).toBe(0);
  });

  it('Data Center service accounts: token from {base_url}/rest/oauth2/latest/token, calls on the site', async () => {
    const dc = jiraConfigSchema.parse({
      base_url: fake.url,
      api: 'datacenter',
      auth: 'oauth',
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      project_key: 'SEC',
    });
    const ref = await createJiraIssue(dc, draft(), { timeoutMs: TIMEOUT, lookupFirst: false });
    expect(fake.issues.get(ref.externalId)!.api).toBe(2);
    expect(fake.requests.some((r) => r.path === '/rest/oauth2/latest/token')).toBe(true);
  });

  it('refuses incomplete OAuth configs', () => {
    const base = { base_url: 'https://acme.atlassian.net', auth: 'oauth', project_key: 'SEC' };
    const missing = jiraConfigSchema.safeParse({ ...base, client_id: 'x', client_secret: 'y' });
    expect(missing.success).toBe(false);
    expect(JSON.stringify(missing.error?.issues)).toContain('cloud_id');
    expect(jiraConfigSchema.safeParse({ ...base, cloud_id: CLOUD_ID }).success).toBe(false);
  });
});
