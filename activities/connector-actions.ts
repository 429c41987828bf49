import { randomUUID } from 'node:crypto';
import { checkConnector } from '../connectors/checks/index.js';
import { installIndexTemplate } from '../connectors/elasticsearch-template.js';
import { ConnectorError } from '../connectors/http.js';
import { createTicket, previewTicketRequest } from '../connectors/itsm.js';
import { sendNotification } from '../connectors/notify.js';
import { deliverToSiem } from '../connectors/siem.js';
import { recordConnectorAction } from '../db/repos/connectors.js';
import { findDelivery } from '../db/repos/deliveries.js';
import { getViolation, storedCompactEvent } from '../db/repos/violations.js';
import type { Connector, ElasticsearchConfig, SiemKind } from '../domain/connector.js';
import { connectorTimeoutMs, isItsmKind, isNotifyKind } from '../domain/connector.js';
import { compactEvent, type ViolationEvent } from '../domain/event.js';
import type { Severity } from '../domain/severity.js';
import type { ConnectorAction, ConnectorActionInput, ConnectorActionResult } from '../workflows/contract.js';
import type { ActivityDeps } from './deps.js';
import { connectorUnavailable } from './failures.js';
import { composeNotification } from './notifications.js';
import { asItsm, loadConnector, ticketDraftFor } from './tickets.js';

function testEvent(): ViolationEvent {
  return {
    event_id: randomUUID(),
    event_type: 'test_connection',
    severity: 'low',
    summary: 'escalate connection test: safe to close',
    occurred_at: new Date().toISOString(),
    source: 'escalate',
  };
}

/** A failure here is the answer, not a crash: the remote's message goes back to the admin. */
function failed(
  action: ConnectorAction,
  connectorId: string,
  err: unknown,
  eventId?: string,
): ConnectorActionResult {
  const ce = err instanceof ConnectorError ? err : undefined;
  return {
    ok: false,
    action,
    connector_id: connectorId,
    event_id: eventId,
    http_status: ce?.status,
    remote_code: ce?.remoteCode,
    message: (err as Error).message,
  };
}

export function connectorActionActivities(deps: ActivityDeps) {
  /**
   * The ticket request a push of this stored violation to this connector would send, secrets
   * masked: the connector's templates and fields, and the ticket planning decided for this
   * delivery (rule labels, priority...), which every later attempt uses. Never planned for this
   * connector: the event's severity, no rule shaping, as a push would create it.
   */
  async function preview(c: Connector, eventId: string | undefined): Promise<ConnectorActionResult> {
    const violation = eventId ? await getViolation(deps.db, eventId) : undefined;
    if (!violation) throw connectorUnavailable(`violation ${eventId} is not stored`);
    const event = storedCompactEvent(violation);
    const delivery = await findDelivery(deps.db, event.event_id, c.id);
    const spec = delivery?.ticketSpec ?? undefined;
    const draft = ticketDraftFor(c, violation, {
      priority: (delivery?.priority as Severity | null) ?? event.severity,
      spec,
    });
    const request = await previewTicketRequest(asItsm(c), draft, { timeoutMs: connectorTimeoutMs(c.config) });
    const shaping = spec
      ? `as planned: rule ${spec.ruleName ?? 'default routing'}`
      : 'no rule shaping: never planned for this connector';
    return { ok: true, action: 'preview', connector_id: c.id, message: `rendered (${shaping})`, request };
  }

  /** Read-only steps (credentials, permissions, project or index); unreadable secrets are the answer too. */
  async function check(connectorId: string): Promise<ConnectorActionResult> {
    const report = await loadConnector(deps, connectorId).then(
      (c) => checkConnector(c.kind, c.config),
      (err: Error) => ({ ok: false, checks: [{ name: 'configuration', ok: false, message: err.message }] }),
    );
    const failedSteps = report.checks.filter((s) => !s.ok).map((s) => s.name);
    const message = report.ok ? 'every check passed' : `failed: ${failedSteps.join(', ')}`;
    return { ok: report.ok, action: 'check', connector_id: connectorId, message, checks: report.checks };
  }

  async function run(input: ConnectorActionInput): Promise<ConnectorActionResult> {
    const { action } = input;
    if (action === 'check') return check(input.connectorId);
    // Secrets that cannot be decrypted (changed since the API looked) are the answer, not a crash.
    const loaded = await loadConnector(deps, input.connectorId).catch((err: Error) => err);
    if (loaded instanceof Error) return failed(action, input.connectorId, loaded, input.eventId);
    const c = loaded;
    if (action === 'preview') return preview(c, input.eventId).catch((err) => failed(action, c.id, err));
    const timeoutMs = 30_000;
    if (action === 'install-template') {
      if (c.kind !== 'elasticsearch')
        throw connectorUnavailable(`install-template applies to elasticsearch connectors, not ${c.kind}`);
      try {
        const r = await installIndexTemplate(c.config as ElasticsearchConfig);
        return { ok: true, action, connector_id: c.id, http_status: r.status, message: r.message };
      } catch (err) {
        return failed(action, c.id, err);
      }
    }
    const event = testEvent();
    try {
      if (isItsmKind(c.kind)) {
        // The connector's own templates and custom fields, so a test proves they render and fit.
        const draft = ticketDraftFor(
          c,
          { eventId: event.event_id, payload: event as Record<string, unknown>, severity: 'low' },
          { priority: 'low', idempotencyKey: `escalate-test-${event.event_id.slice(0, 8)}` },
        );
        const ref = await createTicket(asItsm(c), draft, { timeoutMs, lookupFirst: false });
        return {
          ok: true,
          action,
          connector_id: c.id,
          event_id: event.event_id,
          external_id: ref.externalId,
          external_url: ref.externalUrl,
          message: `created test ticket ${ref.externalId}`,
        };
      }
      const r = isNotifyKind(c.kind)
        ? await sendNotification(
            c as never,
            await composeNotification(deps, { type: 'test' }, compactEvent(event, event.occurred_at!)),
            { noticeKey: `test:${event.event_id}`, timeoutMs },
          )
        : await deliverToSiem(c.kind as SiemKind, c.config as never, event, {
            connectorId: c.id,
            severity: 'low',
          });
      return {
        ok: true,
        action,
        connector_id: c.id,
        event_id: event.event_id,
        http_status: r.status,
        remote_code: r.remoteCode,
        message: isNotifyKind(c.kind) ? `test message sent: ${r.message}` : r.message,
      };
    } catch (err) {
      return failed(action, c.id, err, event.event_id);
    }
  }

  return {
    /**
     * Test connection (ITSM: a low-severity test ticket; SIEM: a test_connection event; Slack and
     * Teams: a test message), check it without side effects, install the ES template, or preview
     * a ticket request.
     */
    async runConnectorAction(input: ConnectorActionInput): Promise<ConnectorActionResult> {
      const result = await run(input);
      // A preview reads only: nothing to record.
      if (input.action === 'preview') return result;
      await recordConnectorAction(deps.db, {
        connectorId: input.connectorId,
        action: input.action,
        requestedBy: input.requestedBy,
        result,
      });
      return result;
    },
  };
}
