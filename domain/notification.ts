/**
 * Notifications: the moments of a ticket's or a delivery's life that people (Slack, Teams) and
 * webhook receivers are told about, and the key that makes each one a delivery of its own.
 * Pure, so workflows import it too.
 */
import type { Severity } from './severity.js';
import type { TicketStatus, TransitionSource } from './ticket-status.js';

export const NOTICE_TYPES = [
  'ticket_created',
  'recurrence',
  'status_changed',
  'sla_breached',
  'delivery_failed',
] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];

/** What a notification connector hears of when its `notify_on` is left out. */
export const DEFAULT_NOTIFY_ON: readonly NoticeType[] = ['ticket_created', 'sla_breached', 'delivery_failed'];

/** What a `webhook` connector may hear of besides the violations themselves (its default, too). */
export const WEBHOOK_NOTICE_TYPES = ['delivery_failed'] as const;

/** One moment worth telling; ids only (what it says is read from PostgreSQL when it is sent). */
export type Notice =
  | { type: 'ticket_created'; ticketId: string }
  /** `count` recurrences of the ticket arrived since `since` (epoch ms), summarised in one message. */
  | { type: 'recurrence'; ticketId: string; count: number; since: number }
  | {
      type: 'status_changed';
      ticketId: string;
      from: TicketStatus;
      to: TicketStatus;
      source: TransitionSource;
      /** Epoch ms of the change (workflow time): tells two changes to the same status apart. */
      at: number;
    }
  | { type: 'sla_breached'; ticketId: string; previous: Severity; priority: Severity }
  /** `attempts`: the failed delivery's attempt count when it failed (a replay that fails again is told again). */
  | { type: 'delivery_failed'; deliveryId: string; attempts?: number };

/** The notice's identity per connector: retried or replayed, one notice is one delivery. */
export function noticeKey(notice: Notice): string {
  switch (notice.type) {
    case 'ticket_created':
    case 'sla_breached':
      return `${notice.type}:${notice.ticketId}`;
    case 'recurrence':
      return `recurrence:${notice.ticketId}:${notice.since}`;
    case 'status_changed':
      return `status_changed:${notice.ticketId}:${notice.to}:${notice.at}`;
    case 'delivery_failed':
      return `delivery_failed:${notice.deliveryId}:${notice.attempts ?? 0}`;
  }
}

/** The ticket a notice is about, if any. */
export const noticeTicketId = (notice: Notice): string | undefined =>
  notice.type === 'delivery_failed' ? undefined : notice.ticketId;

/**
 * Whether a failed delivery of this notice is itself told as `delivery_failed`: never for a
 * `delivery_failed` notice, so a failure about a failure ends there.
 */
export const failureIsTold = (notice: NoticeType | undefined): boolean => notice !== 'delivery_failed';

/** The notice as the API shows it (snake_case keys). */
export function publicNotice(notice: Notice): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(notice).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}
