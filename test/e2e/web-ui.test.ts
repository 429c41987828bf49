/**
 * The Temporal Web UI as an operator's console: a violation's run is found in the UI by
 * its custom search attribute, and its static summary reads like the story of the violation.
 *
 * The shared dev server (test/global-setup.ts) is headless, so this file starts its own dev
 * server with the Web UI on, a worker and the API against it, and drives a real headless
 * Chromium (`playwright-core`, browser from the OS package: /usr/bin/chromium; never downloaded).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import { createLogger } from '../../infra/logger.js';
import { freePort } from '../../infra/ports.js';
import { SecretBox } from '../../infra/secret-box.js';
import { type DevServer, startDevServer, waitForPort } from '../../infra/temporal-dev-server.js';
import { startServices } from '../../services.js';
import { violationWorkflowId } from '../../workflows/contract.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { launchChromium } from '../helpers/chromium.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, createTestDatabase } from '../helpers/stack.js';

interface UiStack {
  uiUrl: string;
  apiUrl: string;
  client: Client;
  api(path: string, json?: unknown): Promise<Response>;
  close(): Promise<void>;
}

/** A dev server WITH the Web UI, plus a worker and the API against it (like helpers/stack.ts). */
async function startUiStack(): Promise<UiStack> {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already installed in this process.
  }
  const stops: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    const [port, uiPort] = [await freePort(), await freePort()];
    const server: DevServer = await startDevServer({
      cli: inject('temporalCli'),
      port,
      uiPort,
      headless: false,
    });
    stops.push(() => server.stop());
    await waitForPort(uiPort, 60_000, () => server.process.exitCode === null);

    const services = await startServices({
      logger: createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
      databaseUrl: await createTestDatabase(),
      poolSize: 10,
      temporal: { address: server.address, namespace: 'default', taskQueue: 'web-ui-test' },
      box: new SecretBox(SecretBox.generateKey()),
      worker: { workflowBundle: { codePath: inject('workflowBundlePath') } },
      api: { apiKeys: parseApiKeys(`${ADMIN_KEY}:admin`), port: 0, hostname: '127.0.0.1' },
    });
    stops.push(() => services.close());
    const { client } = services;
    const apiUrl = services.api!.url;

    return {
      uiUrl: `http://127.0.0.1:${uiPort}`,
      apiUrl,
      client,
      api: (path, json) =>
        fetch(`${apiUrl}${path}`, {
          method: json === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          body: json === undefined ? undefined : JSON.stringify(json),
        }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

let stack: UiStack | undefined;
let jira: FakeJira | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  [stack, jira] = await Promise.all([startUiStack(), startFakeJira()]);
  const res = await stack.api('/v1/connectors', jiraConnector(jira.url));
  expect(res.status, await res.clone().text()).toBe(201);
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await jira?.close();
});

/** Runs `fn`; on failure, saves a screenshot of the page and names it in the error. */
async function withScreenshot(page: Page, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const file = join(tmpdir(), `escalate-web-ui-${Date.now()}.png`);
    const saved = await page
      .screenshot({ path: file, fullPage: true })
      .then(() => `screenshot: ${file}`)
      .catch((e: unknown) => `no screenshot: ${(e as Error).message}`);
    const error = err instanceof Error ? err : new Error(String(err));
    error.message = `${error.message}\n(${saved}; page ${page.url()})`;
    throw error;
  }
}

describe('Temporal Web UI', () => {
  it('finds a violation run by EscalateSeverity and shows its activity and static summaries', async () => {
    const s = stack!;
    const marker = `ui-${Math.random().toString(36).slice(2, 10)}`;
    const event = makeEvent({ summary: `max-tokens exceeded ${marker}` });
    const workflowId = violationWorkflowId(event.event_id as string);
    // A high one too: the severity filter must leave it out.
    const other = makeEvent({ severity: 'high' });
    const otherId = violationWorkflowId(other.event_id as string);
    for (const e of [event, other]) {
      const res = await s.api('/v1/violations', e);
      expect(res.status, await res.clone().text()).toBe(202);
    }
    await Promise.all([workflowId, otherId].map((id) => s.client.workflow.getHandle(id).result()));

    const query = 'EscalateSeverity="critical" AND EscalateEventType="policy_violation"';
    // Visibility is eventually consistent: wait until the list API (which the UI uses) has both.
    const listed = async (q: string) => {
      for await (const wf of s.client.workflow.list({ query: q })) return wf.workflowId;
      return undefined;
    };
    await eventually(
      async () =>
        (await listed(`${query} AND WorkflowId="${workflowId}"`)) === workflowId &&
        (await listed(`EscalateSeverity="high" AND WorkflowId="${otherId}"`)) === otherId,
      30_000,
      'both runs in visibility',
    );
    const summary = `critical policy_violation — max-tokens exceeded ${marker} — ${event.user_email as string}`;

    const page = await browser!.newPage({ viewport: { width: 1600, height: 1000 } });
    try {
      await withScreenshot(page, async () => {
        const listUrl = `${s.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;
        await page.goto(listUrl, { waitUntil: 'domcontentloaded' });
        const link = page.locator(`a[href*="/workflows/${workflowId}/"]`).first();
        await link.waitFor({ state: 'visible', timeout: 30_000 });
        // The list answers the search-attribute query: the critical run, not the high one.
        await expect(page.getByText(workflowId, { exact: true }).first().isVisible()).resolves.toBe(true);
        await expect(page.locator(`a[href*="/workflows/${otherId}/"]`).count()).resolves.toBe(0);

        await link.click();
        await page.waitForURL(new RegExp(`/workflows/${workflowId}/`), { timeout: 30_000 });
        // The timeline labels each activity with its summary.
        await page
          .getByText(/create Jira issue in SEC/)
          .first()
          .waitFor({ state: 'visible', timeout: 30_000 });
        // The workflow's static summary and details are under "User Metadata".
        await page.getByText('User Metadata', { exact: true }).first().click();
        // The UI renders user metadata (markdown) in sandboxed iframes: look in every frame.
        await eventually(
          async () => {
            for (const frame of page.frames()) {
              if (await frame.getByText(summary).first().isVisible()) return true;
            }
            return false;
          },
          30_000,
          `the summary "${summary}" on the page`,
        );
      });
    } finally {
      await page.close();
    }
  });
});
