/**
 * Slack and Teams checks, posting nothing:
 * - Slack incoming webhook: an empty message, which Slack refuses (`no_text`) only once it has
 *   found the webhook; an unknown or revoked one answers `no_service`, an archived channel
 *   `channel_is_archived`.
 * - Slack bot: `auth.test` (the token), then `conversations.history` with `limit=1` (the channel,
 *   the bot's membership, and the history scope the lookup before a retry needs).
 * - Teams: a Workflows URL runs its flow only on POST, so only reachability is checked (`test`
 *   posts a card).
 */
import type { SlackConfig, TeamsConfig } from '../../domain/connector.js';
import { dispatcherFor } from '../dispatcher.js';
import { ConnectorError, errorFromResponse, parseJson, send } from '../http.js';
import { shortText } from '../siem-common.js';
import { webApiResult, withoutWebhookPath } from '../slack.js';
import type { CheckStep } from './steps.js';

const bearer = (config: SlackConfig) => ({
  Authorization: `Bearer ${config.bot_token}`,
  Accept: 'application/json',
  'User-Agent': 'escalate',
});

const slackWebhook: CheckStep<SlackConfig> = {
  name: 'webhook',
  applies: (config) => config.webhook_url !== undefined,
  async run(config, timeoutMs) {
    const url = config.webhook_url!;
    const res = await send(
      {
        method: 'POST',
        url,
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'escalate' },
        body: '{}',
      },
      timeoutMs,
      { dispatcher: dispatcherFor(config) },
    ).catch((err) => {
      throw withoutWebhookPath(err, url);
    });
    const answer = res.text.trim();
    if (res.status === 400 && (answer === 'no_text' || answer === 'invalid_payload'))
      return {
        ok: true,
        message: `the webhook exists (Slack refused an empty message with ${answer}: nothing was posted)`,
      };
    throw errorFromResponse(res, answer, { remoteCode: /^[a-z_]+$/.test(answer) ? answer : undefined });
  },
};

const slackAuth: CheckStep<SlackConfig> = {
  name: 'authenticate',
  applies: (config) => config.bot_token !== undefined,
  async run(config, timeoutMs) {
    const res = await send(
      { method: 'POST', url: `${config.api_url}/auth.test`, headers: bearer(config) },
      timeoutMs,
      { dispatcher: dispatcherFor(config) },
    );
    const body = webApiResult(res, 'auth.test');
    return {
      ok: true,
      message: `the token is ${String(body.user ?? body.bot_id ?? 'a bot')} in ${String(body.team ?? 'its workspace')}`,
    };
  },
};

const WHY: Record<string, string> = {
  missing_scope:
    'the token lacks channels:history (groups:history for a private channel): a retry after a lost answer cannot look for the message and may post it twice',
  not_in_channel: 'the bot is not in the channel: invite it',
  channel_not_found: 'no such channel for this token (give the channel id, C…)',
};

const slackChannel: CheckStep<SlackConfig> = {
  name: 'channel',
  needs: ['authenticate'],
  applies: (config) => config.bot_token !== undefined,
  async run(config, timeoutMs) {
    const query = new URLSearchParams({ channel: config.channel ?? '', limit: '1' });
    const res = await send(
      { method: 'GET', url: `${config.api_url}/conversations.history?${query}`, headers: bearer(config) },
      timeoutMs,
      { dispatcher: dispatcherFor(config) },
    );
    try {
      webApiResult(res, 'conversations.history');
    } catch (err) {
      const code = err instanceof ConnectorError ? err.remoteCode : undefined;
      if (code && WHY[code]) return { ok: false, message: `${code}: ${WHY[code]}` };
      throw err;
    }
    return {
      ok: true,
      message: `channel ${config.channel} readable: a retry looks for an earlier attempt's message first`,
    };
  },
};

const teamsReachable: CheckStep<TeamsConfig> = {
  name: 'reachable',
  async run(config, timeoutMs) {
    const res = await send(
      { method: 'GET', url: config.webhook_url, headers: { 'User-Agent': 'escalate' } },
      timeoutMs,
      { dispatcher: dispatcherFor(config) },
    );
    const error = (parseJson(res.text) as { error?: { code?: string } } | undefined)?.error?.code;
    const answer = error ?? shortText(res.text, 80);
    return {
      ok: true,
      message: `reachable (HTTP ${res.status} to GET${answer ? `: ${answer}` : ''}); Workflows runs the flow only on POST, so use test to post a card`,
    };
  },
};

export const SLACK_CHECKS: CheckStep<SlackConfig>[] = [slackWebhook, slackAuth, slackChannel];
export const TEAMS_CHECKS: CheckStep<TeamsConfig>[] = [teamsReachable];
