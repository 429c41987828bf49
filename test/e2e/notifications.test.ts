// biome-ignore-all lint/suspicious/noThenProperty: rules have a field named `then`; plain data, never a thenable.
/**
 * Notifications end to end: Slack (incoming webhook and bot token), Teams (Workflows) and a
 * Standard Webhooks receiver, told by the workflows about tickets opened, SLA breaches (in the
 * Slack thread), recurrences (one summary per window), status changes and deliveries that failed
 * for good; every notification a delivery with its attempts under /v1/deliveries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeSlack, type SlackPosted, startFakeSlack } from '../fakes/slack.js';
import { type FakeTeams, startFakeTeams } from '../fakes/teams.js';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from '../fakes/webhook-receiver.js';
import { eventually, FAST_RETRY, jiraConnector, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
/**
 * Long enough for 20 recurrences posted in one batch to land in one window even on a busy machine
 * (they usually all arrive within a second; workflow tasks can take seconds under load).
 */
const WINDOW = '10s';
const PUBLIC_URL = 'https://escalate.example.com';

let stack: Stack;
let jira: FakeJira;
let slack: FakeSlack;
let teams: FakeTeams;
let hooks: FakeWebhookReceiver;

interface Delivery {
  id: string;
  connector_id: string;
  purpose: string;
  status: string;
  attempts: number;
  last_error: string | null;
  notice: Record<string, unknown> | null;
  attempt_log?: { attempt: number; outcome: string; http_status: number | null; message: string | null }[];
}

const api = async <T>(path: string, init?: Parameters<Stack['api']>[1]): Promise<T> => {
  const res = await stack.api(path, init);
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
};

const create = (body: Record<string, unknown>) =>
  api<{ id: string }>('/v1/connectors', { method: 'POST', json: body });

