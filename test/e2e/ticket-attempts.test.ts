// biome-ignore-all lint/suspicious/noThenProperty: rules have a `then` field (SPEC §5); plain data.
/**
 * Every attempt at one ticket delivery is the same ticket, and only one at a time:
 * - the ticket spec decided at planning (rule labels, priority, correlation) is stored with the
 *   delivery, so a replay or push creates the ticket the rule asked for, and later recurrences
 *   join it;
 * - a replay or push of a delivery whose attempt is in flight is refused (409); concurrent
 *   attempts are serialised per delivery; an attempt's HTTP calls stop when it is cancelled;
 * - after an attempt whose outcome is unknown, the next one waits for Jira's search to settle,
 *   and adopts only an issue whose `escalate` property carries the key.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { ticketIdempotencyKey } from '../../connectors/idempotency.js';
import { ensureDelivery } from '../../db/repos/deliveries.js';
import { claimTicket } from '../../db/repos/tickets.js';
import { insertViolation } from '../../db/repos/violations.js';
import { defaultSettings } from '../../domain/settings.js';
import { createLogger } from '../../infra/logger.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

// Longer than any retry latency under load, so only the settle delay can explain a late enough lookup.
const SETTLE_MS = 6_000;
let stack: Stack;
let jira: FakeJira;

type Delivery = { id: string; connector_id: string; status: string; last_error: string | null };
type Ticket = {
  id: string;
  connector_id: string;
  external_id: string | null;
  priority: string;
  correlation_key: string | null;
  recurrence_count: number;
};
type Violation = { status: string; deliveries: Delivery[]; tickets: Ticket[] };

async function json<T>(res: Response, status?: number): Promise<T> {
  const text = await res.text();
  if (status !== undefined) expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const violation = (eventId: string) =>
  stack.api(`/v1/violations/${eventId}`).then((r) => json<Violation>(r, 200));
const settled = (eventId: string) =>
  eventually(async () => {
    const v = await violation(eventId);
    return v.status !== 'processing' && v;
  }, 60_000);

async function connector(body: Record<string, unknown>) {
  return (await json<{ id: string }>(await stack.api('/v1/connectors', { method: 'POST', json: body }), 201))
    .id;
}

beforeAll(async () => {
  [stack, jira] = await Promise.all([
    startStack({ settings: { jira: { lookup_settle_delay: `${SETTLE_MS}ms` } } }),
    startFakeJira({ searchLagMs: 5_000 }),
  ]);
});
afterAll(async () => {
  await Promise.all([stack?.close(), jira?.close()]);
});
afterEach(() => jira.faults.clear());

describe('the ticket spec decided at planning', () => {
  it('is used by a replay: the rule labels and priority, a correlation key later events join', async () => {
    const jiraId = await connector(
      jiraConnector(jira.url, {
        name: 'jira-rules',
        auto_push: false,
        retry: {
          maximum_attempts: 2,
          initial_interval: '20ms',
          backoff_coefficient: 1,
          maximum_interval: '20ms',
        },
      }),
    );
    const policy = `pol-${jiraId.slice(0, 8)}`;
    const rule = await stack.api('/v1/rules', {
      method: 'POST',
      json: {
        name: `to ${jiraId}`,
        order: 1,
        when: { event_types: ['policy_violation'], tags: { route: jiraId } },
        then: { targets: [jiraId], priority: 'low', labels: ['ai-team', 'dlp'] },
      },
    });
    expect(rule.status, await rule.clone().text()).toBe(201);

    // The ITSM refuses everything until the retries are spent.
    for (let i = 0; i < 6; i++) jira.faults.status(503, { path: '/rest/api/3/' });
    const first = makeEvent({ policy: { id: policy, action: 'block' }, tags: { route: jiraId } });
    await json(await stack.api('/v1/violations', { method: 'POST', json: first }), 202);
    const failed = await settled(first.event_id as string);
    const delivery = failed.deliveries.find((d) => d.connector_id === jiraId)!;
    expect(delivery.status).toBe('failed');
    jira.faults.clear();

    await json(await stack.api(`/v1/deliveries/${delivery.id}/replay`, { method: 'POST' }), 202);
    const replayed = await eventually(async () => {
      const v = await violation(first.event_id as string);
      return v.tickets.find((t) => t.connector_id === jiraId && t.external_id) && v;
    });
    const ticket = replayed.tickets.find((t) => t.connector_id === jiraId)!;
    const issue = jira.issues.get(ticket.external_id!)!;
    expect(issue.fields.labels).toEqual(expect.arrayContaining(['ai-team', 'dlp']));
    expect(issue.fields.priority).toEqual({ name: 'Low' });
    expect(ticket.priority).toBe('low');
    expect(ticket.correlation_key).toMatch(/policy\.id=pol-/);

    // A later event with the same correlation key joins the replayed ticket.
    const again = makeEvent({
      policy: { id: policy, action: 'block' },
      tags: { route: jiraId },
      user_email: first.user_email,
    });
    await json(await stack.api('/v1/violations', { method: 'POST', json: again }), 202);
    const joined = await settled(again.event_id as string);
    expect(joined.tickets.map((t) => t.id)).toEqual([ticket.id]);
    expect([...jira.issues.values()].filter((i) => i.fields.labels.includes('dlp'))).toHaveLength(1);
  });
});

/** A stored violation and its pending ticket delivery, and the activities to call directly. */
async function storedTicketDelivery(connectorId: string) {
  const event = makeEvent();
  await insertViolation(stack.database.db, {
    eventId: event.event_id as string,
    payload: event,
    bodyHash: 'h',
    eventType: 'policy_violation',
    severity: 'critical',
    occurredAt: new Date(),
    workflowId: `violation-${event.event_id}`,
  });
  const delivery = await ensureDelivery(stack.database.db, {
    eventId: event.event_id as string,
    connectorId,
    kind: 'jira',
    purpose: 'ticket',
  });
  const activities = createActivities({
    db: stack.database.db,
    workflows: { client: stack.client, taskQueue: stack.taskQueue },
    box: stack.box,
    settings: defaultSettings(),
    logger: createLogger({ level: 'silent' }),
  });
  return { event, delivery, activities };
}

