import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyConfigFile, parseConfigFile } from '../../infra/config-file.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeServiceNow, startFakeServiceNow } from '../fakes/servicenow.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import { eventually, FAST_RETRY, jiraConnector, makeEvent } from '../helpers/events.js';
import { INGEST_KEY, type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let jira: FakeJira;
let snow: FakeServiceNow;
let splunk: FakeSplunk;

beforeAll(async () => {
  [stack, jira, snow, splunk] = await Promise.all([
    startStack(),
    startFakeJira({ projects: ['SEC', 'OPS'] }),
    startFakeServiceNow({ username: 'svc', password: 'pw', tables: ['incident', 'sn_si_incident'] }),
    startFakeSplunk({ token: 'hec-token' }),
  ]);
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([jira, snow, splunk].map((f) => f?.close()));
});

async function create(body: Record<string, unknown>) {
  const res = await stack.api('/v1/connectors', { method: 'POST', json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; config: Record<string, unknown> };
}

type View = {
  status: string;
  tickets: { external_id: string; connector_id: string }[];
  deliveries: {
    id: string;
    connector_id: string;
    status: string;
    attempts: number;
    last_error: string | null;
  }[];
};
const view = async (id: string) => (await (await stack.api(`/v1/violations/${id}`)).json()) as View;
const settled = (id: string) =>
  eventually(
    async () => ((await view(id)).status !== 'processing' ? view(id) : undefined),
    30_000,
    `violation ${id}`,
  );

describe('connector management', () => {
  it('masks secrets on read and stores them encrypted', async () => {
    const c = await create(jiraConnector(jira.url, { auto_push: false }));
    expect(c.config.api_token).toBe('********');
    const [raw] = await stack.database.sql`select config::text, secrets from connectors where id = ${c.id}`;
    expect(`${raw!.config}${raw!.secrets}`).not.toContain('cloud-token');
    const listed = (await (await stack.api('/v1/connectors')).json()) as {
      items: { id: string; config: Record<string, unknown> }[];
    };
    expect(listed.items.find((i) => i.id === c.id)!.config.api_token).toBe('********');
  });

  it('validates per kind with the offending field paths', async () => {
    const res = await stack.api('/v1/connectors', {
      method: 'POST',
      json: { name: 'bad', kind: 'jira', config: { base_url: 'ftp://x', api: 'cloud', project_key: 'sec' } },
    });
    expect(res.status).toBe(400);
    const paths = ((await res.json()) as { error: { details: { path: string }[] } }).error.details.map(
      (d) => d.path,
    );
    expect(paths).toEqual(
      expect.arrayContaining(['config.base_url', 'config.project_key', 'config.email', 'config.api_token']),
    );
  });

  it('PATCH merges config, keeps masked secrets, and toggles enabled', async () => {
    const c = await create(jiraConnector(jira.url, { auto_push: false }));
    const res = await stack.api(`/v1/connectors/${c.id}`, {
      method: 'PATCH',
      json: { enabled: false, config: { project_key: 'OPS', api_token: '********' } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { enabled: boolean; config: Record<string, unknown> };
    expect(body).toMatchObject({ enabled: false, config: { project_key: 'OPS', api_token: '********' } });
    const test = await stack.api(`/v1/connectors/${c.id}/test`, { method: 'POST' });
    expect(((await test.json()) as { ok: boolean }).ok).toBe(true);
  });

  it('notification connectors: webhook URLs and bot tokens are secrets; notify_on shows its default and PATCHes by kind', async () => {
    const hookUrl = 'https://hooks.slack.com/services/T0/B0/0123456789abcdefghij';
    const slack = await create({ name: 'slack-admin', kind: 'slack', config: { webhook_url: hookUrl } });
    expect(slack.config.webhook_url).toBe('********');
    const [raw] = await stack.database
      .sql`select config::text, secrets from connectors where id = ${slack.id}`;
    expect(`${raw!.config}${raw!.secrets}`).not.toContain('0123456789abcdefghij');
    const get = async (id: string) =>
      (await (await stack.api(`/v1/connectors/${id}`)).json()) as { notify_on?: string[] };
    expect((await get(slack.id)).notify_on).toEqual(['ticket_created', 'sla_breached', 'delivery_failed']);
    const patch = (id: string, body: unknown) =>
      stack.api(`/v1/connectors/${id}`, { method: 'PATCH', json: body });

    const changed = await patch(slack.id, { notify_on: ['recurrence', 'status_changed'] });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { notify_on: string[] }).notify_on).toEqual([
      'recurrence',
      'status_changed',
    ]);
    const bad = await patch(slack.id, { notify_on: ['recurrence', 'nonsense'] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe(
      'notify_on[1]',
    );
    expect((await patch(slack.id, { notify_on: null })).status).toBe(200);
    expect((await get(slack.id)).notify_on).toEqual(['ticket_created', 'sla_breached', 'delivery_failed']);

    const itsm = await create(jiraConnector(jira.url, { auto_push: false }));
    expect((await get(itsm.id)).notify_on).toBeUndefined();
    const refused = await patch(itsm.id, { notify_on: ['ticket_created'] });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('notify_on is for slack, teams and webhook');

    // Switching a Slack connector to a bot token: the webhook URL goes, the token is sealed.
    const toBot = await patch(slack.id, {
      config: { webhook_url: null, bot_token: 'xoxb-1-2-abcdefghijkl', channel: 'C0SECOPS01' },
    });
    expect(toBot.status, await toBot.clone().text()).toBe(200);
    expect(((await toBot.json()) as { config: Record<string, unknown> }).config).toMatchObject({
      bot_token: '********',
      channel: 'C0SECOPS01',
      api_url: 'https://slack.com/api',
    });
  });

  it('ingest keys may only post violations', async () => {
    expect((await stack.api('/v1/connectors', { key: INGEST_KEY })).status).toBe(403);
    expect((await stack.api('/v1/connectors', { key: 'nope' })).status).toBe(401);
    expect((await stack.api('/v1/connectors', { key: null })).status).toBe(401);
  });
});

describe('test connection', () => {
  it('Jira Cloud: creates a low-severity test ticket and returns its key and URL', async () => {
    const c = await create(jiraConnector(jira.url, { auto_push: false }));
    const res = await stack.api(`/v1/connectors/${c.id}/test`, { method: 'POST' });
    const body = (await res.json()) as { ok: boolean; external_id: string; external_url: string };
    expect(body.ok).toBe(true);
    expect(jira.issues.get(body.external_id)!.fields.priority).toEqual({ name: 'Low' });
    expect(body.external_url).toBe(`${jira.url}/browse/${body.external_id}`);
    const status = (await (await stack.api(`/v1/connectors/${c.id}`)).json()) as {
      status: { last_test_ok: boolean; last_test_at: string };
    };
    expect(status.status.last_test_ok).toBe(true);
  });

  it('returns the remote error verbatim enough to act on (401, unknown project)', async () => {
    const wrong = await create(
      jiraConnector(jira.url, {
        auto_push: false,
        config: { ...jiraConnector(jira.url).config, api_token: 'wrong' },
      }),
    );
    const r1 = (await (await stack.api(`/v1/connectors/${wrong.id}/test`, { method: 'POST' })).json()) as {
      ok: boolean;
      http_status: number;
      message: string;
    };
    expect(r1).toMatchObject({ ok: false, http_status: 401 });
    expect(r1.message).toMatch(/not authenticated/);
    const noProject = await create(
      jiraConnector(jira.url, {
        auto_push: false,
        config: { ...jiraConnector(jira.url).config, project_key: 'NOPE' },
      }),
    );
    const r2 = (await (
      await stack.api(`/v1/connectors/${noProject.id}/test`, { method: 'POST' })
    ).json()) as { message: string };
    expect(r2.message).toContain('project: valid project is required');
  });

  it('ServiceNow and Splunk: a test incident / a test_connection event', async () => {
    const sn = await create({
      name: 'sn-test',
      kind: 'servicenow',
      auto_push: false,
      config: { instance_url: snow.url, username: 'svc', password: 'pw', table: 'sn_si_incident' },
    });
    const r1 = (await (await stack.api(`/v1/connectors/${sn.id}/test`, { method: 'POST' })).json()) as {
      ok: boolean;
      external_id: string;
    };
    expect(r1.ok).toBe(true);
    expect(r1.external_id).toMatch(/^SIR/);
    const sp = await create({
      name: 'splunk-test',
      kind: 'splunk',
      config: { hec_url: splunk.url, hec_token: 'hec-token' },
    });
    const r2 = (await (await stack.api(`/v1/connectors/${sp.id}/test`, { method: 'POST' })).json()) as {
      ok: boolean;
      event_id: string;
    };
    expect(r2.ok).toBe(true);
    expect(
      splunk.received.some(
        (r) => (r.envelope.event as { event_id: string; event_type: string }).event_id === r2.event_id,
      ),
    ).toBe(true);
    await stack.api(`/v1/connectors/${sp.id}`, { method: 'DELETE' });
  });
});

describe('check without side effects', () => {
  type Check = {
    ok: boolean;
    connector_id: string;
    checks: { name: string; ok: boolean; message: string }[];
  };
  const check = async (id: string) => {
    const res = await stack.api(`/v1/connectors/${id}/check`, { method: 'POST' });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Check;
  };

  it('runs on the worker, keeps the verdict as the last check, audits it, and creates nothing', async () => {
    const issuesBefore = jira.issues.size;
    const good = await create(jiraConnector(jira.url, { auto_push: false }));
    const ok = await check(good.id);
    expect(ok).toMatchObject({ ok: true, connector_id: good.id });
    expect(ok.checks.map((c) => [c.name, c.ok])).toEqual([
      ['authenticate', true],
      ['permissions', true],
      ['issue type', true],
      ['custom fields', true],
    ]);

    const bad = await create(
      jiraConnector(jira.url, {
        auto_push: false,
        config: { ...jiraConnector(jira.url).config, api_token: 'wrong' },
      }),
    );
    const refused = await check(bad.id);
    expect(refused.ok).toBe(false);
    expect(refused.checks[0]).toEqual({
      name: 'authenticate',
      ok: false,
      message: expect.stringMatching(/^HTTP 401: You are not authenticated/),
    });
    const view = (await (await stack.api(`/v1/connectors/${bad.id}`)).json()) as {
      status: {
        last_check_ok: boolean;
        last_check_at: string;
        last_check: Check['checks'];
        last_test_at: null;
      };
    };
    expect(view.status).toMatchObject({ last_check_ok: false, last_test_at: null });
    expect(view.status.last_check).toEqual(refused.checks);
    expect(Date.parse(view.status.last_check_at)).not.toBeNaN();
    const audit = (await (
      await stack.api(`/v1/audit?action=connector.check&subject_id=${bad.id}`)
    ).json()) as { items: { actor: string; details: { ok: boolean; failed: string[] } }[] };
    expect(audit.items[0]).toMatchObject({
      actor: 'key…6789',
      details: { ok: false, failed: ['authenticate', 'permissions', 'issue type', 'custom fields'] },
    });
    expect(jira.issues.size).toBe(issuesBefore);
  });

  it('reports a missing permission and a table the user may not read', async () => {
    const limited = await startFakeJira({ permissions: ['BROWSE_PROJECTS', 'CREATE_ISSUES'] });
    try {
      const c = await create(jiraConnector(limited.url, { auto_push: false }));
      const r = await check(c.id);
      expect(r.checks.find((x) => x.name === 'permissions')!.message).toMatch(
        /^missing in SEC: TRANSITION_ISSUES .*; ADD_COMMENTS .*; EDIT_ISSUES /,
      );
      expect(limited.issues.size).toBe(0);
    } finally {
      await limited.close();
    }
    const sn = await create({
      name: 'sn-check',
      kind: 'servicenow',
      auto_push: false,
      config: { instance_url: snow.url, username: 'svc', password: 'pw', table: 'u_missing' },
    });
    const r = await check(sn.id);
    expect(r.checks.find((x) => x.name === 'read table')!.message).toBe('HTTP 400: Invalid table u_missing');
    expect(snow.requests.filter((q) => q.method !== 'GET' && q.path.includes('u_missing'))).toHaveLength(0);
  });

  it('404 for an unknown connector', async () => {
    const res = await stack.api('/v1/connectors/nope/check', { method: 'POST' });
    expect(res.status).toBe(404);
  });
});

describe('manual push, preview and replay', () => {
  it('previews the exact Jira request with secrets masked, then pushes once', async () => {
    const c = await create(jiraConnector(jira.url, { auto_push: false }));
    const event = makeEvent({ severity: 'low' });
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    await settled(event.event_id as string);

    const preview = (await (
      await stack.api(`/v1/violations/${event.event_id}/tickets:preview`, {
        method: 'POST',
        json: { connector_id: c.id },
      })
    ).json()) as {
      method: string;
      url: string;
      headers: Record<string, string>;
      body_json: { fields: { summary: string; priority: unknown } };
    };
    expect(preview.method).toBe('POST');
    expect(preview.url).toBe(`${jira.url}/rest/api/3/issue`);
    expect(preview.headers.Authorization).toBe('Basic ********');
    expect(preview.body_json.fields).toMatchObject({
      summary: '[escalate] policy_violation: max-tokens exceeded',
      priority: { name: 'Low' },
    });

    const push = async () =>
      stack.api(`/v1/violations/${event.event_id}/tickets`, { method: 'POST', json: { connector_id: c.id } });
    expect((await push()).status).toBe(202);
    const v = await eventually(async () => {
      const current = await view(event.event_id as string);
      return current.tickets.length ? current : undefined;
    });
    const again = await push();
    expect(again.status).toBe(200);
    expect(((await again.json()) as { ticket: { external_id: string } }).ticket.external_id).toBe(
      v.tickets[0]!.external_id,
    );
  });

  it('a permanent 401 fails fast; after the credentials are fixed a replay delivers exactly once', async () => {
    const c = await create(
      jiraConnector(jira.url, {
        config: { ...jiraConnector(jira.url).config, api_token: 'expired' },
        retry: FAST_RETRY,
      }),
    );
    const event = makeEvent();
    await stack.api('/v1/violations', { method: 'POST', json: event });
    const failed = await settled(event.event_id as string);
    const d = failed.deliveries.find((x) => x.connector_id === c.id)!;
    expect(d).toMatchObject({ status: 'failed', attempts: 1 });
    expect(d.last_error).toMatch(/401/);

    await stack.api(`/v1/connectors/${c.id}`, {
      method: 'PATCH',
      json: { config: { api_token: 'cloud-token' } },
    });
    expect((await stack.api(`/v1/deliveries/${d.id}/replay`, { method: 'POST' })).status).toBe(202);
    const done = await eventually(async () => {
      const current = await view(event.event_id as string);
      const dd = current.deliveries.find((x) => x.connector_id === c.id)!;
      return dd.status === 'delivered' ? current : undefined;
    });
    expect(done.deliveries.find((x) => x.connector_id === c.id)).toMatchObject({ attempts: 2 });
    const label = jira.issues
      .get(done.tickets.find((t) => t.connector_id === c.id)!.external_id)!
      .fields.labels.find((l) => l.startsWith('escalate-'))!;
    expect(jira.createsByLabel.get(label)).toBe(1);
    // A second replay of a delivered delivery is a no-op.
    const again = await stack.api(`/v1/deliveries/${d.id}/replay`, { method: 'POST' });
    expect(again.status).toBe(200);
    await stack.api(`/v1/connectors/${c.id}`, { method: 'DELETE' });
  });
});

describe('Jira Data Center and YAML bootstrap', () => {
  it('declared connectors are applied idempotently, with env-referenced secrets, and a DC ticket uses v2 + PAT + wiki text', async () => {
    const yaml = `
settings:
  auto_push: { min_severity: high }
connectors:
  - id: jira-dc
    name: Jira DC
    kind: jira
    config:
      base_url: ${jira.url}
      api: datacenter
      pat: \${JIRA_PAT}
      project_key: OPS
      issue_type: Bug
    retry: { maximum_attempts: 3, initial_interval: 50ms }
`;
    const file = parseConfigFile(yaml, { JIRA_PAT: 'dc-pat' });
    expect(file.settings.auto_push.min_severity).toBe('high');
    await applyConfigFile(stack.database.db, stack.box, file);
    await applyConfigFile(stack.database.db, stack.box, file);
    const rows = await stack.database.sql`select count(*)::int as n from connectors where id = 'jira-dc'`;
    expect(rows[0]!.n).toBe(1);
    expect(() => parseConfigFile(yaml, {})).toThrow(/JIRA_PAT is not set/);

    const res = (await (await stack.api('/v1/connectors/jira-dc/test', { method: 'POST' })).json()) as {
      ok: boolean;
      external_id: string;
    };
    expect(res.ok).toBe(true);
    const issue = jira.issues.get(res.external_id)!;
    expect(issue.api).toBe(2);
    expect(typeof issue.fields.description).toBe('string');
    expect(issue.fields.description as string).toContain('{code:json}');

    // Removed from the file: disabled (its tickets keep syncing), audited; API-made ones untouched.
    const apiMade = await stack.api('/v1/connectors', { method: 'POST', json: jiraConnector(jira.url) });
    const apiMadeId = ((await apiMade.json()) as { id: string }).id;
    await applyConfigFile(stack.database.db, stack.box, parseConfigFile('connectors: []\n', {}));
    const connector = async (id: string) =>
      (await (await stack.api(`/v1/connectors/${id}`)).json()) as { enabled: boolean };
    expect((await connector('jira-dc')).enabled).toBe(false);
    expect((await connector(apiMadeId)).enabled).toBe(true);
    const audit = (await (await stack.api('/v1/audit?action=connector.disabled&actor=config')).json()) as {
      items: { subject_id: string }[];
    };
    expect(audit.items.map((e) => e.subject_id)).toEqual(['jira-dc']);
    // Declared again: enabled again.
    await applyConfigFile(stack.database.db, stack.box, file);
    expect((await connector('jira-dc')).enabled).toBe(true);
    await stack.api('/v1/connectors/jira-dc', { method: 'DELETE' });
    await stack.api(`/v1/connectors/${apiMadeId}`, { method: 'DELETE' });
  });
});
