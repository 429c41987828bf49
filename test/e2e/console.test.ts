/**
 * The operator console (/ui) and the offline API reference (/docs) in headless Chromium, against
 * `npm start` (API and worker in one process, on the suite's Temporal server and PostgreSQL):
 * sign in with the admin key, find a failed delivery and replay it until it shows delivered,
 * replay a selection after a dry run, create a connector and pass its check, work a ticket, edit
 * and dry-run rules, read the audit log. No request leaves 127.0.0.1 (every request of the page is
 * intercepted). CSRF and the session cookie's flags are checked.
 *
 * Screenshots of each page go to a temp dir; ESCALATE_UPDATE_SCREENSHOTS=1 writes them to
 * docs/console/ instead (the committed ones the README shows).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../infra/ports.js';
import { SecretBox } from '../../infra/secret-box.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import { launchChromium } from '../helpers/chromium.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { createTestDatabase } from '../helpers/stack.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN = `console-admin-${randomUUID()}`;
const INGEST = `console-ingest-${randomUUID()}`;
const SHOTS = process.env.ESCALATE_UPDATE_SCREENSHOTS
  ? join(ROOT, 'docs/console')
  : mkdtempSync(join(tmpdir(), 'escalate-console-'));

let app: ChildProcess | undefined;
let output = '';
let url: string;
let databaseUrl: string;
let jira: FakeJira;
let splunk: FakeSplunk;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Every request the page made that was not for the escalate server. */
const external: string[] = [];

async function api<T>(path: string, init: { method?: string; json?: unknown } = {}): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** `npm start` with the suite's Temporal and PostgreSQL: no dev server or embedded PostgreSQL of its own. */
function npmStart(env: NodeJS.ProcessEnv): ChildProcess {
  const childEnv = { ...process.env, ...env };
  for (const k of ['NODE_OPTIONS', 'VITEST', 'VITEST_POOL_ID', 'VITEST_WORKER_ID']) delete childEnv[k];
  const child = spawn('npm', ['start'], { cwd: ROOT, env: childEnv, detached: true });
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return child;
}

async function shot(name: string, fullPage = true): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

const badgeText = async (selector: string) => (await page.locator(selector).first().textContent())?.trim();

/** Reloads the page until its first badge under `selector` reads `text` (a run finishing). */
const reloadUntilBadge = (selector: string, text: string, what: string) =>
  eventually(
    async () => {
      await page.reload();
      return (await badgeText(selector)) === text;
    },
    60_000,
    what,
  );

