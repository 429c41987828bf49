/**
 * Slack, two ways:
 * - incoming webhook: `POST {webhook_url}` with `{text, blocks}`; Slack answers 200 `ok`, or an
 *   HTTP error with a plain-text code (400 `invalid_payload`/`invalid_blocks`, 403
 *   `action_prohibited`, 404 `no_service`/`channel_not_found`, 410 `channel_is_archived`, 429 with
 *   Retry-After, 500 `rollup_error`). It returns no message id: no threads, no lookup.
 * - bot token: `POST {api_url}/chat.postMessage` (Bearer token) answers 200 with `{ok, ts,
 *   channel}`, or `{ok: false, error}` (also in a 200), or 429 `ratelimited` with Retry-After.
 *   `thread_ts` replies in a thread. Each message carries our delivery id as message metadata, so a
 *   retry after an answer that never came first looks for it (`conversations.history` /
 *   `conversations.replies`, which need the channels:history or groups:history scope); without
 *   that scope the retry posts again and the channel may show the message twice.
 */
import type { SlackConfig } from '../domain/connector.js';
import { connectorTimeoutMs } from '../domain/connector.js';
import type { NotificationMessage } from '../domain/notification-message.js';
import { dispatcherFor } from './dispatcher.js';
import {
  ConnectorError,
  errorFromResponse,
  excerpt,
  type HttpRequest,
  type HttpResponse,
  parseJson,
  parseRetryAfter,
  safeUrl,
  send,
} from './http.js';
import { slackMessage } from './slack-format.js';

/** The `event_type` of the metadata every bot message carries. */
export const SLACK_METADATA_TYPE = 'escalate_notification';

/** Web API errors that may pass if asked again; every other `ok: false` is final. */
const RETRYABLE_SLACK_ERRORS = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

export interface SlackResult {
  status: number;
  message: string;
  remoteCode?: string;
  /** Bot token: the message's id in its channel (a thread's root is its first message's ts). */
  ts?: string;
  channel?: string;
  /** An earlier attempt had posted it: found by its metadata, not posted again. */
  adopted?: boolean;
}

export interface SlackPostOptions {
  timeoutMs?: number;
  /** Bot token: reply in this thread. */
  threadTs?: string;
  /** Bot token: also show the reply in the channel. */
  broadcast?: boolean;
  /** Carried as message metadata; a retry looks it up first. */
  deliveryId?: string;
  /** Bot token, on a retry: look for the message an earlier attempt may have posted. */
  lookupFirst?: boolean;
  /** Where that lookup starts (the delivery's first attempt). */
  since?: Date;
}

const jsonRequest = (url: string, body: unknown, headers: Record<string, string> = {}): HttpRequest => ({
  method: 'POST',
  url,
  headers: {
    'Content-Type': 'application/json; charset=utf-8',
    Accept: 'application/json',
    'User-Agent': 'escalate',
    ...headers,
  },
  body: JSON.stringify(body),
});

export function buildSlackWebhookRequest(webhookUrl: string, message: NotificationMessage): HttpRequest {
  return jsonRequest(webhookUrl, slackMessage(message));
}

export function buildSlackPostMessageRequest(
  config: SlackConfig,
  message: NotificationMessage,
  opts: Pick<SlackPostOptions, 'threadTs' | 'broadcast' | 'deliveryId'> = {},
): HttpRequest {
  const body: Record<string, unknown> = {
    channel: config.channel,
    ...slackMessage(message),
    unfurl_links: false,
  };
  if (opts.threadTs) {
    body.thread_ts = opts.threadTs;
    if (opts.broadcast) body.reply_broadcast = true;
  }
  if (opts.deliveryId)
    body.metadata = { event_type: SLACK_METADATA_TYPE, event_payload: { delivery_id: opts.deliveryId } };
  return jsonRequest(`${config.api_url}/chat.postMessage`, body, {
    Authorization: `Bearer ${config.bot_token}`,
  });
}

/**
 * An incoming webhook's path is its secret (`/services/T…/B…/<token>`): a network error names the
 * host only, so the path never reaches a delivery's error, a log line or a workflow history.
 */
export function withoutWebhookPath(err: unknown, webhookUrl: string): unknown {
  if (err instanceof ConnectorError) {
    const url = new URL(webhookUrl);
    err.message = err.message.split(safeUrl(webhookUrl)).join(`${url.origin}/services/…`);
  }
  return err;
}

async function postToWebhook(config: SlackConfig, message: NotificationMessage, timeoutMs: number) {
  const webhookUrl = config.webhook_url!;
  const res = await send(buildSlackWebhookRequest(webhookUrl, message), timeoutMs, {
    dispatcher: dispatcherFor(config),
  }).catch((err) => {
    throw withoutWebhookPath(err, webhookUrl);
  });
  const answer = res.text.trim();
  if (res.status === 200 && answer === 'ok') return { status: 200, message: 'Slack webhook: ok' };
  const code = /^[a-z_]+$/.test(answer) ? answer : undefined;
  // A 200 that is not `ok` is an answer Slack does not document: refuse it rather than guess.
  throw errorFromResponse(res, answer, {
    remoteCode: code,
    retryable: res.status === 200 ? false : undefined,
  });
}

