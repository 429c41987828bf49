/**
 * Microsoft Teams through a Workflows webhook (the "When a Teams webhook request is received"
 * trigger that replaced the retired Office 365 connectors): `POST {webhook_url}` with
 * `{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
 * "content": <Adaptive Card>}]}`. Workflows answers 202 once it has queued the flow run; the card
 * is posted by that run, so a card Teams cannot render fails there, after the 202. Cards stay at
 * schema version 1.4, the highest Workflows posts.
 */
import type { TeamsConfig } from '../domain/connector.js';
import { connectorTimeoutMs } from '../domain/connector.js';
import type { NotificationMessage } from '../domain/notification-message.js';
import type { Severity } from '../domain/severity.js';
import { dispatcherFor } from './dispatcher.js';
import { errorFromResponse, type HttpRequest, send } from './http.js';
import { cut } from './slack-format.js';

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
export const ADAPTIVE_CARD_VERSION = '1.4';

/** Keeps a card well inside the ~28 KB a Teams message may carry. */
const MAX_TEXT = 2_000;

const COLOR: Record<Severity, string> = {
  critical: 'Attention',
  high: 'Warning',
  medium: 'Accent',
  low: 'Default',
};

export function adaptiveCard(message: NotificationMessage): Record<string, unknown> {
  const text = (value: string, extra: Record<string, unknown> = {}) => ({
    type: 'TextBlock',
    text: cut(value, MAX_TEXT),
    wrap: true,
    ...extra,
  });
  const body: Record<string, unknown>[] = [
    text(message.title, { size: 'Medium', weight: 'Bolder', color: COLOR[message.severity] }),
    text(message.summary),
    {
      type: 'FactSet',
      facts: message.facts.map((f) => ({ title: cut(f.label, 200), value: cut(f.value, MAX_TEXT) })),
    },
    ...message.notes.map((n) => text(n, { isSubtle: true, spacing: 'Small' })),
  ];
  const card: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: ADAPTIVE_CARD_VERSION,
    body,
    msteams: { width: 'Full' },
  };
  if (message.links.length)
    card.actions = message.links.map((l) => ({
      type: 'Action.OpenUrl',
      title: cut(l.label, 100),
      url: l.url,
    }));
  return card;
}

export function buildTeamsRequest(config: TeamsConfig, message: NotificationMessage): HttpRequest {
  return {
    method: 'POST',
    url: config.webhook_url,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': 'escalate' },
    body: JSON.stringify({
      type: 'message',
      attachments: [
        { contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content: adaptiveCard(message) },
      ],
    }),
  };
}

export async function postToTeams(
  config: TeamsConfig,
  message: NotificationMessage,
  timeoutMs = connectorTimeoutMs(config),
): Promise<{ status: number; message: string }> {
  const res = await send(buildTeamsRequest(config, message), timeoutMs, {
    dispatcher: dispatcherFor(config),
  });
  if (res.status < 200 || res.status >= 300) throw errorFromResponse(res, res.text);
  return { status: res.status, message: `Teams Workflows: HTTP ${res.status} (flow run queued)` };
}
