import { canNotify, sendNotification } from '../connectors/notify.js';
import { getConnectorRow, listConnectorRows, toPlanningConnector } from '../db/repos/connectors.js';
import {
  type DeliveryRow,
  ensureNoticeDelivery,
  getDelivery,
  getNotificationThread,
  recordNotificationSent,
} from '../db/repos/deliveries.js';
import { listRules } from '../db/repos/rules.js';
import { getTicket } from '../db/repos/tickets.js';
import { getViolation, storedCompactEvent } from '../db/repos/violations.js';
import type { ConnectorKind } from '../domain/connector.js';
import type { CompactEvent } from '../domain/event.js';
import { failureIsTold, type Notice, noticeKey, noticeTicketId } from '../domain/notification.js';
import {
  buildNotificationMessage,
  type MessageInput,
  type NotificationMessage,
} from '../domain/notification-message.js';
import type { LocalFirstAttempt, Target } from '../domain/plan.js';
import { planEvent } from '../domain/planning.js';
import type { RetrySpec } from '../domain/retry.js';
import type { Severity } from '../domain/severity.js';
import { recordedAttempt } from './attempts.js';
import { underDeliveryLease } from './delivery-lease.js';
import type { ActivityDeps } from './deps.js';
import { connectorUnavailable } from './failures.js';
import { toTarget } from './plan.js';
import { loadConnector } from './tickets.js';

/** What a workflow must send for one notice: the violation it is about, and one target per listener. */
export interface OpenedNotifications {
  event: { event_id: string; severity: Severity };
  targets: Target[];
}

/** The violation, ticket and failed delivery a notice is about, read afresh, as one message. */
export async function composeNotification(
  deps: ActivityDeps,
  notice: MessageInput['notice'],
  event: CompactEvent,
): Promise<NotificationMessage> {
  const input: MessageInput = { notice, event, publicUrl: deps.settings.public_url };
  const ticketId = notice.type === 'test' ? undefined : noticeTicketId(notice);
  const ticket = ticketId ? await getTicket(deps.db, ticketId) : undefined;
  if (ticket)
    input.ticket = {
      id: ticket.id,
      kind: ticket.kind,
      externalId: ticket.externalId,
      externalUrl: ticket.externalUrl,
      status: ticket.status,
      priority: ticket.priority,
    };
  if (notice.type === 'delivery_failed') {
    const failed = await getDelivery(deps.db, notice.deliveryId);
    if (failed) {
      const connector = await getConnectorRow(deps.db, failed.connectorId);
      input.failure = {
        deliveryId: failed.id,
        connectorId: failed.connectorId,
        connectorName: connector?.name ?? failed.connectorId,
        kind: failed.kind,
        purpose: failed.purpose,
        attempts: failed.attempts,
        lastError: failed.lastError,
      };
    }
  }
  return buildNotificationMessage(input);
}

