/**
 * The console's connector and replay pages over the real API (HTTP forms, no browser): the state
 * of each connector's secrets, an undecryptable connector standing out and repaired from its edit
 * form (every secret named, empty ones removed), a stored secret removed with its "remove" box
 * (a Slack connector switched from its webhook URL to a bot token), the test button named after
 * what the test does, and a replay's skips counted by their reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../infra/secret-box.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import { eventually, FAST_RETRY, jiraConnector, makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let splunk: FakeSplunk;
/** The signed-in console session: its cookie and its CSRF token. */
let session: { cookie: string; csrf: string };

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;

async function signIn() {
  const form = await fetch(`${stack.url}/ui/login`);
  const preSession = form.headers.get('set-cookie')!.split(';')[0]!;
  const res = await fetch(`${stack.url}/ui/login`, {
    method: 'POST',
    headers: { origin: stack.url, cookie: preSession, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ api_key: ADMIN_KEY, _csrf: csrfOf(await form.text()) }),
    redirect: 'manual',
  });
  expect(res.status).toBe(303);
  const cookie = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('escalate_session='))!
    .split(';')[0]!;
  session = { cookie, csrf: '' };
  session.csrf = csrfOf(await page('/ui'));
}

async function page(path: string): Promise<string> {
  const res = await fetch(`${stack.url}${path}`, { headers: { cookie: session.cookie }, redirect: 'manual' });
  expect(res.status, path).toBe(200);
  return res.text();
}

/** Posts a console form; answers the status and the page shown next (after a redirect, its flash). */
async function post(path: string, fields: Record<string, string>): Promise<{ status: number; html: string }> {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: {
      origin: stack.url,
      cookie: session.cookie,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ ...fields, _csrf: session.csrf }),
    redirect: 'manual',
  });
  if (res.status !== 303) return { status: res.status, html: await res.text() };
  const flash = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .filter((c) => !c.startsWith('escalate_session='));
  const next = await fetch(`${stack.url}${res.headers.get('location')}`, {
    headers: { cookie: [session.cookie, ...flash].join('; ') },
  });
  return { status: 303, html: await next.text() };
}

interface ConnectorView {
  config: Record<string, unknown>;
  status: { secrets: string; secrets_error: string | null };
}
const connector = async (id: string) =>
  (await (await stack.api(`/v1/connectors/${id}`)).json()) as ConnectorView;

async function create(body: Record<string, unknown>) {
  const res = await stack.api('/v1/connectors', { method: 'POST', json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** The edit form's fields as a browser submits them untouched (secrets empty, boxes unticked). */
async function editForm(id: string): Promise<Record<string, string>> {
  const html = await page(`/ui/connectors/${id}/edit`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="text" name="([^"]+)" value="([^"]*)"/g))
    fields[m[1]!] = m[2]!.replaceAll('&amp;', '&');
  for (const m of html.matchAll(/<textarea name="([^"]+)"[^>]*>([^<]*)<\/textarea>/g)) fields[m[1]!] = m[2]!;
  for (const m of html.matchAll(/<select name="([^"]+)">([\s\S]*?)<\/select>/g))
    fields[m[1]!] = /<option value="([^"]*)" selected/.exec(m[2]!)?.[1] ?? '';
  for (const m of html.matchAll(/<input type="checkbox" name="(enabled|auto_push)" value="true" checked/g))
    fields[m[1]!] = 'true';
  return fields;
}

const lastChange = async (id: string) => {
  const res = await stack.api(`/v1/audit?action=connector.updated&subject_id=${id}`);
  const { items } = (await res.json()) as { items: { details: { changed: string[] } }[] };
  return items[0]!.details.changed;
};

beforeAll(async () => {
  [stack, splunk] = await Promise.all([startStack(), startFakeSplunk({ token: 'hec-token' })]);
  await signIn();
}, 120_000);
afterAll(async () => {
  await Promise.all([stack?.close(), splunk?.close()]);
});

