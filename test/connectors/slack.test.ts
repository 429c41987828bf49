import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/http.js';
import { postToSlack, SLACK_METADATA_TYPE } from '../../connectors/slack.js';
import { escapeMrkdwn, SLACK_LIMITS, slackMessage } from '../../connectors/slack-format.js';
import { type SlackConfig, slackConfigSchema } from '../../domain/connector.js';
import { compactEvent } from '../../domain/event.js';
import { buildNotificationMessage, type NotificationMessage } from '../../domain/notification-message.js';
import { blockProblem, type FakeSlack, startFakeSlack } from '../fakes/slack.js';
import { sampleEvent, thrown } from './siem-fixtures.js';

let slack: FakeSlack;

const event = compactEvent(sampleEvent(), '2025-03-03T23:30:15.250-02:00');
const ticket = {
  id: '0b5f7d0e-0000-4000-8000-000000000001',
  kind: 'jira',
  externalId: 'SEC-42',
  externalUrl: 'https://example.atlassian.net/browse/SEC-42',
  status: 'open',
  priority: 'high',
};
const created = (): NotificationMessage =>
  buildNotificationMessage({
    notice: { type: 'ticket_created', ticketId: ticket.id },
    event,
    ticket,
    publicUrl: 'https://escalate.example.com',
  });

const bot = (over: Partial<SlackConfig> = {}): SlackConfig =>
  slackConfigSchema.parse({
    bot_token: slack.botToken,
    channel: slack.channel,
    api_url: slack.apiUrl,
    ...over,
  });
const hook = (url = slack.webhookUrl): SlackConfig => slackConfigSchema.parse({ webhook_url: url });

beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(() => slack.close());
afterEach(() => {
  slack.faults.clear();
  slack.historyScope.enabled = true;
});

describe('Block Kit within Slack limits', () => {
  it('a ticket notice: header, summary, facts, the ticket and violation buttons, footer', () => {
    const { text, blocks } = slackMessage(created());
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'actions', 'context']);
    expect(blocks[0]).toMatchObject({
      text: { type: 'plain_text', text: ':large_orange_circle: Jira SEC-42 opened: high policy_violation' },
    });
    expect(text).toContain('SEC-42');
    expect(text).toContain(ticket.externalUrl);
    expect(blockProblem(blocks)).toBeUndefined();
  });

  it('cuts every part of an oversized message to its limit, and Slack (the fake) takes it', () => {
    const huge: NotificationMessage = {
      ...created(),
      title: 'T'.repeat(500),
      summary: '<b>&'.repeat(5_000),
      facts: Array.from({ length: 30 }, (_, i) => ({ label: `f${i}`, value: 'v'.repeat(5_000) })),
      notes: Array.from({ length: 80 }, (_, i) => `note ${i} ${'n'.repeat(4_000)}`),
      links: [
        { label: 'L'.repeat(200), url: 'https://example.com/a' },
        { label: 'too long', url: `https://example.com/${'x'.repeat(3_000)}` },
      ],
    };
    const { text, blocks } = slackMessage(huge);
    expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    const headerText = (blocks[0] as { text: { text: string } }).text.text;
    expect(headerText.length).toBe(SLACK_LIMITS.headerText);
    const fields = blocks.find((b) => b.type === 'section' && 'fields' in b) as {
      fields: { text: string }[];
    };
    expect(fields.fields).toHaveLength(SLACK_LIMITS.fields);
    expect(Math.max(...fields.fields.map((f) => f.text.length))).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    const actions = blocks.find((b) => b.type === 'actions') as { elements: { text: { text: string } }[] };
    expect(actions.elements).toHaveLength(1);
    expect(actions.elements[0]!.text.text.length).toBe(SLACK_LIMITS.buttonText);
    expect(blockProblem(blocks)).toBeUndefined();
  });

  it('escapes the characters mrkdwn treats as control (&, <, >) and never splits an entity', () => {
    expect(escapeMrkdwn('<@U123> & <!here>')).toBe('&lt;@U123&gt; &amp; &lt;!here&gt;');
    const { blocks } = slackMessage({ ...created(), summary: `${'a'.repeat(2_996)}&&&&` });
    const summary = (blocks[1] as { text: { text: string } }).text.text;
    expect(summary.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(summary).toMatch(/(a|&amp;)…$/);
  });
});

describe('Slack connector config', () => {
  it('takes a webhook URL or a bot token with a channel, not both, not neither', () => {
    expect(
      slackConfigSchema.safeParse({ webhook_url: 'https://hooks.slack.com/services/T/B/x' }).success,
    ).toBe(true);
    expect(slackConfigSchema.parse({ bot_token: 'xoxb-1-2-abc', channel: 'C1' }).api_url).toBe(
      'https://slack.com/api',
    );
    expect(slackConfigSchema.safeParse({}).success).toBe(false);
    expect(slackConfigSchema.safeParse({ bot_token: 'xoxb-1-2-abc' }).success).toBe(false);
    expect(
      slackConfigSchema.safeParse({
        webhook_url: 'https://hooks.slack.com/x',
        bot_token: 'xoxb-1',
        channel: 'C1',
      }).success,
    ).toBe(false);
    expect(slackConfigSchema.safeParse({ bot_token: 'not-a-token', channel: 'C1' }).success).toBe(false);
    expect(slackConfigSchema.safeParse({ webhook_url: 'javascript:alert(1)' }).success).toBe(false);
  });
});