beforeAll(async () => {
  [jira, splunk] = await Promise.all([startFakeJira(), startFakeSplunk({ token: 'hec-token' })]);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  databaseUrl = await createTestDatabase();
  app = npmStart({
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `console-${randomUUID()}`,
    ESCALATE_SECRET_KEY: SecretBox.generateKey(),
    ESCALATE_API_KEYS: `${ADMIN}:admin,${INGEST}:ingest`,
    ESCALATE_TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
    ESCALATE_WORKER_METRICS_PORT: 'off',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  await eventually(
    async () => output.includes('escalate is running') && (await fetch(`${url}/readyz`)).status === 200,
    180_000,
    'npm start to be ready',
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${output}`);
  });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.route('**/*', (route) => {
    const target = route.request().url();
    if (new URL(target).origin === url) return route.continue();
    external.push(target);
    return route.abort();
  });
  page = await context.newPage();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (app?.pid && app.exitCode === null) {
    process.kill(-app.pid, 'SIGTERM');
    await new Promise((resolve) => app!.once('exit', resolve));
  }
  await Promise.all([jira?.close(), splunk?.close()]);
});

describe('sign-in', () => {
  it('sends strangers to the sign-in form and refuses ingest and unknown keys', async () => {
    await page.goto(`${url}/ui/deliveries?status=failed`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    expect(await page.locator('input[name=api_key]').getAttribute('type')).toBe('password');
    await shot('sign-in');

    await page.fill('input[name=api_key]', INGEST);
    await page.click('button[type=submit]');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('only admin keys may sign in');
    await page.fill('input[name=api_key]', 'not-a-key');
    await page.click('button[type=submit]');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Unknown API key');
    expect((await context.cookies()).find((c) => c.name === 'escalate_session')).toBeUndefined();
  });

  it('an admin key signs in to the page asked for, with an HttpOnly SameSite=Strict signed cookie', async () => {
    await page.fill('input[name=api_key]', ADMIN);
    await page.click('button[type=submit]');
    await page.waitForURL(`${url}/ui/deliveries?status=failed`);
    const cookie = (await context.cookies()).find((c) => c.name === 'escalate_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui', secure: false });
    const hours = (cookie.expires * 1000 - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(7.9);
    expect(hours).toBeLessThanOrEqual(8);
    expect(cookie.value).not.toContain(ADMIN);
    // Tampered: the signature no longer matches, so it is no session.
    const forged = await fetch(`${url}/ui`, {
      headers: { cookie: `escalate_session=${cookie.value.replace(/.(?=\.)/, 'x')}` },
      redirect: 'manual',
    });
    expect(forged.status).toBe(303);
    expect(forged.headers.get('location')).toMatch(/^\/ui\/login/);
  });
});

describe('pages', () => {
  const marker = `cons${Math.random().toString(36).slice(2, 8)}`;
  const critical = makeEvent({ severity: 'critical', summary: `exfiltration attempt ${marker}` });
  const others = [
    makeEvent({ severity: 'high', summary: `prompt injection ${marker}` }),
    makeEvent({ severity: 'medium', summary: `PII in prompt ${marker}` }),
  ];

  beforeAll(async () => {
    await api('/v1/connectors', { json: jiraConnector(jira.url, { id: 'jira-sec', name: 'Jira SEC' }) });
    await api('/v1/connectors', {
      json: {
        id: 'splunk-prod',
        name: 'Splunk prod',
        kind: 'splunk',
        config: { hec_url: splunk.url, hec_token: 'hec-token', index: 'security' },
        retry: { maximum_attempts: 1 },
      },
    });
    // Splunk is busy for the first three deliveries: they fail (one attempt each).
    for (let i = 0; i < 3; i++) splunk.faults.status(503, { path: '/services/collector/event' });
    for (const e of [critical, ...others]) await api('/v1/violations', { json: e });
    await eventually(
      async () => {
        const failed = await api<{ items: unknown[] }>(
          '/v1/deliveries?status=failed&connector_id=splunk-prod',
        );
        return failed.items.length === 3;
      },
      60_000,
      'three failed Splunk deliveries',
    );
  }, 120_000);

  it('the overview counts what needs attention and draws the days by severity', async () => {
    await page.goto(`${url}/ui`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
    const failedCard = page.locator('.card', { hasText: 'deliveries failed' });
    await expect(failedCard.locator('.value').textContent()).resolves.toBe('3');
    await expect(
      page.locator('.card', { hasText: 'tickets open' }).locator('.value').textContent(),
    ).resolves.toBe('1');
    expect(await page.locator('.chart svg rect').count()).toBeGreaterThanOrEqual(3);
    await shot('overview');
  });

  it('finds a failed delivery, replays it from the page, and shows it delivered', async () => {
    await page.goto(`${url}/ui/deliveries?status=failed&connector_id=splunk-prod`);
    const rows = page.locator('tbody tr');
    await expect(rows.count()).resolves.toBe(3);
    await shot('deliveries');
    await rows.first().getByRole('button', { name: 'Replay' }).click();
    await page.waitForURL(/\/ui\/deliveries\/[0-9a-f-]{36}$/);
    await expect(page.getByRole('status').textContent()).resolves.toBe('Replay started.');
    await reloadUntilBadge('dl.fields .badge', 'delivered', 'the replayed delivery to show delivered');
    await expect(page.locator('tbody tr').count()).resolves.toBe(2); // the failed attempt, then the one that worked
    await shot('delivery');
  });

  it('replays a selection after a dry run, with progress', async () => {
    await page.goto(`${url}/ui/deliveries?status=failed&connector_id=splunk-prod`);
    const boxes = page.locator('input[name=delivery_id]');
    await expect(boxes.count()).resolves.toBe(2);
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.getByRole('button', { name: 'Dry run: replay the selected failed deliveries' }).click();
    await expect(page.locator('main p').first().textContent()).resolves.toContain(
      '2 deliveries would be replayed',
    );
    await shot('replay-dry-run');
    await page.getByRole('button', { name: 'Replay 2 now' }).click();
    await page.waitForURL(/\/ui\/replays\/[0-9a-f-]{36}$/);
    await reloadUntilBadge('main p .badge', 'completed', 'the replay to complete');
    await expect(page.locator('main p').first().textContent()).resolves.toContain('2 of 2 done');
    await shot('replay');
    const failed = await api<{ items: unknown[] }>('/v1/deliveries?status=failed');
    expect(failed.items).toHaveLength(0);

    // Replayed again now that they are delivered: each skip says why.
    const again = await api<{ replay_id: string }>('/v1/deliveries:replay', {
      json: { filter: { status: 'delivered', connector_id: 'splunk-prod' } },
    });
    await page.goto(`${url}/ui/replays/${again.replay_id}`);
    await reloadUntilBadge('main p .badge', 'completed', 'the second replay to complete');
    await expect(page.locator('dl.fields').textContent()).resolves.toContain(
      'skipped: already delivered3 (delivered since it was selected: nothing to do)',
    );
    await shot('replay-skipped');
  });

  it('creates a connector from the form and passes its check, creating nothing in Jira', async () => {
    const issues = jira.issues.size;
    await page.goto(`${url}/ui/connectors`);
    await page.getByRole('link', { name: 'jira', exact: true }).click();
    await page.fill('input[name=id]', 'jira-ops');
    await page.fill('input[name=name]', 'Jira OPS');
    await page.fill('input[name="config.base_url"]', jira.url);
    await page.fill('input[name="config.email"]', 'bot@example.com');
    await page.fill('input[name="config.api_token"]', 'cloud-token');
    await page.fill('input[name="config.project_key"]', 'SEC');
    await shot('connector-new');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(`${url}/ui/connectors/jira-ops`);
    await expect(page.getByRole('status').textContent()).resolves.toBe('Created jira-ops.');
    expect(await page.content()).not.toContain('cloud-token');
    await page.getByRole('button', { name: 'Check (no side effects)' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toBe(
      'Check passed: authenticate, permissions, issue type, custom fields.',
    );
    await expect(page.locator('table').first().textContent()).resolves.toContain(
      'authenticated as escalate bot',
    );
    expect(jira.issues.size).toBe(issues);
    await shot('connector');

    // A wrong token is reported by the check; the form keeps secrets write-only.
    await page.getByRole('link', { name: 'Edit' }).click();
    expect(await page.locator('input[name="config.api_token"]').inputValue()).toBe('');
    await expect(page.locator('input[name="remove.config.api_token"]').isChecked()).resolves.toBe(false);
    await shot('connector-edit');
    await page.fill('input[name="config.api_token"]', 'wrong-token');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toBe('Saved.');
    const [updated] = (
      await api<{ items: { details: { changed: string[] } }[] }>(
        '/v1/audit?action=connector.updated&subject_id=jira-ops',
      )
    ).items;
    expect(updated!.details.changed).toEqual(['config', 'config.api_token']); // only what the form changed
    await page.getByRole('button', { name: 'Check (no side effects)' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('authenticate: HTTP 401');

    // A Slack connector: its webhook URL is a secret field, notify_on a list.
    await page.goto(`${url}/ui/connectors`);
    await page.getByRole('link', { name: 'slack', exact: true }).click();
    await page.fill('input[name=id]', 'slack-ops');
    await page.fill('input[name=name]', 'Slack #ops');
    await page.fill(
      'input[name="config.webhook_url"]',
      'https://hooks.slack.com/services/T0/B0/consolesecret1',
    );
    await page.fill('input[name=notify_on]', 'ticket_created, recurrence');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(`${url}/ui/connectors/slack-ops`);
    expect(await page.content()).not.toContain('consolesecret1');
    expect((await api<{ notify_on: string[] }>('/v1/connectors/slack-ops')).notify_on).toEqual([
      'ticket_created',
      'recurrence',
    ]);
    await page.getByRole('button', { name: 'Test: send a test message' }).waitFor();
    await page.goto(`${url}/ui/connectors`);
    await expect(page.locator('tr', { hasText: 'Jira OPS' }).textContent()).resolves.toContain('sealed');
  });

  it('an undecryptable connector stands out, and its form takes every secret again', async () => {
    await api('/v1/connectors', {
      json: jiraConnector(jira.url, { id: 'jira-lost', name: 'Jira lost key', auto_push: false }),
    });
    // Sealed under a key escalate does not have: as after a lost ESCALATE_SECRET_KEY.
    const sealed = new SecretBox(SecretBox.generateKey()).seal('{"api_token":"cloud-token"}', 'jira-lost');
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`update connectors set secrets = ${sealed} where id = 'jira-lost'`;
    } finally {
      await sql.end();
    }
    await page.goto(`${url}/ui/connectors`);
    await expect(page.locator('tr', { hasText: 'Jira lost key' }).textContent()).resolves.toContain(
      'undecryptable',
    );
    await shot('connectors');
    await page.goto(`${url}/ui/connectors/jira-lost`);
    await expect(page.locator('.callout.bad').textContent()).resolves.toMatch(
      /planning skips this connector.*cannot be decrypted/,
    );
    await shot('connector-undecryptable');
    await page.getByRole('link', { name: 'Re-enter its secrets', exact: true }).click();
    await expect(page.locator('form .callout.bad').textContent()).resolves.toContain(
      'enter every secret this connector uses; empty fields are removed',
    );
    await shot('connector-edit-undecryptable');
    await page.fill('input[name="config.api_token"]', 'cloud-token');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toBe('Saved.');
    expect(await page.locator('.callout.bad').count()).toBe(0);
    expect((await api<{ status: { secrets: string } }>('/v1/connectors/jira-lost')).status.secrets).toBe(
      'sealed',
    );
  });

  it('works a ticket: a forbidden transition is answered with the reason, a comment is queued', async () => {
    const [ticket] = (await api<{ items: { id: string }[] }>('/v1/tickets')).items;
    await page.goto(`${url}/ui/tickets`);
    await shot('tickets');
    await page.goto(`${url}/ui/tickets/${ticket!.id}`);
    await page.selectOption('select[name=status]', 'in_progress');
    await page.getByRole('button', { name: 'Change' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toBe('Status changed to in_progress.');
    // Worked on: it gets a resolution before it may close.
    await page.selectOption('select[name=status]', 'closed');
    await page.getByRole('button', { name: 'Change' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^Refused: .*in_progress.*closed/);
    await page.fill('textarea[name=text]', 'Looked at it from the console.');
    await page.getByRole('button', { name: 'Comment' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Comment queued');
    await eventually(
      async () => {
        const issue = [...jira.issues.values()][0]!;
        return issue.comments.length > 0 && issue.status.category === 'indeterminate';
      },
      30_000,
      'the comment and the transition in Jira',
    );
    await page.reload();
    await shot('ticket');
  });

  it('searches violations and shows decisions, tickets, the attempt log and the Temporal run', async () => {
    await page.goto(`${url}/ui/violations`);
    await page.fill('input[name=q]', marker);
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page.locator('tbody tr').count()).resolves.toBe(3);
    await shot('violations');
    await page.getByRole('link', { name: `exfiltration attempt ${marker}` }).click();
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('jira-sec');
    expect(text).toContain('HTTP 503'); // the first Splunk attempt
    const run = page.getByRole('link', { name: /in the Temporal Web UI/ });
    expect(await run.getAttribute('href')).toBe(
      `http://127.0.0.1:8233/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId="violation-${critical.event_id}"`)}`,
    );
    await shot('violation');
  });

  it('edits rules as YAML and dry-runs an event with the explanation', async () => {
    await page.goto(`${url}/ui/rules/new`);
    await page.fill(
      'textarea[name=yaml]',
      'name: critical to SEC\norder: 10\nwhen: { min_severity: critical }\nthen: { targets: [jira-sec], priority: critical, sla: 1h }\n',
    );
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toBe('Created.');
    await page.fill(
      'textarea[name=yaml]',
      'name: critical to SEC\norder: 10\nwhen: { min_severity: huge }\nthen: { targets: [jira-sec] }\n',
    );
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('when.min_severity');
    await page.goto(`${url}/ui/rules`);
    await shot('rules');
    await page.goto(`${url}/ui/rules/dry-run`);
    await page.getByRole('button', { name: 'Dry run' }).click();
    const result = (await page.locator('main').textContent()) ?? '';
    expect(result).toContain('critical to SEC');
    expect(result).toContain('✓ min_severity');
    await shot('rules-dry-run');
  });

  it('the audit log names the signed-in key for what was done in the console', async () => {
    await page.goto(`${url}/ui/audit`);
    const text = (await page.locator('tbody').textContent()) ?? '';
    for (const action of [
      'console.signed_in',
      'replay.requested',
      'connector.created',
      'connector.check',
      'rule.created',
    ])
      expect(text).toContain(action);
    const label = `key…${ADMIN.slice(-4)}`;
    const entries = await api<{ items: { actor: string; action: string }[] }>('/v1/audit?action=connector.*');
    expect(entries.items.length).toBeGreaterThan(0);
    expect(entries.items.every((e) => e.actor === label)).toBe(true);
    await shot('audit');
  });
});