describe('connector secrets in the console', () => {
  const LOST_KEY = SecretBox.generateKey();

  it('lists and shows the state of the secrets; an undecryptable connector stands out with what to do', async () => {
    const lost = await create(
      jiraConnector('https://jira.example.com', { name: 'jira-lost', auto_push: false }),
    );
    const fine = await create(
      jiraConnector('https://jira.example.com', { name: 'jira-fine', auto_push: false }),
    );
    const bare = await create({
      name: 'hook-bare',
      kind: 'webhook',
      config: { url: 'https://siem.example.com/in' },
      filters: { min_severity: 'critical', event_types: ['test_connection'] },
    });
    await stack.database
      .sql`update connectors set secrets = ${new SecretBox(LOST_KEY).seal('{"api_token":"t"}', lost)} where id = ${lost}`;
    const { secrets_error } = (await connector(lost)).status;
    expect(secrets_error).toMatch(/cannot be decrypted/);

    const list = await page('/ui/connectors');
    const row = (id: string) =>
      new RegExp(`<tr>(?:(?!</tr>).)*/ui/connectors/${id}"(?:(?!</tr>).)*</tr>`, 's').exec(list)![0];
    expect(list).toContain('<th>secrets</th>');
    expect(row(fine)).toContain('<span class="badge ok">sealed</span>');
    expect(row(bare)).toContain('<span class="muted">none</span>');
    expect(row(lost)).toContain('<span class="badge bad">undecryptable</span>');
    expect(row(lost)).toContain(
      `href="/ui/connectors/${lost}/edit">skipped by planning: re-enter its secrets</a>`,
    );

    const detail = await page(`/ui/connectors/${lost}`);
    expect(detail).toContain(
      '<div class="callout bad"><strong>Secrets cannot be decrypted: planning skips this connector.',
    );
    expect(detail).toContain(secrets_error!.replaceAll("'", '&#39;'));
    expect(detail).toContain(`<a href="/ui/connectors/${lost}/edit">Re-enter its secrets</a>`);
    expect(await page(`/ui/connectors/${fine}`)).not.toContain('callout bad');
  });

  it('repairs an undecryptable connector: the form names every secret, the empty ones removed', async () => {
    const lost = await create(
      jiraConnector('https://jira.example.com', {
        name: 'jira-repair',
        auto_push: false,
        config: {
          base_url: 'https://jira.example.com',
          api: 'cloud',
          email: 'bot@example.com',
          api_token: 'cloud-token',
          webhook_secret: 'hook-secret-0123456789',
          project_key: 'SEC',
        },
      }),
    );
    await stack.database
      .sql`update connectors set secrets = ${new SecretBox(LOST_KEY).seal('{"api_token":"t"}', lost)} where id = ${lost}`;
    const form = await page(`/ui/connectors/${lost}/edit`);
    expect(form).toContain(
      'secrets cannot be decrypted: enter every secret this connector uses; empty fields are removed',
    );
    expect(form).not.toContain('name="remove.config.'); // nothing stored can be kept or removed

    // A rename alone sends no config: the unreadable secrets stay as they are (a key may come back).
    const renamed = await post(`/ui/connectors/${lost}/edit`, {
      ...(await editForm(lost)),
      name: 'jira-renamed',
    });
    expect(renamed.html).toContain('Saved.');
    expect(await lastChange(lost)).toEqual(['name']);
    expect((await connector(lost)).status.secrets).toBe('undecryptable');

    const saved = await post(`/ui/connectors/${lost}/edit`, {
      ...(await editForm(lost)),
      'config.api_token': 'new-cloud-token',
    });
    expect(saved.status).toBe(303);
    expect(saved.html).toContain('Saved.');
    expect((await lastChange(lost)).sort()).toEqual([
      'config',
      'config.api_token',
      'config.client_secret',
      'config.pat',
      'config.proxy_url',
      'config.webhook_secret',
    ]);
    const repaired = await connector(lost);
    expect(repaired.status.secrets).toBe('sealed');
    expect(repaired.config.api_token).toBe('********');
    expect(repaired.config).not.toHaveProperty('webhook_secret');
  });

  it('removes a stored secret with its box: a Slack connector moves from its webhook URL to a bot token', async () => {
    const slack = await create({
      name: 'slack-switch',
      kind: 'slack',
      config: { webhook_url: 'https://hooks.slack.com/services/T0/B0/switchsecret1' },
    });
    const form = await page(`/ui/connectors/${slack}/edit`);
    expect(form).toContain('name="remove.config.webhook_url" value="true"');
    expect(form).not.toContain('name="remove.config.bot_token"'); // nothing stored to remove

    // Both a new value and "remove": refused by the form, nothing sent.
    const both = await post(`/ui/connectors/${slack}/edit`, {
      ...(await editForm(slack)),
      'config.webhook_url': 'https://hooks.slack.com/services/T0/B0/other',
      'remove.config.webhook_url': 'true',
    });
    expect(both.status).toBe(400);
    expect(both.html).toContain('config.webhook_url: enter a new value or tick &quot;remove&quot;, not both');
    expect(both.html).toMatch(/name="remove.config.webhook_url" value="true" checked/);
    // The refused form shows what was submitted as it was: an empty YAML field stays empty.
    expect(both.html).toContain('<textarea name="config.tls" rows="4"></textarea>');

    const switched = await post(`/ui/connectors/${slack}/edit`, {
      ...(await editForm(slack)),
      'remove.config.webhook_url': 'true',
      'config.bot_token': 'xoxb-0123-switch',
      'config.channel': 'C0123456',
    });
    expect(switched.html).toContain('Saved.');
    const now = await connector(slack);
    expect(now.config).not.toHaveProperty('webhook_url');
    expect(now.config).toMatchObject({ bot_token: '********', channel: 'C0123456' });
    expect(now.status.secrets).toBe('sealed');
  });

  it('names the test after what it does for the kind', async () => {
    const cases = [
      [
        await create(jiraConnector('https://jira.example.com', { name: 'jira-label', auto_push: false })),
        'Test: create a test ticket',
      ],
      [
        await create({
          name: 'teams-label',
          kind: 'teams',
          config: { webhook_url: 'https://example.webhook.office.com/wf/x' },
        }),
        'Test: send a test message',
      ],
      [
        await create({
          name: 'splunk-label',
          kind: 'splunk',
          config: { hec_url: splunk.url, hec_token: 'hec-token' },
        }),
        'Test: send a test event',
      ],
    ] as const;
    for (const [id, label] of cases) {
      const html = await page(`/ui/connectors/${id}`);
      expect(html, id).toContain(`>${label}</button>`);
      for (const other of ['ticket', 'message', 'event'].filter((w) => !label.endsWith(w)))
        expect(html, id).not.toContain(`a test ${other}</button>`);
    }
  });
});

