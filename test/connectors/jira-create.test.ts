/** Creating a Jira issue from the largest drafts escalate can build: the fake enforces Jira's limits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../../connectors/http.js';
import { createJiraIssue, jiraCreateCall } from '../../connectors/jira.js';
import { jiraAuthorization, jiraRequest } from '../../connectors/jira-client.js';
import { jiraConfigSchema } from '../../domain/connector.js';
import { buildTicketDraft } from '../../domain/ticket-draft.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';

let jira: FakeJira;
beforeAll(async () => {
  jira = await startFakeJira();
});
afterAll(() => jira.close());

const config = (api: 'cloud' | 'datacenter') =>
  jiraConfigSchema.parse({
    base_url: jira.url,
    api,
    email: 'bot@example.com',
    api_token: 'cloud-token',
    pat: 'dc-pat',
    project_key: 'SEC',
  });

/** The create request as sent (no custom fields to shape here). */
const createRequest = async (c: ReturnType<typeof config>, d: ReturnType<typeof draft>) =>
  jiraRequest(c, jiraCreateCall(c, d, {}), await jiraAuthorization(c, 1_000));

const draft = (descriptionTemplate?: string) =>
  buildTicketDraft({
    payload: {
      event_id: '6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f',
      event_type: 'policy_violation',
      summary: 'a "quoted" summary',
      severity: 'high',
      details: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`field_${i}`, `"${i}"\n\\`])),
    },
    severity: 'high',
    priority: 'high',
    idempotencyKey: `escalate-${Math.random().toString(36).slice(2)}`,
    config: descriptionTemplate ? { description_template: descriptionTemplate } : {},
  });

describe('Jira descriptions at the size limit', () => {
  it.each(['cloud', 'datacenter'] as const)(
    '%s: a huge payload and template are cut to fit, and accepted',
    async (api) => {
      for (const d of [draft(), draft(`{{summary}}${'\n\nmore "text" here'.repeat(5000)}`)]) {
        const ref = await createJiraIssue(config(api), d, { timeoutMs: 5_000, lookupFirst: false });
        expect(ref.externalId).toMatch(/^SEC-\d+$/);
      }
    },
  );

  it('the fake refuses a description over 32,767 characters, as Jira does', async () => {
    const req = await createRequest(config('datacenter'), draft());
    const body = JSON.parse(req.body!) as { fields: Record<string, unknown> };
    body.fields.description = 'x'.repeat(32_768);
    const res = await send({ ...req, body: JSON.stringify(body) }, 5_000);
    expect(res.status).toBe(400);
    expect(res.text).toContain('exceeds the allowed limit of 32,767 characters');
  });
});

describe('the lookup before a retried create', () => {
  it('adopts only an issue whose escalate property carries the key (a clone with the label is not it)', async () => {
    const d = draft();
    // A clone: same labels (the idempotency label included), no escalate property.
    const req = await createRequest(config('cloud'), d);
    const body = JSON.parse(req.body!) as { fields: Record<string, unknown>; properties?: unknown };
    delete body.properties;
    const clone = await send({ ...req, body: JSON.stringify(body) }, 5_000);
    expect(clone.status).toBe(201);
    const cloneKey = (JSON.parse(clone.text) as { key: string }).key;

    const ref = await createJiraIssue(config('cloud'), d, { timeoutMs: 5_000, lookupFirst: true });
    expect(ref.adopted).toBe(false);
    expect(ref.externalId).not.toBe(cloneKey);
    const again = await createJiraIssue(config('cloud'), d, { timeoutMs: 5_000, lookupFirst: true });
    expect(again).toMatchObject({ adopted: true, externalId: ref.externalId });
  });
});
