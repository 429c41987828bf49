import { ticketIdempotencyKey } from '../connectors/idempotency.js';
import { createJiraIssue } from '../connectors/jira.js';
import { createServiceNowIncident } from '../connectors/servicenow.js';
import { audit } from '../db/repos/audit.js';
import { getConnectorRow, toConnector } from '../db/repos/connectors.js';
import { markDelivered, upsertTicket } from '../db/repos/deliveries.js';
import { getViolation } from '../db/repos/violations.js';
import type { Connector, JiraConfig, ServiceNowConfig } from '../domain/connector.js';
import { parseDuration } from '../domain/duration.js';
import type { TicketSpec } from '../domain/plan.js';
import type { Severity } from '../domain/severity.js';
import type { TicketDraft, TicketRef } from '../domain/ticket.js';
import { ticketsCreated } from '../infra/metrics.js';
import { recordedAttempt } from './attempts.js';
import type { ActivityDeps } from './deps.js';
import { connectorUnavailable } from './failures.js';
import { buildTicketDraft, type DraftConfig } from './ticket-draft.js';

export interface CreateTicketInput {
  deliveryId: string;
  connectorId: string;
  eventId: string;
  priority: Severity;
  timeoutMs: number;
  maxRetryDelayMs: number;
  /** The rule's shaping of the ticket (absent for manual pushes and replays). */
  spec?: TicketSpec;
}

export interface CreatedTicket {
  ticketId: string;
  externalId: string;
  externalUrl: string;
  adopted: boolean;
}

export async function loadConnector(deps: ActivityDeps, id: string): Promise<Connector> {
  const row = await getConnectorRow(deps.db, id);
  if (!row) throw connectorUnavailable(`connector ${id} no longer exists`);
  try {
    return toConnector(row, deps.box);
  } catch (err) {
    throw connectorUnavailable(`connector ${id}: ${(err as Error).message}`);
  }
}

export async function createRemoteTicket(
  connector: Connector,
  draft: TicketDraft,
  opts: { timeoutMs: number; lookupFirst: boolean },
): Promise<TicketRef> {
  switch (connector.kind) {
    case 'jira':
      return createJiraIssue(connector.config as JiraConfig, draft, opts);
    case 'servicenow':
      return createServiceNowIncident(connector.config as ServiceNowConfig, draft, opts);
    default:
      throw connectorUnavailable(`connector kind ${connector.kind} cannot create tickets`);
  }
}

export function ticketActivities(deps: ActivityDeps) {
  return {
    /**
     * Creates the ticket (or adopts the one an earlier attempt created but never heard back
     * from), records it, and marks the delivery delivered.
     */
    async createTicket(input: CreateTicketInput): Promise<CreatedTicket> {
      const connector = await loadConnector(deps, input.connectorId);
      const violation = await getViolation(deps.db, input.eventId);
      if (!violation) throw connectorUnavailable(`violation ${input.eventId} is not stored`);
      const idempotencyKey = ticketIdempotencyKey(connector.id, input.eventId);
      const severity = violation.severity as Severity;
      const draft = buildTicketDraft({
        payload: violation.payload,
        severity,
        priority: input.priority,
        idempotencyKey,
        config: connector.config as DraftConfig,
        spec: input.spec,
      });

      const ref = await recordedAttempt(deps, input.deliveryId, input.maxRetryDelayMs, async (attempt) => {
        const value = await createRemoteTicket(connector, draft, {
          timeoutMs: input.timeoutMs,
          lookupFirst: attempt.attempt > 1,
        });
        return {
          value,
          message: value.adopted ? `adopted existing ${value.externalId}` : `created ${value.externalId}`,
        };
      });

      const slaMs = input.spec?.slaMs ?? parseDuration(deps.settings.sla[input.priority]);
      // Ticket row, delivered status and audit entry land together: whoever sees the ticket's
      // remote reference also sees the delivery done.
      const ticket = await deps.db.transaction(async (tx) => {
        const row = await upsertTicket(tx, {
          connectorId: connector.id,
          kind: connector.kind,
          eventId: input.eventId,
          idempotencyKey,
          externalId: ref.externalId,
          externalUrl: ref.externalUrl,
          remoteId: ref.remoteId,
          sysId: ref.sysId,
          severity,
          priority: input.priority,
          // Only used when this create opens the row (manual push); a correlation claim has its own.
          slaMs,
          slaDueAt: new Date(Date.now() + slaMs),
        });
        await markDelivered(tx, input.deliveryId, row.id);
        await audit(tx, {
          actor: 'system',
          action: ref.adopted ? 'ticket.adopted' : 'ticket.created',
          subjectType: 'ticket',
          subjectId: row.id,
          details: { event_id: input.eventId, connector_id: connector.id, external_id: ref.externalId },
        });
        return row;
      });
      // Created now, or adopted (an earlier attempt created it but never heard back): either
      // way this is when escalate records it.
      ticketsCreated.inc({ connector_id: connector.id, kind: connector.kind });
      return {
        ticketId: ticket.id,
        externalId: ref.externalId,
        externalUrl: ref.externalUrl,
        adopted: ref.adopted,
      };
    },
  };
}
