/**
 * TLS and proxies, for every kind of connector: an HTTPS service whose certificate comes from a
 * private CA works with `tls.ca` and fails at once — saying it is a certificate problem — without
 * it; `proxy_url` and the worker's HTTPS_PROXY / NO_PROXY route requests through a proxy (which
 * records them); the connect policy hook (where an egress check plugs in) sees every socket
 * escalate opens: the service's when direct, the proxy's when proxied.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeDispatchers, setConnectPolicy } from '../../connectors/dispatcher.js';
import { ConnectorError } from '../../connectors/http.js';
import { createJiraIssue } from '../../connectors/jira.js';
import { createServiceNowIncident } from '../../connectors/servicenow.js';
import { deliverToSplunk } from '../../connectors/splunk.js';
import { jiraConfigSchema, servicenowConfigSchema, splunkConfigSchema } from '../../domain/connector.js';
import type { ViolationEvent } from '../../domain/event.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeProxy, startFakeProxy } from '../fakes/proxy.js';
import { type FakeServiceNow, startFakeServiceNow } from '../fakes/servicenow.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import { type TestCertificates, testCertificates } from '../helpers/certs.js';
import { testDraft } from '../helpers/jira-installation.js';

const TIMEOUT = 5_000;
let certs: TestCertificates;
let jira: FakeJira;
let snow: FakeServiceNow;
let splunk: FakeSplunk;
let proxy: FakeProxy;

beforeAll(async () => {
  certs = await testCertificates();
  const tls = { key: certs.key, cert: certs.cert };
  [jira, snow, splunk, proxy] = await Promise.all([
    startFakeJira({ tls }),
    startFakeServiceNow({ username: 'svc', password: 'pw', tls }),
    startFakeSplunk({ token: 'hec-token', tls }),
    startFakeProxy(),
  ]);
});
afterAll(async () => {
  closeDispatchers();
  await Promise.all([jira?.close(), snow?.close(), splunk?.close(), proxy?.close()]);
});
afterEach(() => {
  setConnectPolicy((connect) => connect);
  proxy.seen.length = 0;
});

const draft = () => testDraft('tls');
const event: ViolationEvent = {
  event_id: '7d2b9f3e-1c4a-4e8b-9f6d-2a3b4c5d6e7f',
  event_type: 'policy_violation',
  summary: 'PII sent to gpt-4o',
  severity: 'high',
};

const jiraConfig = (extra: Record<string, unknown> = {}) =>
  jiraConfigSchema.parse({
    base_url: jira.url,
    email: 'bot@example.com',
    api_token: 'cloud-token',
    project_key: 'SEC',
    ...extra,
  });
const splunkConfig = (extra: Record<string, unknown> = {}) =>
  splunkConfigSchema.parse({ hec_url: splunk.url, hec_token: 'hec-token', ...extra });

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

describe('TLS with a private CA', () => {
  it('Jira: works with tls.ca, fails at once without it, naming the certificate problem', async () => {
    expect(jira.url).toMatch(/^https:/);
    const ref = await createJiraIssue(jiraConfig({ tls: { ca: certs.ca } }), draft(), {
      timeoutMs: TIMEOUT,
      lookupFirst: true,
    });
    expect(jira.issues.has(ref.externalId)).toBe(true);

    const err = await failure(
      createJiraIssue(jiraConfig(), draft(), { timeoutMs: TIMEOUT, lookupFirst: false }),
    );
    expect(err.retryable).toBe(false);
    expect(err.remoteCode).toBe('tls_certificate');
    expect(err.message).toMatch(
      /TLS certificate problem: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/,
    );
    expect(err.message).toContain('set tls.ca');
  });

  it('ServiceNow and Splunk HEC: the same CA is trusted; insecure_skip_verify accepts any certificate', async () => {
    const sn = servicenowConfigSchema.parse({
      instance_url: snow.url,
      username: 'svc',
      password: 'pw',
      tls: { ca: certs.ca },
    });
    await createServiceNowIncident(sn, draft(), { timeoutMs: TIMEOUT, lookupFirst: true });
    expect(snow.list('incident')).toHaveLength(1);

    await deliverToSplunk(splunkConfig({ tls: { ca: certs.ca } }), event, {
      connectorId: 's',
      severity: 'high',
    });
    await deliverToSplunk(splunkConfig({ tls: { insecure_skip_verify: true } }), event, {
      connectorId: 's',
      severity: 'high',
    });
    expect(splunk.received).toHaveLength(2);
    const err = await failure(deliverToSplunk(splunkConfig(), event, { connectorId: 's', severity: 'high' }));
    expect(err.remoteCode).toBe('tls_certificate');
    expect(splunk.received).toHaveLength(2);
  });

  it('a CA that is not the issuer fails the same way; a malformed one is refused by the schema', async () => {
    const other = await testCertificates();
    const err = await failure(
      createJiraIssue(jiraConfig({ tls: { ca: other.ca } }), draft(), {
        timeoutMs: TIMEOUT,
        lookupFirst: false,
      }),
    );
    expect(err.remoteCode).toBe('tls_certificate');
    expect(jiraConfigSchema.safeParse({ ...jiraConfig(), tls: { ca: 'not a certificate' } }).success).toBe(
      false,
    );
  });
});

describe('proxies', () => {
  it('proxy_url: every request of the connector goes through the proxy (a CONNECT tunnel, TLS end to end)', async () => {
    const config = jiraConfig({ tls: { ca: certs.ca }, proxy_url: proxy.url });
    await createJiraIssue(config, draft(), { timeoutMs: TIMEOUT, lookupFirst: true });
    const host = new URL(jira.url).host;
    expect(proxy.seen.map((r) => `${r.method} ${r.target}`)).toContain(`CONNECT ${host}`);
  });

  it('HTTPS_PROXY from the environment, unless NO_PROXY names the host', async () => {
    const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
    try {
      process.env.HTTPS_PROXY = proxy.url;
      delete process.env.NO_PROXY;
      await deliverToSplunk(splunkConfig({ tls: { ca: certs.ca } }), event, {
        connectorId: 's',
        severity: 'high',
      });
      expect(proxy.seen.map((r) => r.target)).toEqual([new URL(splunk.url).host]);

      process.env.NO_PROXY = 'localhost,127.0.0.1';
      await deliverToSplunk(splunkConfig({ tls: { ca: certs.ca } }), event, {
        connectorId: 's',
        severity: 'high',
      });
      expect(proxy.seen).toHaveLength(1);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('proxy credentials from proxy_url; a proxy refusing them is a permanent error', async () => {
    const guarded = await startFakeProxy({ username: 'egress', password: 'p@ss' });
    try {
      const ok = jiraConfig({
        tls: { ca: certs.ca },
        proxy_url: `http://egress:p%40ss@127.0.0.1:${guarded.port}`,
      });
      await createJiraIssue(ok, draft(), { timeoutMs: TIMEOUT, lookupFirst: false });
      expect(guarded.seen.at(-1)?.proxyAuthorization).toBe(
        `Basic ${Buffer.from('egress:p@ss').toString('base64')}`,
      );

      const wrong = jiraConfig({
        tls: { ca: certs.ca },
        proxy_url: `http://egress:nope@127.0.0.1:${guarded.port}`,
      });
      const err = await failure(createJiraIssue(wrong, draft(), { timeoutMs: TIMEOUT, lookupFirst: false }));
      expect(err.retryable).toBe(false);
      expect(err.remoteCode).toBe('proxy_refused');
      expect(err.message).toContain('the proxy refused the tunnel with HTTP 407');
    } finally {
      await guarded.close();
    }
  });
});

describe('the connect policy (where an egress check plugs in)', () => {
  it('sees the service when direct and only the proxy when proxied; refusing fails the request', async () => {
    const seen: string[] = [];
    setConnectPolicy((connect) => (options, callback) => {
      seen.push(`${options.hostname}:${options.port}`);
      if (options.port === String(new URL(splunk.url).port) && seen.length > 2)
        return callback(new Error('egress denied by test policy'), null);
      return connect(options, callback);
    });
    await createJiraIssue(jiraConfig({ tls: { ca: certs.ca } }), draft(), {
      timeoutMs: TIMEOUT,
      lookupFirst: false,
    });
    expect(seen).toEqual([new URL(jira.url).host]);

    await createJiraIssue(jiraConfig({ tls: { ca: certs.ca }, proxy_url: proxy.url }), draft(), {
      timeoutMs: TIMEOUT,
      lookupFirst: false,
    });
    expect(seen[1]).toBe(`127.0.0.1:${proxy.port}`);

    const err = await failure(
      deliverToSplunk(splunkConfig({ tls: { ca: certs.ca } }), event, { connectorId: 's', severity: 'high' }),
    );
    expect(err.message).toContain('egress denied by test policy');
  });
});