describe('incoming webhook', () => {
  it('200 ok: the message is posted', async () => {
    const r = await postToSlack(hook(), created());
    expect(r).toMatchObject({ status: 200, message: 'Slack webhook: ok' });
    expect(slack.posted.at(-1)!.via).toBe('webhook');
  });

  it('404 no_service fails at once with the code', async () => {
    const err = await thrown(() => postToSlack(hook(`${slack.url}/services/T0/B0/gone`), created()));
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ status: 404, retryable: false, remoteCode: 'no_service' });
  });

  it('a network error names the host, never the webhook path (it is the secret)', async () => {
    const err = await thrown(() =>
      postToSlack(hook('http://127.0.0.1:1/services/T9/B9/secretpart123'), created()),
    );
    expect(err).toMatchObject({ retryable: true });
    expect(err.message).toContain('http://127.0.0.1:1/services/…');
    expect(err.message).not.toContain('secretpart123');
  });

  it('429 retries after Retry-After', async () => {
    slack.faults.status(429, { retryAfter: 7 });
    const err = await thrown(() => postToSlack(hook(), created()));
    expect(err).toMatchObject({ status: 429, retryable: true, retryAfterMs: 7_000 });
  });

  it('the fake refuses what Slack refuses: invalid_payload, no_text, invalid_blocks', async () => {
    const send = (body: string) =>
      fetch(slack.webhookUrl, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const answer = async (res: Response) => [res.status, await res.text()];
    expect(await answer(await send('{'))).toEqual([400, 'invalid_payload']);
    expect(await answer(await send('{}'))).toEqual([400, 'no_text']);
    const tooMany = JSON.stringify({ blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) });
    expect(await answer(await send(tooMany))).toEqual([400, 'invalid_blocks']);
    const longHeader = JSON.stringify({
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
    });
    expect(await answer(await send(longHeader))).toEqual([400, 'invalid_blocks']);
  });
});

describe('Web API (bot token)', () => {
  it('posts with the token and our delivery id as metadata; answers the ts', async () => {
    const r = await postToSlack(bot(), created(), { deliveryId: 'd-1' });
    expect(r.ts).toMatch(/^\d+\.\d{6}$/);
    expect(r.channel).toBe(slack.channel);
    expect(slack.posted.at(-1)).toMatchObject({
      via: 'api',
      ts: r.ts,
      metadata: { event_type: SLACK_METADATA_TYPE, event_payload: { delivery_id: 'd-1' } },
    });
  });

  it('replies in a thread; a thread that is gone gets the message in the channel, said so', async () => {
    const root = await postToSlack(bot(), created());
    const reply = await postToSlack(bot(), created(), { threadTs: root.ts, broadcast: true });
    expect(slack.posted.at(-1)).toMatchObject({ ts: reply.ts, thread_ts: root.ts, reply_broadcast: true });
    const orphan = await postToSlack(bot(), created(), { threadTs: '1.000001' });
    expect(orphan.message).toContain('thread 1.000001 is gone: posted in the channel');
    expect(slack.posted.at(-1)!.thread_ts).toBeUndefined();
  });

  it.each([
    ['a wrong token', { bot_token: 'xoxb-0-0-wrong' }, 'invalid_auth'],
    ['an unknown channel', { channel: 'C0NOWHERE' }, 'channel_not_found'],
  ])('%s: ok:false in a 200, final', async (_label, over, code) => {
    const err = await thrown(() => postToSlack(bot(over), created()));
    expect(err).toMatchObject({ status: 200, retryable: false, remoteCode: code });
  });

  it('the fake wants the bearer token: not_authed without one', async () => {
    const res = await fetch(`${slack.apiUrl}/chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: slack.channel, text: 'x' }),
    });
    expect(await res.json()).toEqual({ ok: false, error: 'not_authed' });
  });

  it('ratelimited (429 with Retry-After) retries after the delay asked for', async () => {
    slack.faults.status(429, { retryAfter: 3, path: '/api/chat.postMessage' });
    const err = await thrown(() => postToSlack(bot(), created()));
    expect(err).toMatchObject({
      status: 429,
      retryable: true,
      remoteCode: 'ratelimited',
      retryAfterMs: 3_000,
    });
  });

  it('internal_error in a 200 is worth a retry', async () => {
    slack.faults.status(200, { body: { ok: false, error: 'internal_error' }, path: '/api/chat.postMessage' });
    const err = await thrown(() => postToSlack(bot(), created()));
    expect(err).toMatchObject({ retryable: true, remoteCode: 'internal_error' });
  });

  it('a retry finds the message an earlier attempt posted (channel or thread) instead of posting again', async () => {
    const since = new Date();
    const first = await postToSlack(bot(), created(), { deliveryId: 'd-lost' });
    const before = slack.posted.length;
    const again = await postToSlack(bot(), created(), { deliveryId: 'd-lost', lookupFirst: true, since });
    expect(again).toMatchObject({ ts: first.ts, adopted: true });
    const inThread = await postToSlack(bot(), created(), { deliveryId: 'd-reply', threadTs: first.ts });
    const replyAgain = await postToSlack(bot(), created(), {
      deliveryId: 'd-reply',
      threadTs: first.ts,
      lookupFirst: true,
      since,
    });
    expect(replyAgain).toMatchObject({ ts: inThread.ts, adopted: true });
    expect(slack.posted.length).toBe(before + 1);
  });

  it('a retry that cannot look (missing_scope) posts, and says so', async () => {
    slack.historyScope.enabled = false;
    const r = await postToSlack(bot(), created(), {
      deliveryId: 'd-blind',
      lookupFirst: true,
      since: new Date(),
    });
    expect(r.adopted).toBeUndefined();
    expect(r.message).toContain('no lookup before this retry: missing_scope');
  });
});