describe('CSRF', () => {
  it('refuses a POST without the token, with a wrong one, or from another origin', async () => {
    const [delivery] = (await api<{ items: { id: string }[] }>('/v1/deliveries?connector_id=splunk-prod'))
      .items;
    const target = `${url}/ui/deliveries/${delivery!.id}/replay`;
    const token = await page
      .goto(`${url}/ui/deliveries/${delivery!.id}`)
      .then(() => page.locator('input[name=_csrf]').first().inputValue());
    const post = (form: Record<string, string>, headers: Record<string, string> = {}) =>
      page.request.post(target, { form, headers, maxRedirects: 0 });
    expect((await post({})).status()).toBe(403);
    expect((await post({ _csrf: 'x'.repeat(token.length) })).status()).toBe(403);
    expect((await post({ _csrf: token }, { origin: 'https://evil.example' })).status()).toBe(403);
    expect((await post({ _csrf: token })).status()).toBe(303);
    // The sign-in form too: no token from its cookie, no sign-in.
    const login = await fetch(`${url}/ui/login`, {
      method: 'POST',
      body: new URLSearchParams({ api_key: ADMIN }),
      redirect: 'manual',
    });
    expect(login.status).toBe(403);
    expect(login.headers.get('set-cookie') ?? '').not.toContain('escalate_session=');
  });
});

describe('/docs', () => {
  it('renders the API reference offline (Swagger UI served by escalate)', async () => {
    await page.goto(`${url}/docs`);
    await page.getByText('escalate', { exact: false }).first().waitFor({ timeout: 30_000 });
    await page.locator('.opblock-summary-path', { hasText: '/v1/connectors/{id}/check' }).first().waitFor();
    await shot('docs', false);
  });
});

describe('sign-out and requests', () => {
  it('signs out, and no request of any page left 127.0.0.1', async () => {
    await page.goto(`${url}/ui`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${url}/ui/login`);
    expect((await context.cookies()).find((c) => c.name === 'escalate_session')).toBeUndefined();
    await page.goto(`${url}/ui`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    expect(external).toEqual([]);
  });
});
