/**
 * The notification connectors behind one door: Slack, Teams, and webhook receivers (for
 * notices, as Standard Webhooks messages of their own type). Pure HTTP; activities map
 * ConnectorError to Temporal failures.
 */
import type { Connector, SlackConfig, TeamsConfig, WebhookConfig } from '../domain/connector.js';
import { connectorTimeoutMs } from '../domain/connector.js';
import type { NotificationMessage } from '../domain/notification-message.js';
import { postToSlack, type SlackResult } from './slack.js';
import { postToTeams } from './teams.js';
import { sendWebhookNotice } from './webhook.js';

export type NotifyConnector = Connector & { kind: 'slack' | 'teams' | 'webhook' };

export const canNotify = (c: Connector): c is NotifyConnector =>
  c.kind === 'slack' || c.kind === 'teams' || c.kind === 'webhook';

export interface NotifyOptions {
  timeoutMs?: number;
  /** The delivery this is (Slack metadata, found again on a retry). */
  deliveryId?: string;
  /** The notice's key (the webhook message id is derived from it). */
  noticeKey: string;
  /** Slack bot: reply in this thread. */
  threadTs?: string;
  /** Slack bot: a thread reply also shown in the channel. */
  broadcast?: boolean;
  /** Slack bot, on a retry: look for an earlier attempt's message first. */
  lookupFirst?: boolean;
  since?: Date;
}

/** What the remote answered; only a Slack bot has a message id (ts) to give. */
export type NotifyResult = SlackResult;

export function sendNotification(
  connector: NotifyConnector,
  message: NotificationMessage,
  opts: NotifyOptions,
): Promise<NotifyResult> {
  const timeoutMs = opts.timeoutMs ?? connectorTimeoutMs(connector.config as { timeout?: string });
  switch (connector.kind) {
    case 'slack':
      return postToSlack(connector.config as SlackConfig, message, { ...opts, timeoutMs });
    case 'teams':
      return postToTeams(connector.config as TeamsConfig, message, timeoutMs);
    case 'webhook':
      return sendWebhookNotice(connector.config as WebhookConfig, message, {
        connectorId: connector.id,
        noticeKey: opts.noticeKey,
        timeoutMs,
      });
  }
}
