import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { installIndexTemplate } from '../connectors/elasticsearch-template.js';
import { ConnectorError } from '../connectors/http.js';
import { deliverToSiem } from '../connectors/siem.js';
import { audit } from '../db/repos/audit.js';
import { connectors } from '../db/schema.js';
import type { ElasticsearchConfig, SiemKind } from '../domain/connector.js';
import { isItsmKind } from '../domain/connector.js';
import type { ViolationEvent } from '../domain/event.js';
import type { ActivityDeps } from './deps.js';
import { connectorUnavailable } from './failures.js';
import { buildTicketDraft } from './ticket-draft.js';
import { createRemoteTicket, loadConnector } from './tickets.js';

export type ConnectorAction = 'test' | 'install-template';

export interface ConnectorActionResult {
  ok: boolean;
  action: ConnectorAction;
  connector_id: string;
  /** test_connection event sent (SIEM) or behind the test ticket (ITSM). */
  event_id?: string;
  external_id?: string;
  external_url?: string;
  http_status?: number;
  remote_code?: string;
  message: string;
}

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
  async function run(connectorId: string, action: ConnectorAction): Promise<ConnectorActionResult> {
    const c = await loadConnector(deps, connectorId);
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
        const draft = buildTicketDraft({
          payload: event as Record<string, unknown>,
          severity: 'low',
          priority: 'low',
          idempotencyKey: `escalate-test-${event.event_id.slice(0, 8)}`,
        });
        const ref = await createRemoteTicket(c, draft, { timeoutMs, lookupFirst: false });
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
      const r = await deliverToSiem(c.kind as SiemKind, c.config as never, event, {
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
        message: r.message,
      };
    } catch (err) {
      return failed(action, c.id, err, event.event_id);
    }
  }

  return {
    /** Test connection (ITSM: a low-severity test ticket; SIEM: a test_connection event) or install the ES template. */
    async runConnectorAction(input: {
      connectorId: string;
      action: ConnectorAction;
      requestedBy: string;
    }): Promise<ConnectorActionResult> {
      const result = await run(input.connectorId, input.action);
      if (input.action === 'test') {
        await deps.db
          .update(connectors)
          .set({
            lastTestAt: new Date(),
            lastTestOk: result.ok,
            lastTestResult: result.message.slice(0, 2000),
          })
          .where(eq(connectors.id, input.connectorId));
      }
      await audit(deps.db, {
        actor: input.requestedBy,
        action: `connector.${input.action}`,
        subjectType: 'connector',
        subjectId: input.connectorId,
        details: {
          ok: result.ok,
          message: result.message,
          external_id: result.external_id,
          event_id: result.event_id,
        },
      });
      return result;
    },
  };
}