/** A Web API answer: `{ok: true, ...}`, else the error it carries (in a 200 or a 429). */
export function webApiResult(res: HttpResponse, method: string): Record<string, unknown> {
  const body = parseJson(res.text) as Record<string, unknown> | undefined;
  if (res.status !== 200) {
    const code = typeof body?.error === 'string' ? body.error : undefined;
    throw errorFromResponse(res, `${method}: ${code ?? excerpt(res.text, 300)}`, { remoteCode: code });
  }
  if (!body || typeof body.ok !== 'boolean')
    throw new ConnectorError(`${method}: unreadable answer: ${excerpt(res.text, 300)}`, {
      status: res.status,
      retryable: true,
      durationMs: res.durationMs,
    });
  if (!body.ok) {
    const code = typeof body.error === 'string' ? body.error : 'unknown_error';
    throw new ConnectorError(`${method}: ${code}`, {
      status: res.status,
      retryable: RETRYABLE_SLACK_ERRORS.has(code),
      remoteCode: code,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      durationMs: res.durationMs,
    });
  }
  return body;
}

type Lookup = { found: { ts: string; channel: string } } | { found: undefined; unavailable?: string };

/**
 * The message an earlier attempt of this delivery posted, found by its metadata among the
 * channel's messages (or the thread's replies) since the delivery began.
 */
export async function findSlackMessage(
  config: SlackConfig,
  opts: { deliveryId: string; since: Date; threadTs?: string; timeoutMs: number },
): Promise<Lookup> {
  const method = opts.threadTs ? 'conversations.replies' : 'conversations.history';
  const query = new URLSearchParams({
    channel: config.channel ?? '',
    // A minute of slack for clocks that disagree.
    oldest: Math.max(0, opts.since.getTime() / 1000 - 60).toFixed(6),
    include_all_metadata: 'true',
    limit: '200',
  });
  if (opts.threadTs) query.set('ts', opts.threadTs);
  const res = await send(
    {
      method: 'GET',
      url: `${config.api_url}/${method}?${query}`,
      headers: {
        Authorization: `Bearer ${config.bot_token}`,
        Accept: 'application/json',
        'User-Agent': 'escalate',
      },
    },
    opts.timeoutMs,
    { dispatcher: dispatcherFor(config) },
  );
  let body: Record<string, unknown>;
  try {
    body = webApiResult(res, method);
  } catch (err) {
    // No history scope or no access: say why, and post (the one case a duplicate can happen).
    if (err instanceof ConnectorError && !err.retryable)
      return { found: undefined, unavailable: err.remoteCode };
    throw err;
  }
  const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : [];
  const mine = messages.find((m) => {
    const meta = m.metadata as { event_type?: string; event_payload?: { delivery_id?: string } } | undefined;
    return meta?.event_type === SLACK_METADATA_TYPE && meta.event_payload?.delivery_id === opts.deliveryId;
  });
  return typeof mine?.ts === 'string'
    ? { found: { ts: mine.ts, channel: config.channel ?? '' } }
    : { found: undefined };
}

async function postWithBot(config: SlackConfig, message: NotificationMessage, opts: SlackPostOptions) {
  const timeoutMs = opts.timeoutMs ?? connectorTimeoutMs(config);
  let lookupNote = '';
  if (opts.lookupFirst && opts.deliveryId && opts.since) {
    const lookup = await findSlackMessage(config, {
      deliveryId: opts.deliveryId,
      since: opts.since,
      threadTs: opts.threadTs,
      timeoutMs,
    });
    if (lookup.found)
      return {
        status: 200,
        message: `Slack message ${lookup.found.ts} already posted by an earlier attempt`,
        ts: lookup.found.ts,
        channel: lookup.found.channel,
        adopted: true,
      };
    if (lookup.unavailable) lookupNote = ` (no lookup before this retry: ${lookup.unavailable})`;
  }
  const post = async (threadTs: string | undefined) => {
    const res = await send(buildSlackPostMessageRequest(config, message, { ...opts, threadTs }), timeoutMs, {
      dispatcher: dispatcherFor(config),
    });
    return { status: res.status, body: webApiResult(res, 'chat.postMessage') };
  };
  let threadTs = opts.threadTs;
  let answer: Awaited<ReturnType<typeof post>>;
  try {
    answer = await post(threadTs);
  } catch (err) {
    // The thread's first message was deleted: the notice still goes out, in the channel.
    if (!(threadTs && err instanceof ConnectorError && err.remoteCode === 'thread_not_found')) throw err;
    lookupNote += ` (thread ${threadTs} is gone: posted in the channel)`;
    threadTs = undefined;
    answer = await post(undefined);
  }
  const { status, body } = answer;
  const ts = typeof body.ts === 'string' ? body.ts : undefined;
  const channel = typeof body.channel === 'string' ? body.channel : config.channel;
  return {
    status,
    message: `Slack message ${ts ?? '(no ts)'} in ${channel}${threadTs ? ` (thread ${threadTs})` : ''}${lookupNote}`,
    ts,
    channel,
  };
}

export async function postToSlack(
  config: SlackConfig,
  message: NotificationMessage,
  opts: SlackPostOptions = {},
): Promise<SlackResult> {
  if (config.webhook_url) return postToWebhook(config, message, opts.timeoutMs ?? connectorTimeoutMs(config));
  return postWithBot(config, message, opts);
}
