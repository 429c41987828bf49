/**
 * Connector checks against the fakes: every kind authenticates without writing, a bad token and a
 * missing permission are reported the way the platform reports them, and nothing is created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConnector } from '../../connectors/checks/index.js';
import { datadogApiUrl } from '../../connectors/checks/siem.js';
import { CONFIG_SCHEMAS, type ConfigByKind, type ConnectorKind } from '../../domain/connector.js';
import { freePort } from '../../infra/ports.js';
import { type FakeDatadog, startFakeDatadog } from '../fakes/datadog.js';
import { type FakeElasticsearch, startFakeElasticsearch } from '../fakes/elasticsearch.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeServiceNow, startFakeServiceNow } from '../fakes/servicenow.js';
import { type FakeSlack, startFakeSlack } from '../fakes/slack.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import { type FakeTeams, startFakeTeams } from '../fakes/teams.js';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from '../fakes/webhook-receiver.js';
import { jiraConnector } from '../helpers/events.js';
import { RISK_AND_CLASSIFICATIONS } from '../helpers/jira-installation.js';

const config = <K extends ConnectorKind>(kind: K, raw: Record<string, unknown>) =>
  CONFIG_SCHEMAS[kind].parse(raw) as ConfigByKind[K];

const byName = (report: { checks: { name: string; ok: boolean; message: string }[] }) =>
  Object.fromEntries(report.checks.map((c) => [c.name, c]));

let jira: FakeJira;
let jiraReadOnly: FakeJira;
let snow: FakeServiceNow;
let snowDenied: FakeServiceNow;
let splunk: FakeSplunk;
let datadog: FakeDatadog;
let es: FakeElasticsearch;
let esReader: FakeElasticsearch;
let hook: FakeWebhookReceiver;
let slack: FakeSlack;
let teams: FakeTeams;

beforeAll(async () => {
  [jira, jiraReadOnly, snow, snowDenied, splunk, datadog, es, esReader, hook] = await Promise.all([
    startFakeJira({ displayName: 'Escalate Bot' }),
    startFakeJira({ permissions: ['BROWSE_PROJECTS', 'CREATE_ISSUES', 'EDIT_ISSUES'] }),
    startFakeServiceNow({ username: 'svc', password: 'pw', groups: ['Security Operations'] }),
    startFakeServiceNow({ username: 'svc', password: 'pw', deniedTables: ['sn_si_incident'] }),
    startFakeSplunk({ token: 'hec-token' }),
    startFakeDatadog({ apiKey: 'dd-key' }),
    startFakeElasticsearch({ apiKey: 'es-key' }),
    startFakeElasticsearch({ apiKey: 'es-key', privileges: { index: { 'escalate-*': ['read'] } } }),
    startFakeWebhookReceiver({ secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=' }),
  ]);
  [slack, teams] = await Promise.all([startFakeSlack(), startFakeTeams()]);
});
afterAll(async () => {
  await Promise.all(
    [jira, jiraReadOnly, snow, snowDenied, splunk, datadog, es, esReader, hook, slack, teams].map((f) =>
      f?.close(),
    ),
  );
});

const jiraConfig = (url: string, overrides: Record<string, unknown> = {}) =>
  config('jira', { ...jiraConnector(url).config, ...overrides });

describe('Jira', () => {
  it('passes on Cloud and on Data Center, creating nothing', async () => {
    const cloud = await checkConnector('jira', jiraConfig(jira.url));
    expect(cloud.ok, JSON.stringify(cloud)).toBe(true);
    expect(cloud.checks.map((c) => c.name)).toEqual([
      'authenticate',
      'permissions',
      'issue type',
      'custom fields',
    ]);
    expect(byName(cloud).authenticate!.message).toBe('authenticated as Escalate Bot (bot@example.com)');
    expect(byName(cloud)['issue type']!.message).toMatch(/^Task exists in SEC \(id \d+\)$/);

    const dc = await checkConnector('jira', jiraConfig(jira.url, { api: 'datacenter', pat: 'dc-pat' }));
    expect(dc.ok, JSON.stringify(dc)).toBe(true);
    expect(byName(dc)['issue type']!.message).toMatch(/^Task exists in SEC/);
    expect(jira.issues.size).toBe(0);
  });

  it('reports a bad token as Jira does and skips the steps that need it', async () => {
    const r = await checkConnector('jira', jiraConfig(jira.url, { api_token: 'wrong' }));
    expect(r.ok).toBe(false);
    expect(byName(r).authenticate).toEqual({
      name: 'authenticate',
      ok: false,
      message: expect.stringMatching(/^HTTP 401: You are not authenticated/),
    });
    expect(byName(r).permissions!.message).toBe('skipped: authenticate did not pass');
    expect(byName(r)['issue type']!.ok).toBe(false);
  });

  it('names each missing project permission, an unknown issue type and an unknown project', async () => {
    const r = await checkConnector('jira', jiraConfig(jiraReadOnly.url, { issue_type: 'Story' }));
    expect(r.ok).toBe(false);
    expect(byName(r).authenticate!.ok).toBe(true);
    expect(byName(r).permissions!.message).toBe(
      'missing in SEC: TRANSITION_ISSUES (to move tickets through the workflow); ADD_COMMENTS (to comment on recurrences and SLA breaches)',
    );
    expect(byName(r)['issue type']!.message).toBe(
      'no issue type "Story" in SEC; available: Task, Bug, Incident',
    );
    const unknown = await checkConnector('jira', jiraConfig(jira.url, { project_key: 'NOPE' }));
    expect(byName(unknown).permissions!.message).toBe("HTTP 404: No project could be found with key 'NOPE'.");
    expect(jiraReadOnly.issues.size + jira.issues.size).toBe(0);
  });
});

describe('Jira permissions the configuration needs', () => {
  it('asks for Resolve Issues with a resolution and Assign Issues with a default assignee', async () => {
    const r = await checkConnector(
      'jira',
      jiraConfig(jiraReadOnly.url, { resolution: 'Fixed', assignee: '5b10ac8d82e05b22cc7d4ef5' }),
    );
    expect(byName(r).permissions!.message).toContain('RESOLVE_ISSUES (to set the resolution when resolving)');
    expect(byName(r).permissions!.message).toContain(
      'ASSIGN_ISSUES (to assign tickets to the default assignee)',
    );
    const granted = await checkConnector('jira', jiraConfig(jira.url, { resolution: 'Fixed' }));
    expect(byName(granted).permissions!.message).toBe(
      'in SEC: BROWSE_PROJECTS, CREATE_ISSUES, TRANSITION_ISSUES, ADD_COMMENTS, EDIT_ISSUES, RESOLVE_ISSUES',
    );
  });
});

describe('Jira custom fields', () => {
  it('every configured field must be on the create screen with a type escalate fills; required ones configured', async () => {
    const fields = await startFakeJira({
      customFields: [
        ...RISK_AND_CLASSIFICATIONS,
        {
          id: 'customfield_10060',
          name: 'Affected service',
          type: 'option-with-child',
          custom: 'cascadingselect',
        },
        {
          id: 'customfield_10061',
          name: 'Business owner',
          type: 'user',
          custom: 'userpicker',
          required: true,
        },
      ],
    });
    try {
      const ok = await checkConnector(
        'jira',
        jiraConfig(fields.url, {
          custom_fields: {
            customfield_10050: '{{ risk_score }}',
            customfield_10051: '{{ classifications | map("type") | join(",") }}',
            customfield_10061: '5b10ac8d82e05b22cc7d4ef5',
          },
        }),
      );
      expect(byName(ok)['custom fields']).toEqual({
        name: 'custom fields',
        ok: true,
        message: '3 custom fields on the create screen, each of a type escalate fills',
      });
      const bad = await checkConnector(
        'jira',
        jiraConfig(fields.url, { custom_fields: { customfield_10060: 'x', customfield_19999: 'y' } }),
      );
      expect(bad.ok).toBe(false);
      expect(byName(bad)['custom fields']!.message).toBe(
        [
          'customfield_10060 ("Affected service", option-with-child): field type "option-with-child" is not supported by escalate',
          'customfield_19999 is not on the create screen (or does not exist)',
          'customfield_10061 ("Business owner", user) is required by the create screen but not configured',
        ].join('; '),
      );
      // Reads only: the create metadata, never an issue.
      expect(fields.issues.size).toBe(0);
      expect(fields.requests.every((r) => r.method === 'GET')).toBe(true);
    } finally {
      await fields.close();
    }
  });
});

const snowConfig = (url: string, overrides: Record<string, unknown> = {}) =>
  config('servicenow', { instance_url: url, username: 'svc', password: 'pw', ...overrides });

describe('ServiceNow', () => {
  it('authenticates, reads the table and finds the assignment group by name or sys_id', async () => {
    const r = await checkConnector(
      'servicenow',
      snowConfig(snow.url, { assignment_group: 'Security Operations' }),
    );
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.checks.map((c) => c.name)).toEqual([
      'authenticate',
      'read table',
      'assignment group',
      'close code',
    ]);
    expect(byName(r).authenticate!.message).toBe('authenticated as escalate integration (svc)');
    const sysId = snow.list('sys_user_group')[0]!.fields.sys_id!;
    const bySysId = await checkConnector('servicenow', snowConfig(snow.url, { assignment_group: sysId }));
    expect(byName(bySysId)['assignment group']!.message).toBe(
      `group "Security Operations" exists (sys_id ${sysId})`,
    );
    // Without a group configured there is nothing to look up.
    const bare = await checkConnector('servicenow', snowConfig(snow.url));
    expect(bare.checks.map((c) => c.name)).toEqual(['authenticate', 'read table', 'close code']);
    expect(snow.list('incident')).toHaveLength(0);
    expect(snow.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('reports bad credentials, a table the ACLs deny, and an unknown group', async () => {
    const bad = await checkConnector('servicenow', snowConfig(snow.url, { password: 'nope' }));
    expect(byName(bad).authenticate!.message).toBe(
      'HTTP 401: User Not Authenticated: Required to provide Auth information',
    );
    const denied = await checkConnector(
      'servicenow',
      snowConfig(snowDenied.url, { table: 'sn_si_incident', assignment_group: 'SOC' }),
    );
    expect(denied.ok).toBe(false);
    expect(byName(denied)['read table']!.message).toBe(
      'HTTP 403: User Not Authorized: Failed API level ACL Validation',
    );
    expect(byName(denied)['assignment group']!.message).toBe('no sys_user_group with name "SOC"');
  });
});

describe('ServiceNow OAuth and security incidents', () => {
  it('checks with an OAuth client, and says when closing would need a close code', async () => {
    const oauth = await startFakeServiceNow({
      username: 'svc',
      password: 'pw',
      oauth: { clientId: 'escalate', clientSecret: 'client-secret' },
    });
    try {
      const r = await checkConnector(
        'servicenow',
        config('servicenow', {
          instance_url: oauth.url,
          auth: 'oauth',
          client_id: 'escalate',
          client_secret: 'client-secret',
          table: 'sn_si_incident',
        }),
      );
      expect(byName(r).authenticate).toMatchObject({
        ok: true,
        message: 'credentials of OAuth client escalate accepted',
      });
      expect(byName(r)['read table']!.ok).toBe(true);
      expect(byName(r)['close code']).toMatchObject({
        ok: false,
        message:
          "sn_si_incident needs close_code to become closed: set it to one of the instance's close codes",
      });
      expect(oauth.oauth!.tokenRequests).toBe(1);
    } finally {
      await oauth.close();
    }
  });
});

describe('SIEM', () => {
  it('Splunk: health, and the token through an empty request that indexes nothing', async () => {
    const ok = await checkConnector(
      'splunk',
      config('splunk', { hec_url: splunk.url, hec_token: 'hec-token' }),
    );
    expect(ok.ok, JSON.stringify(ok)).toBe(true);
    expect(byName(ok).reachable!.message).toBe('HEC answers: HEC is healthy');
    expect(byName(ok).authenticate!.message).toMatch(/^token accepted \(HEC answered "No data"/);
    const bad = await checkConnector('splunk', config('splunk', { hec_url: splunk.url, hec_token: 'wrong' }));
    expect(bad.ok).toBe(false);
    expect(byName(bad).authenticate!.message).toBe('HTTP 403: Invalid token (code 4)');
    expect(splunk.received).toHaveLength(0);
  });

  it('Datadog: validates the API key on the API host of the site', async () => {
    const dd = (key: string) =>
      config('datadog', { logs_url: datadog.url, api_key: key, metrics_url: datadog.url });
    expect((await checkConnector('datadog', dd('dd-key'))).ok).toBe(true);
    const bad = await checkConnector('datadog', dd('wrong'));
    expect(byName(bad).authenticate!.message).toBe('HTTP 403: Forbidden');
    expect(datadog.logs).toHaveLength(0);
    expect(
      datadogApiUrl(
        config('datadog', { logs_url: 'https://http-intake.logs.us3.datadoghq.com', api_key: 'k' }),
      ),
    ).toBe('https://api.us3.datadoghq.com');
    expect(
      datadogApiUrl(config('datadog', { logs_url: 'https://http-intake.logs.datadoghq.eu', api_key: 'k' })),
    ).toBe('https://api.datadoghq.eu');
  });

  it('Elasticsearch: authenticates, then reports a missing create_doc privilege', async () => {
    const ok = await checkConnector(
      'elasticsearch',
      config('elasticsearch', { url: es.url, api_key: 'es-key' }),
    );
    expect(ok.ok, JSON.stringify(ok)).toBe(true);
    expect(byName(ok).authenticate!.message).toBe('authenticated as escalate-key (api_key)');
    expect(byName(ok).privileges!.message).toBe('create_doc on escalate-*; may install the index template');
    const reader = await checkConnector(
      'elasticsearch',
      config('elasticsearch', { url: esReader.url, api_key: 'es-key' }),
    );
    expect(byName(reader).privileges).toEqual({
      name: 'privileges',
      ok: false,
      message:
        'missing create_doc on escalate-*; may not install the index template (manage_index_templates; optional)',
    });
    const bad = await checkConnector(
      'elasticsearch',
      config('elasticsearch', { url: es.url, api_key: 'nope' }),
    );
    expect(byName(bad).authenticate!.message).toMatch(
      /^HTTP 401: security_exception: unable to authenticate/,
    );
    expect(es.docs()).toHaveLength(0);
  });

  it('webhook: reachability only, and nothing is delivered', async () => {
    const r = await checkConnector('webhook', config('webhook', { url: hook.url }));
    expect(r.ok).toBe(true);
    expect(byName(r).reachable!.message).toMatch(/^reachable \(HTTP 404 to GET/);
    expect(hook.received).toHaveLength(0);
    const closed = await checkConnector(
      'webhook',
      config('webhook', { url: `http://127.0.0.1:${await freePort()}/hook` }),
    );
    expect(closed.ok).toBe(false);
    expect(byName(closed).reachable!.message).toMatch(/network error: ECONNREFUSED/);
  });

  it('slack webhook: found by an empty message Slack refuses, nothing posted; a gone one says no_service', async () => {
    const r = await checkConnector('slack', config('slack', { webhook_url: slack.webhookUrl }));
    expect(r).toEqual({
      ok: true,
      checks: [
        {
          name: 'webhook',
          ok: true,
          message: 'the webhook exists (Slack refused an empty message with no_text: nothing was posted)',
        },
      ],
    });
    const gone = await checkConnector(
      'slack',
      config('slack', { webhook_url: `${slack.url}/services/T0/B0/gone123` }),
    );
    expect(byName(gone).webhook).toMatchObject({ ok: false, message: 'HTTP 404: no_service' });
    const closed = await checkConnector(
      'slack',
      config('slack', { webhook_url: `http://127.0.0.1:${await freePort()}/services/T0/B0/secretpath` }),
    );
    expect(byName(closed).webhook!.message).not.toContain('secretpath');
    expect(slack.posted).toHaveLength(0);
  });

  it('slack bot: the token, then the channel and the history scope the retry lookup needs', async () => {
    const bot = (over: Record<string, unknown> = {}) =>
      config('slack', { bot_token: slack.botToken, channel: slack.channel, api_url: slack.apiUrl, ...over });
    const r = await checkConnector('slack', bot());
    expect(r.ok).toBe(true);
    expect(byName(r).authenticate!.message).toBe('the token is escalate in Escalate Demo');
    expect(byName(await checkConnector('slack', bot({ bot_token: 'xoxb-9-9-wrong' })))).toMatchObject({
      authenticate: { ok: false, message: 'auth.test: invalid_auth' },
      channel: { ok: false, message: 'skipped: authenticate did not pass' },
    });
    expect(byName(await checkConnector('slack', bot({ channel: 'C0ELSEWHERE' }))).channel!.message).toMatch(
      /^channel_not_found: /,
    );
    slack.historyScope.enabled = false;
    try {
      const blind = await checkConnector('slack', bot());
      expect(byName(blind).channel).toMatchObject({
        ok: false,
        message: expect.stringContaining('may post it twice'),
      });
    } finally {
      slack.historyScope.enabled = true;
    }
    expect(slack.posted).toHaveLength(0);
  });

  it('teams: reachability only (Workflows runs on POST), and nothing is posted', async () => {
    const r = await checkConnector('teams', config('teams', { webhook_url: teams.webhookUrl }));
    expect(r.ok).toBe(true);
    expect(byName(r).reachable!.message).toMatch(
      /^reachable \(HTTP 405 to GET: TriggerRequestMethodNotValid\)/,
    );
    expect(teams.received).toHaveLength(0);
  });
});
