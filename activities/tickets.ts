import { ticketIdempotencyKey } from '../connectors/idempotency.js';
import { createTicket, type ItsmConnector } from '../connectors/itsm.js';
import { getConnectorRow, toConnector } from '../db/repos/connectors.js';
import { lastFinishedAttempt } from '../db/repos/deliveries.js';
import { createdTicketByKey, recordTicketCreated, type TicketRow } from '../db/repos/tickets.js';
import { getViolation } from '../db/repos/violations.js';
import { type Connector, isItsmKind, retryPolicyFor } from '../domain/connector.js';
import { parseDuration } from '../domain/duration.js';
import type { TicketSpec } from '../domain/plan.js';
import type { Severity } from '../domain/severity.js';
import type { TicketDraft, TicketRef } from '../domain/ticket.js';
import { buildTicketDraft, type DraftConfig } from '../domain/ticket-draft.js';
import { ticketsCreated } from '../infra/metrics.js';
import { recordedAttempt } from './attempts.js';
import { currentAttempt, pause } from './context.js';
import { underDeliveryLease } from './delivery-lease.js';
import type { ActivityDeps } from './deps.js';
import { connectorUnavailable, policyDelayMs } from './failures.js';

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

/**
 * The neutral ticket for a stored violation on this connector: the connector's templates, custom
 * fields, labels and components, the rule's shaping (`spec`) and the priority word. One builder
 * for creation, preview and test, so the three cannot drift apart.
 */
export function ticketDraftFor(
  connector: Connector,
  violation: { eventId: string; payload: Record<string, unknown>; severity: string },
  opts: { priority: Severity; spec?: TicketSpec; idempotencyKey?: string },
): TicketDraft {
  return buildTicketDraft({
    payload: violation.payload,
    severity: violation.severity as Severity,
    priority: opts.priority,
    idempotencyKey: opts.idempotencyKey ?? ticketIdempotencyKey(connector.id, violation.eventId),
    config: connector.config as DraftConfig,
    spec: opts.spec,
  });
}

/** The connector as an ITSM, or the non-retryable failure that says it is not one. */
export function asItsm(connector: Connector): ItsmConnector {
  if (!isItsmKind(connector.kind))
    throw connectorUnavailable(`connector kind ${connector.kind} cannot create tickets`);
  return connector as ItsmConnector;
}

/** A ticket this delivery already created (another attempt recorded it): adopted as it is. */
const recordedRef = (t: TicketRow): TicketRef => ({
  externalId: t.externalId!,
  externalUrl: t.externalUrl ?? '',
  remoteId: t.remoteId ?? undefined,
  sysId: t.sysId ?? undefined,
  adopted: true,
});

/**
 * After an attempt whose outcome is unknown (timeout, lost response), the next lookup waits until
 * `settleMs` after it: a search that cannot see the issue yet would create a second one. The
 * retry delay already keeps this floor; a replay or push started sooner waits here.
 */
async function settleAfterUnknownOutcome(deps: ActivityDeps, deliveryId: string, settleMs: number) {
  if (settleMs <= 0) return;
  const last = await lastFinishedAttempt(deps.db, deliveryId);
  if (!last?.outcomeUnknown || !last.finishedAt) return;
  const wait = last.finishedAt.getTime() + settleMs - Date.now();
  if (wait > 0) await pause(wait);
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
      const severity = violation.severity as Severity;
      const draft = ticketDraftFor(connector, violation, { priority: input.priority, spec: input.spec });
      const { idempotencyKey } = draft;
      // Jira's search lags behind its creates; ServiceNow's correlation_id query does not.
      const settleMs = connector.kind === 'jira' ? parseDuration(deps.settings.jira.lookup_settle_delay) : 0;
      const policy = retryPolicyFor(connector.kind, connector.retry, deps.settings.retry[connector.kind]);

      // One lookup-then-create at a time per delivery: a replay beside the workflow's own attempt,
      // or an attempt beside a timed-out predecessor still running, waits here, then finds the
      // ticket the other one recorded instead of creating a second.
      const ref = await underDeliveryLease(deps, input.deliveryId, async () => {
        const recorded = await createdTicketByKey(deps.db, idempotencyKey);
        if (recorded) return recordedRef(recorded);
        await settleAfterUnknownOutcome(deps, input.deliveryId, settleMs);
        return recordedAttempt(
          deps,
          input.deliveryId,
          input.maxRetryDelayMs,
          async (attempt) => {
            const value = await createTicket(asItsm(connector), draft, {
              timeoutMs: input.timeoutMs,
              lookupFirst: attempt.attempt > 1,
            });
            return {
              value,
              message: value.adopted ? `adopted existing ${value.externalId}` : `created ${value.externalId}`,
            };
          },
          { afterUnknownMs: settleMs, policyDelayMs: policyDelayMs(policy, currentAttempt()) },
        );
      });

      const slaMs = input.spec?.slaMs ?? parseDuration(deps.settings.sla[input.priority]);
      const ticket = await recordTicketCreated(deps.db, {
        deliveryId: input.deliveryId,
        adopted: ref.adopted,
        ticket: {
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
        },
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