beforeAll(async () => {
  [stack, jira, slack, teams, hooks] = await Promise.all([
    startStack({
      settings: { notifications: { recurrence_window: WINDOW }, public_url: PUBLIC_URL },
    }),
    startFakeJira(),
    startFakeSlack(),
    startFakeTeams(),
    startFakeWebhookReceiver({ secret: WHSEC }),
  ]);
  await create(jiraConnector(jira.url, { id: 'jira' }));
  /** A connector named by its id, with quick retries. */
  const connector = (id: string, kind: string, config: Record<string, unknown>, extra = {}) =>
    create({ id, name: id, kind, config, retry: FAST_RETRY, ...extra });
  await connector('slack-hook', 'slack', { webhook_url: slack.webhookUrl });
  await connector(
    'slack-bot',
    'slack',
    { bot_token: slack.botToken, channel: slack.channel, api_url: slack.apiUrl },
    { notify_on: ['ticket_created', 'recurrence', 'status_changed', 'sla_breached', 'delivery_failed'] },
  );
  await connector('teams', 'teams', { webhook_url: teams.webhookUrl });
  await connector('hooks', 'webhook', { url: hooks.url, secret: WHSEC });
  // Told only because a rule names it: its own filters want critical lockouts.
  await connector(
    'teams-ops',
    'teams',
    { webhook_url: teams.webhookUrl },
    { filters: { min_severity: 'critical', event_types: ['lockout'] } },
  );
  await api('/v1/rules', {
    method: 'POST',
    json: {
      name: 'fast SLA',
      when: { tags: { sla: 'fast' } },
      then: { targets: ['jira'], sla: '1500ms' },
    },
  });
  await api('/v1/rules', {
    method: 'POST',
    json: {
      name: 'ops hear of high budget alerts',
      when: { event_types: ['budget_alert'], min_severity: 'high' },
      then: { targets: ['jira'], notify: ['teams-ops'] },
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([jira?.close(), slack?.close(), teams?.close(), hooks?.close()]);
});

async function post(event: Record<string, unknown>): Promise<string> {
  await api('/v1/violations', { method: 'POST', json: event });
  return event.event_id as string;
}

async function ticketOf(eventId: string) {
  return eventually(
    async () => {
      const v = await api<{
        tickets: { id: string; external_id: string | null; external_url: string | null }[];
      }>(`/v1/violations/${eventId}`);
      const t = v.tickets.find((x) => x.external_id);
      return t ? { id: t.id, key: t.external_id!, url: t.external_url! } : undefined;
    },
    30_000,
    `ticket of ${eventId}`,
  );
}

const mentions = (m: { raw: unknown }, text: string) => JSON.stringify(m.raw).includes(text);
const header = (m: SlackPosted) => String((m.blocks?.[0] as { text?: { text?: string } })?.text?.text ?? '');
const slackAbout = (via: SlackPosted['via'], eventId: string) =>
  slack.posted.filter((m) => m.via === via && mentions(m, eventId));
const cardsAbout = (eventId: string) => teams.received.filter((r) => mentions(r, eventId));

async function notifyDeliveries(eventId: string): Promise<Delivery[]> {
  return (await api<{ items: Delivery[] }>(`/v1/deliveries?event_id=${eventId}&purpose=notify&limit=100`))
    .items;
}

/** Waits until every notification of the event is done (delivered or failed) and `count` exist. */
const settledNotifications = (eventId: string, count: number) =>
  eventually(
    async () => {
      const items = await notifyDeliveries(eventId);
      return items.length === count && items.every((d) => d.status !== 'pending') ? items : undefined;
    },
    45_000,
    `${count} settled notifications of ${eventId}`,
  );

describe('a critical violation with Jira, Slack and Teams', () => {
  it('tells Slack (webhook and bot) and Teams that the Jira ticket is open, with its key and URL; all visible as deliveries', async () => {
    const eventId = await post(makeEvent());
    const ticket = await ticketOf(eventId);
    const notices = await settledNotifications(eventId, 3);
    expect(notices.map((d) => d.connector_id).sort()).toEqual(['slack-bot', 'slack-hook', 'teams']);
    for (const d of notices)
      expect(d).toMatchObject({
        status: 'delivered',
        attempts: 1,
        notice: { type: 'ticket_created', ticket_id: ticket.id },
      });

    const [hooked] = slackAbout('webhook', eventId);
    expect(header(hooked!)).toContain(ticket.key);
    expect(hooked!.text).toContain(ticket.key);
    expect(hooked!.text).toContain(ticket.url);
    const buttons = hooked!.blocks!.find((b) => b.type === 'actions') as {
      elements: { text: { text: string }; url: string }[];
    };
    expect(buttons.elements.map((e) => e.url)).toEqual([
      ticket.url,
      `${PUBLIC_URL}/ui/violations/${eventId}`,
    ]);
    expect(buttons.elements[0]!.text.text).toBe(`Open ${ticket.key} in Jira`);

    const [card] = cardsAbout(eventId);
    expect((card!.card.body as { text?: string }[])[0]!.text).toContain(ticket.key);
    expect(card!.card.actions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Action.OpenUrl', url: ticket.url })]),
    );

    // The violation's own status counts its ticket, not its notifications.
    const v = await api<{ status: string; deliveries: { purpose: string }[] }>(`/v1/violations/${eventId}`);
    expect(v.status).toBe('completed');
    expect(v.deliveries.filter((d) => d.purpose === 'notify')).toHaveLength(3);
    // The webhook heard of the violation itself, not of a ticket (it is told only of failures).
    expect(
      hooks.received.filter((r) => mentions({ raw: r.payload }, eventId)).map((r) => r.payload.type),
    ).toEqual(['violation']);
  });

  it('replies to the SLA breach in the thread of the first Slack message (bot token); the webhook posts a new message naming the ticket', async () => {
    const eventId = await post(makeEvent({ tags: { sla: 'fast' } }));
    const ticket = await ticketOf(eventId);
    const [root] = await eventually(async () => {
      const found = slackAbout('api', eventId);
      return found.length ? found : undefined;
    });
    expect(root!.thread_ts).toBeUndefined();
    const reply = await eventually(
      async () => slack.posted.find((m) => m.thread_ts === root!.ts),
      30_000,
      'the SLA breach in the thread',
    );
    expect(header(reply)).toContain(`${ticket.key}: SLA breached`);
    expect(reply.reply_broadcast).toBe(true);
    const breachHook = await eventually(async () =>
      slackAbout('webhook', eventId).find((m) => header(m).includes('SLA breached')),
    );
    expect(header(breachHook)).toContain(ticket.key);
    await eventually(async () =>
      cardsAbout(eventId).some((c) => JSON.stringify(c.card).includes('SLA breached')),
    );
    const breached = (await settledNotifications(eventId, 6)).filter(
      (d) => (d.notice as { type: string }).type === 'sla_breached',
    );
    expect(breached.map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);
  });

  it('summarises 20 recurrences within the window in one message, then tells a status change in the thread', async () => {
    const shared = {
      user_email: 'recurring@example.com',
      policy: { id: 'pol-recur', name: 'Recur', action: 'block' },
    };
    const firstId = await post(makeEvent(shared));
    const ticket = await ticketOf(firstId);
    const root = await eventually(async () => slackAbout('api', firstId)[0]);

    const events = Array.from({ length: 20 }, () => makeEvent(shared));
    await api('/v1/violations:batch', { method: 'POST', json: { events } });
    await eventually(
      async () =>
        (await api<{ recurrence_count: number }>(`/v1/tickets/${ticket.id}`)).recurrence_count === 20,
      60_000,
      '20 recurrences on the ticket',
    );
    const summary = await eventually(
      async () => slack.posted.find((m) => m.thread_ts === root.ts && header(m).includes('recurrence')),
      60_000,
      'the recurrence summary',
    );
    expect(header(summary)).toContain(`${ticket.key}: 20 recurrences`);
    // All 20 are counted in that one summary, so no other recurrence message can follow.
    const told = (await notifyDeliveries(firstId)).filter(
      (d) => (d.notice as { type: string }).type === 'recurrence',
    );
    expect(told).toEqual([
      expect.objectContaining({ connector_id: 'slack-bot', notice: expect.objectContaining({ count: 20 }) }),
    ]);
    // The connectors left at their default notify_on are not told of recurrences at all.
    expect(slackAbout('webhook', firstId).some((m) => header(m).includes('recurrence'))).toBe(false);

    await api(`/v1/tickets/${ticket.id}/status`, {
      method: 'POST',
      json: { status: 'resolved', note: 'done' },
    });
    const change = await eventually(
      async () => slack.posted.find((m) => m.thread_ts === root.ts && header(m).includes('open → resolved')),
      30_000,
      'the status change in the thread',
    );
    expect(JSON.stringify(change.blocks)).toContain('changed by api');
  });
});

describe('deliveries that fail for good', () => {
  it('a failed Jira delivery is told to Slack, Teams and (signed) the webhook; a failed notice of it is told to nobody, and can be replayed', async () => {
    jira.faults.status(400, {
      path: '/rest/api/3/issue',
      body: { errorMessages: [], errors: { customfield_10010: 'Field is required' } },
    });
    teams.faults.status(400, { body: { error: { code: 'InvalidAdaptiveCard', message: 'boom' } } });
    const eventId = await post(makeEvent());
    const v = await eventually(async () => {
      const x = await api<{ status: string; deliveries: Delivery[] }>(`/v1/violations/${eventId}`);
      return x.status !== 'processing' ? x : undefined;
    });
    // Jira failed; the webhook took the violation itself.
    expect(v.status).toBe('partially_failed');
    const jiraDelivery = v.deliveries.find((d) => d.connector_id === 'jira')!;

    const notices = await settledNotifications(eventId, 4);
    expect(notices.map((d) => d.connector_id).sort()).toEqual(['hooks', 'slack-bot', 'slack-hook', 'teams']);
    for (const d of notices)
      expect(d.notice).toMatchObject({ type: 'delivery_failed', delivery_id: jiraDelivery.id, attempts: 1 });
    const failedNotice = notices.find((d) => d.connector_id === 'teams')!;
    expect(failedNotice).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failedNotice.last_error).toContain('HTTP 400');
    // Telling that the Teams notice failed would be a failure about a failure: nothing more.
    const all = (await api<{ items: Delivery[] }>('/v1/deliveries?purpose=notify&limit=500')).items;
    expect(all.filter((d) => (d.notice as { delivery_id?: string }).delivery_id === failedNotice.id)).toEqual(
      [],
    );

    const message = hooks.received.find(
      (r) => r.payload.type === 'delivery_failed' && mentions({ raw: r.payload }, eventId),
    )!;
    expect(message.headers['webhook-signature']).toMatch(/^v1,/);
    expect(message.payload.data).toMatchObject({
      notice: 'delivery_failed',
      violation: { event_id: eventId, severity: 'critical' },
      failed_delivery: {
        id: jiraDelivery.id,
        connector_id: 'jira',
        purpose: 'ticket',
        attempts: 1,
        replay: { method: 'POST', path: `/v1/deliveries/${jiraDelivery.id}/replay` },
      },
    });
    expect(JSON.stringify(message.payload.data)).toContain('customfield_10010: Field is required');
    const slackText = slackAbout('webhook', eventId)[0]!.text!;
    expect(slackText).toContain('Delivery to jira');
    expect(slackText).toContain('customfield_10010: Field is required');
    expect(slackText).toContain(`POST /v1/deliveries/${jiraDelivery.id}/replay`);

    // The failed Teams notice replays like any delivery: same row, a new attempt, delivered.
    const replay = await api<{ workflow_id: string }>(`/v1/deliveries/${failedNotice.id}/replay`, {
      method: 'POST',
    });
    await stack.client.workflow.getHandle(replay.workflow_id).result();
    const replayed = await api<Delivery>(`/v1/deliveries/${failedNotice.id}`);
    expect(replayed).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(cardsAbout(eventId).some((c) => JSON.stringify(c.card).includes('failed for good'))).toBe(true);
  });
});

describe('Slack retries', () => {
  it("honours a 429's Retry-After and records both attempts", async () => {
    slack.faults.status(429, { retryAfter: 1, path: '/services/' });
    const eventId = await post(makeEvent());
    const notices = await settledNotifications(eventId, 3);
    const hook = notices.find((d) => d.connector_id === 'slack-hook')!;
    const detail = await api<Delivery>(`/v1/deliveries/${hook.id}`);
    expect(detail.status).toBe('delivered');
    expect(detail.attempt_log!.map((a) => [a.outcome, a.http_status])).toEqual([
      ['failed', 429],
      ['succeeded', 200],
    ]);
  });

  it('a notification whose attempt is in flight is not replayed beside it (409); it is sent once', async () => {
    teams.faults.delay(4_000, '/workflows/');
    const eventId = await post(makeEvent());
    const pending = await eventually(async () =>
      (await notifyDeliveries(eventId)).find((d) => d.connector_id === 'teams' && d.status === 'pending'),
    );
    const res = await stack.api(`/v1/deliveries/${pending.id}/replay`, { method: 'POST' });
    const text = await res.text();
    expect(res.status, text).toBe(409);
    expect(JSON.parse(text).error.code).toBe('delivery_in_flight');
    const notices = await settledNotifications(eventId, 3);
    expect(notices.find((d) => d.id === pending.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(cardsAbout(eventId)).toHaveLength(1);
  });

  it('a bot message whose answer was lost is found on the retry, not posted twice', async () => {
    slack.faults.loseResponse('/api/chat.postMessage');
    const eventId = await post(makeEvent());
    const notices = await settledNotifications(eventId, 3);
    const bot = await api<Delivery>(
      `/v1/deliveries/${notices.find((d) => d.connector_id === 'slack-bot')!.id}`,
    );
    expect(bot.status).toBe('delivered');
    expect(bot.attempt_log!.at(-1)!.message).toMatch(/already posted by an earlier attempt/);
    expect(slackAbout('api', eventId)).toHaveLength(1);
  });

  it('without the history scope a retry cannot look, posts again, and says so', async () => {
    slack.historyScope.enabled = false;
    try {
      slack.faults.loseResponse('/api/chat.postMessage');
      const eventId = await post(makeEvent());
      const notices = await settledNotifications(eventId, 3);
      const bot = await api<Delivery>(
        `/v1/deliveries/${notices.find((d) => d.connector_id === 'slack-bot')!.id}`,
      );
      expect(bot.attempt_log!.at(-1)!.message).toContain('no lookup before this retry: missing_scope');
      expect(slackAbout('api', eventId)).toHaveLength(2);
    } finally {
      slack.historyScope.enabled = true;
    }
  });
});

describe('rules and connector tests', () => {
  it('then.notify tells a connector whose own filters exclude the event', async () => {
    const eventId = await post(makeEvent({ event_type: 'budget_alert', severity: 'high' }));
    await ticketOf(eventId);
    const notices = await settledNotifications(eventId, 4);
    expect(notices.map((d) => d.connector_id).sort()).toEqual([
      'slack-bot',
      'slack-hook',
      'teams',
      'teams-ops',
    ]);
    const v = await api<{ decisions: { connector_id: string; action: string; reason: string }[] }>(
      `/v1/violations/${eventId}`,
    );
    expect(v.decisions.find((d) => d.connector_id === 'teams-ops')).toMatchObject({
      action: 'notify',
      reason: expect.stringContaining("named by rule 'ops hear of high budget alerts'"),
    });
  });

  it.each(['slack-hook', 'slack-bot', 'teams'])(
    'POST /v1/connectors/%s/test sends a test message',
    async (id) => {
      const before = slack.posted.length + teams.received.length;
      const verdict = await api<{ ok: boolean; message: string; event_id: string }>(
        `/v1/connectors/${id}/test`,
        {
          method: 'POST',
        },
      );
      expect(verdict.ok, verdict.message).toBe(true);
      expect(slack.posted.length + teams.received.length).toBe(before + 1);
      const sent = [...slack.posted, ...teams.received].find((m) => mentions(m, verdict.event_id))!;
      expect(JSON.stringify(sent.raw)).toContain('escalate connection test');
    },
  );

  it('a broken Slack webhook fails the test with its code', async () => {
    const broken = await create({
      name: 'slack-broken',
      kind: 'slack',
      config: { webhook_url: `${slack.url}/services/T0/B0/nothing-here` },
    });
    const verdict = await api<{ ok: boolean; http_status: number; remote_code: string }>(
      `/v1/connectors/${broken.id}/test`,
      { method: 'POST' },
    );
    expect(verdict).toMatchObject({ ok: false, http_status: 404, remote_code: 'no_service' });
  });
});