describe('one attempt at a time', () => {
  it('refuses to replay or push a delivery whose attempt is in flight (409 with the reason)', async () => {
    const jiraId = await connector(
      jiraConnector(jira.url, {
        name: 'jira-slow',
        config: { ...jiraConnector(jira.url).config, timeout: '20s' },
      }),
    );
    jira.faults.delay(4_000, '/rest/api/3/issue');
    const event = makeEvent();
    await json(await stack.api('/v1/violations', { method: 'POST', json: event }), 202);
    const pending = await eventually(async () => {
      const v = await violation(event.event_id as string);
      return v.deliveries.find((d) => d.connector_id === jiraId && d.status === 'pending');
    });
    const replay = await json<{ error: { code: string; message: string } }>(
      await stack.api(`/v1/deliveries/${pending.id}/replay`, { method: 'POST' }),
      409,
    );
    expect(replay.error.code).toBe('delivery_in_flight');
    expect(replay.error.message).toMatch(/violation-/);
    const push = await json<{ error: { code: string } }>(
      await stack.api(`/v1/violations/${event.event_id}/tickets`, {
        method: 'POST',
        json: { connector_id: jiraId },
      }),
      409,
    );
    expect(push.error.code).toBe('delivery_in_flight');
    const done = await settled(event.event_id as string);
    expect(done.tickets.filter((t) => t.connector_id === jiraId)).toHaveLength(1);
  });

  it('serialises concurrent attempts at one delivery: one lookup-then-create, one issue', async () => {
    const jiraId = await connector(jiraConnector(jira.url, { name: 'jira-race', auto_push: false }));
    const { event, delivery, activities } = await storedTicketDelivery(jiraId);
    jira.faults.delay(600, '/rest/api/3/issue');
    const input = {
      deliveryId: delivery.id,
      connectorId: jiraId,
      eventId: event.event_id as string,
      priority: 'critical' as const,
      timeoutMs: 10_000,
      maxRetryDelayMs: 1_000,
    };
    const run = () =>
      new MockActivityEnvironment({ attempt: 2, startToCloseTimeoutMs: 60_000 }).run(
        activities.createTicket,
        input,
      );
    const [a, b] = (await Promise.all([run(), run()])) as [{ externalId: string }, { externalId: string }];
    expect(a.externalId).toBe(b.externalId);
    const key = ticketIdempotencyKey(jiraId, event.event_id as string);
    expect(jira.createsByLabel.get(key)).toBe(1);
  });

  it('stops the HTTP call when the attempt is cancelled', async () => {
    const jiraId = await connector(jiraConnector(jira.url, { name: 'jira-hang', auto_push: false }));
    const { event, delivery, activities } = await storedTicketDelivery(jiraId);
    jira.faults.hang('/rest/api/3/issue');
    const env = new MockActivityEnvironment({ attempt: 1, startToCloseTimeoutMs: 3_600_000 });
    const running = env.run(activities.createTicket, {
      deliveryId: delivery.id,
      connectorId: jiraId,
      eventId: event.event_id as string,
      priority: 'critical' as const,
      // An hour: only the cancellation can end this call in the test's time.
      timeoutMs: 3_600_000,
      maxRetryDelayMs: 1_000,
    });
    await eventually(async () => jira.faults.count('/rest/api/3/issue') > 0);
    env.cancel();
    await expect(running).rejects.toThrow(/cancel/i);
    const attempts = await stack.database.sql<{ outcome: string; remote_code: string }[]>`
      select outcome, remote_code from delivery_attempts where delivery_id = ${delivery.id}`;
    expect(attempts).toEqual([{ outcome: 'interrupted', remote_code: 'cancelled' }]);
  });
});

