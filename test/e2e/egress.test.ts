/**
 * Outbound URLs (SSRF): base URLs cannot carry a query string, fragment or credentials, and a
 * delivery to a denied address (default: link-local and cloud metadata) fails at once with a
 * clear error on the delivery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const splunk = (hecUrl: string) => ({
  name: `splunk-${Math.random().toString(36).slice(2, 8)}`,
  kind: 'splunk',
  config: { hec_url: hecUrl, hec_token: 'hec-token' },
  retry: { maximum_attempts: 3, initial_interval: '20ms', backoff_coefficient: 1, maximum_interval: '20ms' },
});

describe('connector base URLs', () => {
  it.each([
    ['a query string', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/x?'],
    ['a query string with values', 'https://hec.example.com/?redirect=http://169.254.169.254'],
    ['a fragment', 'https://hec.example.com/#/services/collector'],
    ['credentials', 'https://admin:pw@hec.example.com'],
    ['a user name alone', 'https://admin@hec.example.com'],
  ])('refuses %s (400 naming the field)', async (_what, url) => {
    const res = await stack.api('/v1/connectors', { method: 'POST', json: splunk(url) });
    const body = (await res.json()) as { error: { details: { path: string; message: string }[] } };
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.error.details.map((d) => d.path)).toContain('config.hec_url');
  });

  it('refuses them in a PATCH too', async () => {
    const created = await stack.api('/v1/connectors', {
      method: 'POST',
      json: splunk('https://hec.example.com'),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const res = await stack.api(`/v1/connectors/${id}`, {
      method: 'PATCH',
      json: { config: { hec_url: 'https://hec.example.com/?x=1', hec_token: 'hec-token' } },
    });
    expect(res.status).toBe(400);
  });
});

describe('egress policy (production default)', () => {
  it('fails a delivery to the cloud metadata address at once, with the reason on the delivery', async () => {
    const created = await stack.api('/v1/connectors', {
      method: 'POST',
      json: splunk('http://169.254.169.254:8088'),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const event = makeEvent({ severity: 'low' });
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    const delivery = await eventually(async () => {
      const v = (await (await stack.api(`/v1/violations/${event.event_id}`)).json()) as {
        deliveries: { id: string; connector_id: string; status: string }[];
      };
      const d = v.deliveries.find((x) => x.connector_id === id);
      return d?.status === 'failed' && d;
    });
    const detail = (await (await stack.api(`/v1/deliveries/${delivery.id}`)).json()) as {
      attempts: number;
      last_error: string;
      attempt_log: { remote_code: string; retryable: boolean }[];
    };
    expect(detail.last_error).toMatch(/egress denied: 169\.254\.169\.254 is inside ESCALATE_EGRESS_DENY/);
    expect(detail.attempts).toBe(1);
    expect(detail.attempt_log[0]).toMatchObject({ remote_code: 'egress_denied', retryable: false });
  });
});

describe('secrets follow their host', () => {
  const jiraAt = (baseUrl: string) => ({
    name: `jira-${Math.random().toString(36).slice(2, 8)}`,
    kind: 'jira',
    config: {
      base_url: baseUrl,
      api: 'cloud',
      email: 'bot@example.com',
      api_token: 'cloud-token',
      webhook_secret: 'hook-secret',
      project_key: 'SEC',
    },
  });
  const patch = (id: string, config: Record<string, unknown>) =>
    stack.api(`/v1/connectors/${id}`, { method: 'PATCH', json: { config } });

  it('refuses a PATCH that moves the URL to another host without the secrets (400 naming them)', async () => {
    const created = await stack.api('/v1/connectors', {
      method: 'POST',
      json: jiraAt('https://acme.example.com'),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const moved = await patch(id, { base_url: 'https://collector.attacker.example' });
    const body = (await moved.json()) as {
      error: { code: string; message: string; details: { path: string }[] };
    };
    expect(moved.status, JSON.stringify(body)).toBe(400);
    expect(body.error.code).toBe('secrets_required');
    expect(body.error.details.map((d) => d.path).sort()).toEqual([
      'config.api_token',
      'config.webhook_secret',
    ]);
    // The masked value is not a new secret; another port or scheme is another host too.
    expect(
      (await patch(id, { base_url: 'https://collector.attacker.example', api_token: '********' })).status,
    ).toBe(400);
    expect((await patch(id, { base_url: 'https://acme.example.com:8443' })).status).toBe(400);
    expect((await patch(id, { base_url: 'http://acme.example.com' })).status).toBe(400);

    // Same host, another path: the secrets stay.
    expect((await patch(id, { base_url: 'https://acme.example.com/jira' })).status).toBe(200);
    // Another host with every secret sent again: accepted.
    const ok = await patch(id, {
      base_url: 'https://jira.acme.example.com',
      api_token: 'new-token',
      webhook_secret: 'new-hook-secret',
    });
    expect(ok.status, await ok.clone().text()).toBe(200);
    const view = (await ok.json()) as { config: Record<string, unknown> };
    expect(view.config.base_url).toBe('https://jira.acme.example.com');
  });

  it('counts every URL a secret is sent to (Datadog metrics_url)', async () => {
    const created = await stack.api('/v1/connectors', {
      method: 'POST',
      json: {
        name: 'dd-hosts',
        kind: 'datadog',
        config: { logs_url: 'https://http-intake.example.com', api_key: 'k' },
      },
    });
    const { id } = (await created.json()) as { id: string };
    const res = await patch(id, { metrics_url: 'https://metrics.attacker.example' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { details: { path: string }[] } }).error.details).toEqual([
      expect.objectContaining({ path: 'config.api_key' }),
    ]);
    expect((await patch(id, { metrics_url: 'https://http-intake.example.com' })).status).toBe(200);
  });
});
