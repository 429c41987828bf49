/**
 * The Temporal Web UI as an operator's console: a violation's run is found in the UI by
 * its custom search attribute, and its static summary reads like the story of the violation.
 *
 * The shared dev server (test/global-setup.ts) is headless, so this file starts its own dev
 * server with the Web UI on, a worker and the API against it (test/helpers/ui-stack.ts), and
 * drives a real headless Chromium.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { violationWorkflowId } from '../../workflows/contract.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { launchChromium } from '../helpers/chromium.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { startUiStack, type UiStack, withScreenshot } from '../helpers/ui-stack.js';

let stack: UiStack | undefined;
let jira: FakeJira | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  // Never skipped: a machine without the browser must say so (.ci/run installs it).
  browser = await launchChromium();
  [stack, jira] = await Promise.all([startUiStack(), startFakeJira()]);
  const res = await stack.api('/v1/connectors', jiraConnector(jira.url));
  expect(res.status, await res.clone().text()).toBe(201);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await jira?.close();
});

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
        // The event history labels each activity with its summary, a local activity's marker too
        // (the timeline names local activities by their type).
        await page.getByText('Event History', { exact: false }).first().click();
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