export function notificationActivities(deps: ActivityDeps) {
  const { db } = deps;

  /** The violation a notice is about, the connector that must not hear of it, and the notice as keyed. */
  async function subjectOf(notice: Notice) {
    if (notice.type !== 'delivery_failed') {
      const ticket = await getTicket(db, notice.ticketId);
      return ticket ? { eventId: ticket.eventId, notice } : undefined;
    }
    const failed = await getDelivery(db, notice.deliveryId);
    // Replayed and delivered since: nothing to tell. A failed notice of a failure is not told again.
    if (failed?.status !== 'failed') return undefined;
    if (failed.purpose === 'notify' && !failureIsTold((failed.notice as Notice | null)?.type))
      return undefined;
    return {
      eventId: failed.eventId,
      exclude: failed.connectorId,
      notice: { ...notice, attempts: failed.attempts } satisfies Notice,
    };
  }

  return {
    /**
     * Opens the notice's delivery on every connector that hears of it: notification connectors
     * whose filters pass or that a matching rule names, webhooks for failures, each only if its
     * `notify_on` has the notice's type (never the connector whose delivery failed). Only pending
     * deliveries are returned, so a retried or repeated call sends nothing twice (a failed one is
     * a replay's business).
     */
    async openNotifications(input: { notice: Notice }): Promise<OpenedNotifications | null> {
      const subject = await subjectOf(input.notice);
      if (!subject) return null;
      const violation = await getViolation(db, subject.eventId);
      if (!violation) return null;
      const event = storedCompactEvent(violation);
      const [rows, rules] = await Promise.all([listConnectorRows(db), listRules(db)]);
      const plan = planEvent(
        event,
        rows.map((r) => toPlanningConnector(r, deps.box)),
        rules,
        deps.settings,
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      const key = noticeKey(subject.notice);
      const targets: Target[] = [];
      for (const listener of plan.listeners) {
        if (!listener.notifyOn.includes(input.notice.type) || listener.connectorId === subject.exclude)
          continue;
        const row = byId.get(listener.connectorId)!;
        const delivery = await ensureNoticeDelivery(db, {
          eventId: event.event_id,
          connectorId: row.id,
          kind: row.kind,
          notice: subject.notice,
          key,
        });
        if (delivery.status !== 'pending') continue;
        const connector = { ...row, kind: row.kind as ConnectorKind, retry: row.retry as RetrySpec | null };
        targets.push(toTarget(connector, delivery, deps.settings));
      }
      return { event: { event_id: event.event_id, severity: event.severity }, targets };
    },

    /**
     * Sends one notification (every attempt recorded). A Slack bot replies in the ticket's thread
     * when there is one, and its first message about a ticket starts it; a retry first looks for
     * the message an earlier attempt may have posted.
     */
    async sendNotification(
      input: { deliveryId: string; maxRetryDelayMs: number } & LocalFirstAttempt,
    ): Promise<{ message: string }> {
      const delivery: DeliveryRow | undefined = await getDelivery(db, input.deliveryId);
      if (!delivery?.notice || !delivery.noticeKey)
        throw connectorUnavailable(`delivery ${input.deliveryId} is not a notification`);
      const notice = delivery.notice as unknown as Notice;
      const connector = await loadConnector(deps, delivery.connectorId);
      if (!canNotify(connector))
        throw connectorUnavailable(`connector ${connector.id} (${connector.kind}) cannot notify`);
      const violation = await getViolation(db, delivery.eventId);
      if (!violation) throw connectorUnavailable(`violation ${delivery.eventId} is not stored`);
      const message = await composeNotification(deps, notice, storedCompactEvent(violation));
      const ticketId = noticeTicketId(notice);
      // One attempt at a time: a replay beside the workflow's own attempt waits, then finds it sent.
      return underDeliveryLease(deps, delivery.id, async () => {
        const current = (await getDelivery(db, delivery.id)) ?? delivery;
        if (current.status === 'delivered') return { message: 'already sent by another attempt' };
        const thread =
          ticketId && connector.kind === 'slack'
            ? await getNotificationThread(db, connector.id, ticketId)
            : undefined;
        // The previous attempt began here: a message it posted but never heard back about is newer.
        const since = current.lastAttemptAt ?? current.createdAt;
        const result = await recordedAttempt(
          deps,
          delivery.id,
          input.maxRetryDelayMs,
          async (attempt) => {
            const r = await sendNotification(connector, message, {
              deliveryId: delivery.id,
              noticeKey: delivery.noticeKey!,
              threadTs: thread?.ts,
              broadcast: notice.type === 'sla_breached',
              lookupFirst: attempt.attempt > 1,
              since,
            });
            return { value: r, httpStatus: r.status, remoteCode: r.remoteCode, message: r.message };
          },
          { retriedIfFailed: input.retriedIfFailed, firstAttemptAfter: input.firstAttemptAfter },
        );
        await recordNotificationSent(db, {
          deliveryId: delivery.id,
          eventId: delivery.eventId,
          connectorId: connector.id,
          message: result.message,
          thread:
            ticketId && !thread && result.ts && result.channel
              ? { ticketId, channel: result.channel, ts: result.ts }
              : undefined,
        });
        return { message: result.message };
      });
    },
  };
}