describe('replay page', () => {
  it('counts the skips by their reason and gives each row its reason', async () => {
    const hec = await create({
      name: 'splunk-replay',
      kind: 'splunk',
      config: { hec_url: splunk.url, hec_token: 'hec-token', index: 'security' },
      retry: FAST_RETRY,
    });
    const event = makeEvent();
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    await eventually(async () => {
      const res = await stack.api(`/v1/deliveries?status=delivered&connector_id=${hec}`);
      return ((await res.json()) as { items: unknown[] }).items.length === 1;
    });
    // Delivered ones replayed: each is skipped, having been delivered already.
    const started = await stack.api('/v1/deliveries:replay', {
      method: 'POST',
      json: { filter: { status: 'delivered', connector_id: hec } },
    });
    const { replay_id } = (await started.json()) as { replay_id: string };
    const html = await eventually(async () => {
      const text = await page(`/ui/replays/${replay_id}`);
      return text.includes('<span class="badge completed">completed</span>') && text;
    });
    expect(html).not.toContain('skipped (already delivered)');
    expect(html).toContain(
      '<dt>skipped: already delivered</dt><dd>1 (delivered since it was selected: nothing to do)</dd>',
    );
    expect(html).toContain('<span class="badge skipped">skipped</span> already delivered');
  });
});
