/**
 * Fake Slack: incoming webhooks and the Web API methods escalate uses, as strict as Slack.
 *
 * - Incoming webhook `POST /services/T…/B…/…`: 200 `ok` (text), 400 `invalid_payload` (not JSON),
 *   400 `no_text` (neither text nor blocks), 400 `invalid_blocks` (a block Slack would refuse),
 *   404 `no_service` (unknown webhook URL).
 * - `POST /api/chat.postMessage` (JSON, `Authorization: Bearer xoxb-…`): errors come as
 *   `{ok: false, error}` in a 200 (`not_authed`, `invalid_auth`, `channel_not_found`, `no_text`,
 *   `msg_too_long`, `invalid_blocks`, `invalid_thread_ts`, `thread_not_found`), 429 `ratelimited`
 *   with Retry-After through the faults; success `{ok, channel, ts, message}`.
 * - `GET /api/conversations.history` and `/api/conversations.replies`: `missing_scope` unless the
 *   token has the history scope; message metadata only with `include_all_metadata=true`.
 * - `POST /api/auth.test`: who the token is.
 *
 * Block checks follow Slack's documented limits: at most 50 blocks; header plain_text ≤ 150;
 * section text ≤ 3000, ≤ 10 fields of ≤ 2000; actions 1–25 elements, button text plain_text ≤ 75,
 * URL ≤ 3000; context 1–10 elements; only known block types.
 */
import { type Context, Hono } from 'hono';
import { type Env, Faults, faultMiddleware, rawBody, startServer } from './fault.js';

export interface FakeSlackOptions {
  botToken?: string;
  /** Channel ids the bot may post to. */
  channels?: string[];
  /** Paths of the incoming webhooks that exist. */
  webhookPaths?: string[];
  /** The bot token has channels:history (needed to look messages up). */
  historyScope?: boolean;
}

export interface SlackPosted {
  via: 'webhook' | 'api';
  channel: string;
  ts: string;
  text?: string;
  blocks?: Record<string, unknown>[];
  thread_ts?: string;
  reply_broadcast?: boolean;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  raw: Record<string, unknown>;
}

const TEXT_LIMIT = 40_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const textObject = (v: unknown, max: number, types = ['plain_text', 'mrkdwn']) =>
  isObj(v) &&
  typeof v.type === 'string' &&
  types.includes(v.type) &&
  typeof v.text === 'string' &&
  v.text.length > 0 &&
  v.text.length <= max;

/** Why Slack would refuse these blocks, or undefined when it would take them. */
export function blockProblem(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > 50) return `${blocks.length} blocks: at most 50`;
  for (const [i, b] of blocks.entries()) {
    const at = `blocks[${i}]`;
    if (!isObj(b)) return `${at} is not an object`;
    if (b.block_id !== undefined && (typeof b.block_id !== 'string' || b.block_id.length > 255))
      return `${at}.block_id is invalid`;
    switch (b.type) {
      case 'header':
        if (!textObject(b.text, 150, ['plain_text']))
          return `${at}: header needs plain_text of 1–150 characters`;
        break;
      case 'section': {
        if (b.text === undefined && b.fields === undefined) return `${at}: section needs text or fields`;
        if (b.text !== undefined && !textObject(b.text, 3000)) return `${at}.text: 1–3000 characters`;
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length === 0 || b.fields.length > 10)
            return `${at}.fields: 1–10 items`;
          if (!b.fields.every((f) => textObject(f, 2000))) return `${at}.fields: each 1–2000 characters`;
        }
        break;
      }
      case 'actions': {
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25)
          return `${at}.elements: 1–25 items`;
        for (const e of b.elements) {
          if (!isObj(e) || e.type !== 'button') return `${at}: only buttons are checked by this fake`;
          if (!textObject(e.text, 75, ['plain_text'])) return `${at}: button text must be plain_text ≤ 75`;
          if (
            e.url !== undefined &&
            (typeof e.url !== 'string' || e.url.length > 3000 || !/^https?:\/\//.test(e.url))
          )
            return `${at}: button url must be http(s), ≤ 3000`;
          if (e.action_id !== undefined && (typeof e.action_id !== 'string' || e.action_id.length > 255))
            return `${at}: action_id ≤ 255`;
        }
        break;
      }
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10)
          return `${at}.elements: 1–10 items`;
        if (!b.elements.every((e) => textObject(e, 3000)))
          return `${at}: context elements must be text objects`;
        break;
      case 'divider':
        break;
      default:
        return `${at}: unknown block type ${String(b.type)}`;
    }
  }
  return undefined;
}