describe("Jira's eventually consistent search", () => {
  it('after a lost response, the next attempt waits for the search to settle and adopts the issue', async () => {
    const jiraId = await connector(
      jiraConnector(jira.url, {
        name: 'jira-lost',
        auto_push: false,
        retry: {
          maximum_attempts: 4,
          initial_interval: '20ms',
          backoff_coefficient: 1,
          maximum_interval: '20ms',
        },
      }),
    );
    jira.faults.loseResponse('/rest/api/3/issue');
    const event = makeEvent();
    await json(
      await stack.api('/v1/rules', {
        method: 'POST',
        json: {
          name: `lost ${jiraId}`,
          order: 2,
          when: { tags: { route: jiraId } },
          then: { targets: [jiraId] },
        },
      }),
      201,
    );
    const tagged = { ...event, tags: { route: jiraId } };
    await json(await stack.api('/v1/violations', { method: 'POST', json: tagged }), 202);
    const done = await settled(event.event_id as string);
    const delivery = done.deliveries.find((d) => d.connector_id === jiraId)!;
    expect(delivery.status).toBe('delivered');
    const key = ticketIdempotencyKey(jiraId, event.event_id as string);
    expect(jira.createsByLabel.get(key)).toBe(1);
    const detail = await json<{
      attempt_log: {
        attempt: number;
        outcome: string;
        started_at: string;
        finished_at: string;
        message: string;
      }[];
    }>(await stack.api(`/v1/deliveries/${delivery.id}`), 200);
    const [lost, adopted] = detail.attempt_log;
    expect(lost!.outcome).toBe('failed');
    expect(adopted!.message).toMatch(/^adopted existing SEC-/);
    // Not sooner than the settle delay, whatever the (20 ms) retry policy says.
    expect(Date.parse(adopted!.started_at) - Date.parse(lost!.finished_at)).toBeGreaterThanOrEqual(SETTLE_MS);
  });
});

describe("the ticket's workflow", () => {
  it('a start that fails does not fail the created ticket: the result says so, for the violation to start it', async () => {
    const jiraId = await connector(jiraConnector(jira.url, { name: 'jira-start-fails', auto_push: false }));
    const { event, delivery } = await storedTicketDelivery(jiraId);
    // Temporal refuses the ticket workflow's start (any error but "already started").
    const refusing = {
      ...stack.client,
      workflow: {
        start: async () => {
          throw new Error('refused by the test');
        },
      },
    } as unknown as typeof stack.client;
    const activities = createActivities({
      db: stack.database.db,
      workflows: { client: refusing, taskQueue: stack.taskQueue },
      box: stack.box,
      settings: defaultSettings(),
      logger: createLogger({ level: 'silent' }),
    });
    const created = (await new MockActivityEnvironment({ startToCloseTimeoutMs: 60_000 }).run(
      activities.createTicket,
      {
        deliveryId: delivery.id,
        connectorId: jiraId,
        eventId: event.event_id as string,
        priority: 'critical' as const,
        timeoutMs: 10_000,
        maxRetryDelayMs: 1_000,
      },
    )) as { ticketId: string; syncStarted?: boolean };
    expect(created).toMatchObject({ syncStarted: false, adopted: false });
    const d = await json<{ status: string; ticket_id: string | null }>(
      await stack.api(`/v1/deliveries/${delivery.id}`),
      200,
    );
    expect(d.status).toBe('delivered');
    expect(d.ticket_id).toBe(created.ticketId);
  });
});

describe('a claim retried after it was recorded', () => {
  it('answers as the first one did: a resolved ticket within its reopen window is reopened', async () => {
    const jiraId = await connector(jiraConnector(jira.url, { name: 'jira-reopen-claim' }));
    const first = makeEvent();
    await json(await stack.api('/v1/violations', { method: 'POST', json: first }), 202);
    const ticket = await eventually(async () => {
      const v = await json<{ tickets: { id: string; connector_id: string; external_id: string | null }[] }>(
        await stack.api(`/v1/violations/${first.event_id}`),
        200,
      );
      return v.tickets.find((t) => t.connector_id === jiraId && t.external_id);
    });
    await json(
      await stack.api(`/v1/tickets/${ticket.id}/status`, { method: 'POST', json: { status: 'resolved' } }),
      200,
    );
    const [row] = await stack.database.sql<{ correlation_key: string }[]>`
      select correlation_key from tickets where id = ${ticket.id}`;
    // The recurrence's claim, as planning makes it, then made again (a retried plan).
    const { event, delivery } = await storedTicketDelivery(jiraId);
    const input = {
      deliveryId: delivery.id,
      connectorId: jiraId,
      eventId: event.event_id as string,
      kind: 'jira',
      severity: 'critical' as const,
      priority: 'critical' as const,
      spec: { correlationKey: row!.correlation_key, labels: [], reopenWithinMs: 3_600_000 },
      idempotencyKey: ticketIdempotencyKey(jiraId, event.event_id as string),
      slaMs: 3_600_000,
    };
    const claimed = await claimTicket(stack.database.db, input);
    expect(claimed).toMatchObject({ role: 'recurrence', ticketId: ticket.id, reopen: true });
    expect(await claimTicket(stack.database.db, input)).toEqual(claimed);
  });
});
