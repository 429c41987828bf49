/**
 * The Temporal Web UI reads encrypted runs through escalate's codec endpoint: the dev server is
 * started with `--ui-codec-endpoint` (as `npm start` does with ESCALATE_PAYLOAD_KEY), the browser
 * signs in to the codec with an admin key (cookie) and the UI's codec setting includes
 * cross-origin credentials. Without the session, the UI gets 401 and shows ciphertext only.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { violationWorkflowId } from '../../workflows/contract.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { launchChromium } from '../helpers/chromium.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { ADMIN_KEY } from '../helpers/stack.js';
import { startUiStack, type UiStack, withScreenshot } from '../helpers/ui-stack.js';

let stack: UiStack;
let jira: FakeJira;
let browser: Browser;
const event = makeEvent();
const workflowId = violationWorkflowId(event.event_id as string);
const email = event.user_email as string;

beforeAll(async () => {
  browser = await launchChromium();
  [stack, jira] = await Promise.all([
    startUiStack({ payloadKey: randomBytes(32).toString('hex') }),
    startFakeJira(),
  ]);
  expect((await stack.api('/v1/connectors', jiraConnector(jira.url))).status).toBe(201);
  expect((await stack.api('/v1/violations', event)).status).toBe(202);
  await stack.client.workflow.getHandle(workflowId).result();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await jira?.close();
});

/** Sets what the UI's "Codec Server" dialog stores: this endpoint, with cross-origin credentials. */
async function useCodecWithCredentials(page: Page) {
  await page.goto(stack.uiUrl, { waitUntil: 'domcontentloaded' });
  await page.evaluate((endpoint) => {
    const { localStorage } = globalThis as unknown as {
      localStorage: { setItem(key: string, value: string): void };
    };
    localStorage.setItem('endpoint', JSON.stringify(endpoint));
    localStorage.setItem('includeCredentials', 'true');
    localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
  }, `${stack.apiUrl}/v1/temporal-codec`);
}

/** The statuses of the decode calls the API answered since `from` (an index into `served`). */
const decodesSince = (from: number) =>
  stack.served
    .slice(from)
    .filter((r) => r.method === 'POST' && r.route === '/v1/temporal-codec/decode')
    .map((r) => r.status);

/** Opens the run's page; answers where its codec calls start in `served`. */
async function openRun(page: Page): Promise<number> {
  const from = stack.served.length;
  await page.goto(`${stack.uiUrl}/namespaces/default/workflows/${workflowId}`, {
    waitUntil: 'domcontentloaded',
  });
  await page.getByText(workflowId).first().waitFor({ state: 'visible', timeout: 30_000 });
  return from;
}

async function pageText(page: Page): Promise<string> {
  const texts = await Promise.all(page.frames().map((f) => f.content().catch(() => '')));
  return texts.join('\n');
}

describe('Temporal Web UI with payload encryption', () => {
  it('shows the run decoded through the codec endpoint once the browser signed in', async () => {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    try {
      await withScreenshot(page, async () => {
        await page.goto(`${stack.apiUrl}/v1/temporal-codec/sign-in`);
        await page.locator('input[name="api_key"]').fill(ADMIN_KEY);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByText('Signed in as').waitFor({ state: 'visible', timeout: 10_000 });
        await useCodecWithCredentials(page);
        const from = await openRun(page);
        // The input (the compact event, user included) is only readable decoded.
        await eventually(async () => (await pageText(page)).includes(email), 30_000, `${email} on the page`);
        expect(decodesSince(from).length).toBeGreaterThan(0);
        expect(decodesSince(from).every((s) => s === 200)).toBe(true);
        // The static summary (under "User Metadata"), decoded too, carries no personal data.
        await page.getByText('User Metadata', { exact: true }).first().click();
        await eventually(
          async () =>
            (await pageText(page)).includes('critical policy_violation — policy pol-max-tokens (block)'),
          30_000,
          'the redacted summary',
        );
      });
    } finally {
      await context.close();
    }
  });

  it('shows only ciphertext without a codec session', async () => {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    try {
      await withScreenshot(page, async () => {
        await useCodecWithCredentials(page);
        const from = await openRun(page);
        await eventually(async () => decodesSince(from).includes(401), 30_000, 'the codec to refuse the UI');
        expect(decodesSince(from)).not.toContain(200);
        expect(await pageText(page)).not.toContain(email);
      });
    } finally {
      await context.close();
    }
  });
});