export async function startFakeSlack(opts: FakeSlackOptions = {}) {
  const botToken = opts.botToken ?? 'xoxb-1111-2222-fake';
  const channels = new Set(opts.channels ?? ['C0SECOPS01']);
  const webhookPaths = new Set(opts.webhookPaths ?? ['/services/T0000001/B0000001/fakewebhooksecret000001']);
  const historyScope = { enabled: opts.historyScope ?? true };
  const faults = new Faults();
  const posted: SlackPosted[] = [];
  let seq = 0;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;
  const app = new Hono<Env>();

  app.use(
    '*',
    faultMiddleware(faults, (status) =>
      status === 429 ? { ok: false, error: 'ratelimited' } : { ok: false, error: 'internal_error' },
    ),
  );

  app.post('/services/*', async (c) => {
    if (!webhookPaths.has(new URL(c.req.url).pathname)) return c.text('no_service', 404);
    let body: unknown;
    try {
      body = JSON.parse(await rawBody(c));
    } catch {
      return c.text('invalid_payload', 400);
    }
    if (!isObj(body)) return c.text('invalid_payload', 400);
    if (typeof body.text !== 'string' && body.blocks === undefined) return c.text('no_text', 400);
    if (body.blocks !== undefined && blockProblem(body.blocks)) return c.text('invalid_blocks', 400);
    posted.push({
      via: 'webhook',
      channel: 'webhook',
      ts: nextTs(),
      text: body.text as string | undefined,
      blocks: body.blocks as Obj[] | undefined,
      raw: body,
    });
    return c.text('ok', 200);
  });

  /** The Web API's token check: `not_authed` without one, `invalid_auth` for another. */
  const authError = (c: Context<Env>) => {
    const auth = c.req.header('authorization');
    if (!auth) return 'not_authed';
    return auth === `Bearer ${botToken}` ? undefined : 'invalid_auth';
  };
  const fail = (c: Context<Env>, error: string, extra: Obj = {}) =>
    c.json({ ok: false, error, ...extra }, 200);

  app.post('/api/chat.postMessage', async (c) => {
    const denied = authError(c);
    if (denied) return fail(c, denied);
    if (!(c.req.header('content-type') ?? '').startsWith('application/json'))
      return fail(c, 'invalid_arguments');
    let body: unknown;
    try {
      body = JSON.parse(await rawBody(c));
    } catch {
      return fail(c, 'invalid_json');
    }
    if (!isObj(body)) return fail(c, 'invalid_arguments');
    const channel = body.channel;
    if (typeof channel !== 'string' || !channels.has(channel)) return fail(c, 'channel_not_found');
    if (typeof body.text !== 'string' && body.blocks === undefined) return fail(c, 'no_text');
    if (typeof body.text === 'string' && body.text.length > TEXT_LIMIT) return fail(c, 'msg_too_long');
    const problem = body.blocks !== undefined ? blockProblem(body.blocks) : undefined;
    if (problem)
      return fail(c, 'invalid_blocks', { response_metadata: { messages: [`[ERROR] ${problem}`] } });
    const threadTs = body.thread_ts;
    if (threadTs !== undefined) {
      if (typeof threadTs !== 'string' || !/^\d+\.\d+$/.test(threadTs)) return fail(c, 'invalid_thread_ts');
      if (!posted.some((m) => m.via === 'api' && m.channel === channel && m.ts === threadTs && !m.thread_ts))
        return fail(c, 'thread_not_found');
    }
    const meta = body.metadata;
    if (
      meta !== undefined &&
      !(isObj(meta) && typeof meta.event_type === 'string' && isObj(meta.event_payload))
    )
      return fail(c, 'invalid_metadata_format');
    const message: SlackPosted = {
      via: 'api',
      channel,
      ts: nextTs(),
      text: body.text as string | undefined,
      blocks: body.blocks as Obj[] | undefined,
      thread_ts: threadTs as string | undefined,
      reply_broadcast: body.reply_broadcast === true,
      metadata: meta as SlackPosted['metadata'],
      raw: body,
    };
    posted.push(message);
    return c.json({
      ok: true,
      channel,
      ts: message.ts,
      message: { type: 'message', text: message.text, ts: message.ts, thread_ts: message.thread_ts },
    });
  });

  app.post('/api/auth.test', (c) => {
    const denied = authError(c);
    if (denied) return fail(c, denied);
    return c.json({
      ok: true,
      url: 'https://escalate-demo.slack.com/',
      team: 'Escalate Demo',
      user: 'escalate',
      team_id: 'T0000001',
      user_id: 'U0000001',
      bot_id: 'B0000001',
    });
  });

  const history = (c: Context<Env>, replies: boolean) => {
    const denied = authError(c);
    if (denied) return fail(c, denied);
    if (!historyScope.enabled)
      return fail(c, 'missing_scope', { needed: 'channels:history', provided: 'chat:write' });
    const q = new URL(c.req.url).searchParams;
    const channel = q.get('channel') ?? '';
    if (!channels.has(channel)) return fail(c, 'channel_not_found');
    const oldest = Number(q.get('oldest') ?? '0');
    const withMeta = q.get('include_all_metadata') === 'true';
    const root = q.get('ts');
    if (replies && !posted.some((m) => m.channel === channel && m.ts === root))
      return fail(c, 'thread_not_found');
    const messages = posted
      .filter((m) => m.via === 'api' && m.channel === channel && Number(m.ts) >= oldest)
      .filter((m) =>
        replies ? m.ts === root || m.thread_ts === root : !m.thread_ts || m.reply_broadcast === true,
      )
      .map((m) => ({
        type: 'message',
        ts: m.ts,
        text: m.text,
        ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
        ...(withMeta && m.metadata ? { metadata: m.metadata } : {}),
      }));
    // conversations.history is newest first; replies start with the thread's root.
    return c.json({ ok: true, messages: replies ? messages : messages.reverse(), has_more: false });
  };
  app.get('/api/conversations.history', (c) => history(c, false));
  app.get('/api/conversations.replies', (c) => history(c, true));

  const server = await startServer(app, faults);
  const [webhookPath] = webhookPaths;
  return {
    url: server.url,
    apiUrl: `${server.url}/api`,
    webhookUrl: `${server.url}${webhookPath}`,
    botToken,
    channel: [...channels][0]!,
    posted,
    historyScope,
    faults,
    close: server.close,
  };
}

export type FakeSlack = Awaited<ReturnType<typeof startFakeSlack>>;
