import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { violationWorkflowId } from '../../workflows/contract.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { adfText } from '../fakes/jira-adf.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let jira: FakeJira;
let connectorId: string;

beforeAll(async () => {
  [stack, jira] = await Promise.all([
    // The fake's search is immediate: no need for the 30 s default settle delay (unit/retry-delay).
    startStack({ settings: { jira: { lookup_settle_delay: '100ms' } } }),
    startFakeJira(),
  ]);
  const res = await stack.api('/v1/connectors', { method: 'POST', json: jiraConnector(jira.url) });
  expect(res.status).toBe(201);
  connectorId = ((await res.json()) as { id: string }).id;
});
afterAll(async () => {
  await stack?.close();
  await jira?.close();
});
beforeEach(() => jira.faults.clear());

async function post(event: Record<string, unknown>) {
  return stack.api('/v1/violations', { method: 'POST', json: event });
}

async function finished(eventId: string) {
  return eventually(
    async () => {
      const res = await stack.api(`/v1/violations/${eventId}`);
      const body = (await res.json()) as {
        status: string;
        tickets: { external_id: string }[];
        deliveries: { status: string; attempts: number; last_error: string | null }[];
      };
      return body.status !== 'processing' ? body : undefined;
    },
    30_000,
    `violation ${eventId} to finish`,
  );
}

describe('a violation becomes one Jira ticket', () => {
  it('accepts with 202, creates the issue in Jira and shows its key', async () => {
    const event = makeEvent();
    const res = await post(event);
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { event_id: string; workflow_id: string; status_url: string };
    expect(accepted).toEqual({
      event_id: event.event_id,
      workflow_id: violationWorkflowId(event.event_id as string),
      status_url: `/v1/violations/${event.event_id}`,
    });

    const v = await finished(event.event_id as string);
    expect(v.status).toBe('completed');
    expect(v.tickets).toHaveLength(1);
    const key = v.tickets[0]!.external_id;
    const issue = jira.issues.get(key)!;
    expect(issue.fields.summary).toBe('[escalate] policy_violation: max-tokens exceeded');
    expect(issue.fields.labels).toEqual(expect.arrayContaining(['escalate', 'ai-policy', 'critical']));
    expect(issue.fields.priority).toEqual({ name: 'Highest' });
    expect(adfText(issue.fields.description)).toContain(event.user_email as string);
    expect(adfText(issue.fields.description)).toContain('"tokens": 182000');
    expect(issue.properties.escalate).toMatchObject({ event_id: event.event_id });
    expect(v.deliveries).toEqual([
      expect.objectContaining({ status: 'delivered', attempts: 1, connector_id: connectorId }),
    ]);
  });

  it('is idempotent by event_id: same body → 200 and no second workflow, other body → 409', async () => {
    const event = makeEvent();
    expect((await post(event)).status).toBe(202);
    const again = await post(event);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { event_id: string }).event_id).toBe(event.event_id);
    const different = await post({ ...event, summary: 'something else' });
    expect(different.status).toBe(409);
    expect(((await different.json()) as { error: { code: string } }).error.code).toBe('conflict');
    const v = await finished(event.event_id as string);
    expect(v.tickets).toHaveLength(1);
    const label = [...jira.issues.get(v.tickets[0]!.external_id)!.fields.labels].find((l) =>
      l.startsWith('escalate-'),
    )!;
    expect(jira.createsByLabel.get(label)).toBe(1);
  });

  it('retries 503s and ends with exactly one ticket', async () => {
    jira.faults.status(503, { path: '/rest/api/3/issue' }).status(503, { path: '/rest/api/3/issue' });
    const event = makeEvent();
    expect((await post(event)).status).toBe(202);
    const v = await finished(event.event_id as string);
    expect(v.status).toBe('completed');
    expect(v.tickets).toHaveLength(1);
    expect(v.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(jira.faults.count('/rest/api/3/issue')).toBe(3);
  });

  it('a lost create response is adopted on retry, never duplicated', async () => {
    jira.faults.loseResponse('/rest/api/3/issue');
    const event = makeEvent();
    expect((await post(event)).status).toBe(202);
    const v = await finished(event.event_id as string);
    expect(v.status).toBe('completed');
    const label = jira.issues
      .get(v.tickets[0]!.external_id)!
      .fields.labels.find((l) => l.startsWith('escalate-'))!;
    expect(jira.createsByLabel.get(label)).toBe(1);
  });

  it('fails at once on 400 with Jira’s message kept on the delivery', async () => {
    jira.faults.status(400, {
      path: '/rest/api/3/issue',
      body: { errorMessages: [], errors: { customfield_10010: 'Field is required' } },
    });
    const event = makeEvent();
    expect((await post(event)).status).toBe(202);
    const v = await finished(event.event_id as string);
    expect(v.status).toBe('failed');
    expect(v.tickets).toHaveLength(0);
    expect(v.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(v.deliveries[0]!.last_error).toContain('customfield_10010: Field is required');
    expect(jira.faults.count('/rest/api/3/issue')).toBe(1);
  });

  it('does not open a ticket below auto_push.min_severity', async () => {
    const event = makeEvent({ severity: undefined, risk_score: 0.75 });
    expect((await post(event)).status).toBe(202);
    const v = (await finished(event.event_id as string)) as unknown as {
      tickets: unknown[];
      severity: string;
      decisions: { reason: string }[];
    };
    expect(v.severity).toBe('high');
    expect(v.tickets).toHaveLength(0);
    expect(v.decisions[0]!.reason).toMatch(/below auto_push.min_severity critical/);
  });
});
