/**
 * A notification as a Slack message: Block Kit within Slack's limits (a message of at most 50
 * blocks, header text 150 characters, section text 3,000, at most 10 fields of 2,000, button text
 * 75 and button URLs 3,000), plus the plain `text` Slack shows in notifications and previews.
 */
import type { ActionsBlock, Button, ContextBlock, HeaderBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { NotificationMessage } from '../domain/notification-message.js';
import type { Severity } from '../domain/severity.js';

export const SLACK_LIMITS = {
  /** Slack truncates longer messages; ours stay far below. */
  text: 40_000,
  blocks: 50,
  headerText: 150,
  sectionText: 3_000,
  fields: 10,
  fieldText: 2_000,
  actions: 25,
  buttonText: 75,
  buttonUrl: 3_000,
  contextElements: 10,
} as const;

/** The fallback `text`: enough to read the notice in a phone notification. */
const FALLBACK_TEXT = 3_000;

const MARK: Record<Severity, string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':white_circle:',
};

export const cut = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;

/** Slack's mrkdwn treats `&`, `<` and `>` as control characters: escaped as entities. */
export const escapeMrkdwn = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Escaped, then cut to `max` without splitting an entity. */
export function mrkdwn(text: string, max: number): string {
  let raw = text;
  let escaped = escapeMrkdwn(raw);
  while (escaped.length > max) {
    raw = raw.slice(0, Math.max(0, raw.length - (escaped.length - max) - 1));
    escaped = `${escapeMrkdwn(raw)}…`;
  }
  return escaped;
}

const section = (text: string): SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: mrkdwn(text, SLACK_LIMITS.sectionText) },
});

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

export function slackMessage(message: NotificationMessage): SlackMessage {
  const header: HeaderBlock = {
    type: 'header',
    text: {
      type: 'plain_text',
      text: cut(`${MARK[message.severity]} ${message.title}`, SLACK_LIMITS.headerText),
      emoji: true,
    },
  };
  const fields: SectionBlock = {
    type: 'section',
    fields: message.facts.slice(0, SLACK_LIMITS.fields).map((f) => ({
      type: 'mrkdwn' as const,
      text: mrkdwn(`*${f.label}*\n${f.value}`, SLACK_LIMITS.fieldText),
    })),
  };
  const buttons: Button[] = message.links
    .filter((l) => l.url.length <= SLACK_LIMITS.buttonUrl)
    .slice(0, SLACK_LIMITS.actions)
    .map((l, i) => ({
      type: 'button',
      action_id: `escalate-link-${i}`,
      text: { type: 'plain_text', text: cut(l.label, SLACK_LIMITS.buttonText) },
      url: l.url,
    }));
  const context: ContextBlock = {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: mrkdwn(`escalate · ${message.type}`, SLACK_LIMITS.sectionText) }],
  };
  // Header, summary, facts, the buttons and the footer leave room for 45 notes.
  const notes = message.notes.slice(0, SLACK_LIMITS.blocks - 5).map(section);
  const blocks: KnownBlock[] = [header, section(message.summary)];
  if (fields.fields?.length) blocks.push(fields);
  blocks.push(...notes);
  if (buttons.length) blocks.push({ type: 'actions', elements: buttons } satisfies ActionsBlock);
  blocks.push(context);
  const text = mrkdwn(
    [
      `${message.title}: ${message.summary}`,
      ...message.notes,
      ...message.links.map((l) => `${l.label}: ${l.url}`),
    ].join('\n'),
    FALLBACK_TEXT,
  );
  return { text, blocks };
}
