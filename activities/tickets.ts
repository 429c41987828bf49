import { randomUUID } from 'node:crypto';
import { ticketIdempotencyKey } from '../connectors/idempotency.js';
import { createTicket, type ItsmConnector } from '../connectors/itsm.js';
import {
  beginTicketAttempt,
  type FinishedAttempt,
  type TicketAttemptInput,
  type TicketAttemptStart,
} from '../db/repos/attempts.js';
import { type ConnectorRow, getConnectorRow, toConnector } from '../db/repos/connectors.js';
import { releaseDeliveryLease } from '../db/repos/deliveries.js';
import { createdTicketByKey, recordTicketCreated, type TicketRow } from '../db/repos/tickets.js';
import { getConnectorAndViolation, type ViolationRow } from '../db/repos/violations.js';
import { type Connector, isItsmKind, retryPolicyFor } from '../domain/connector.js';
import { parseDuration } from '../domain/duration.js';
import type { LocalFirstAttempt, TicketSpec } from '../domain/plan.js';
import type { Severity } from '../domain/severity.js';
import type { TicketDraft, TicketRef } from '../domain/ticket.js';
import { buildTicketDraft, type DraftConfig } from '../domain/ticket-draft.js';
import { ticketsCreated } from '../infra/metrics.js';
import { ticketCreated } from '../infra/workflow-client.js';
import { recordedAttempt } from './attempts.js';
import { currentAttempt, currentRetryPolicy, pause } from './context.js';
import { takeDeliveryLease } from './delivery-lease.js';
import type { ActivityDeps } from './deps.js';
import { connectorUnavailable, firstAttemptCut, policyDelayMs } from './failures.js';
import { ticketSyncInit } from './ticket-sync.js';

export interface CreateTicketInput extends LocalFirstAttempt {
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
  /** Whether this attempt started the ticket's workflow (absent from workers before it did). */
  syncStarted?: boolean;
}

export async function loadConnector(deps: ActivityDeps, id: string): Promise<Connector> {
  return usableConnector(deps, id, await getConnectorRow(deps.db, id));
}

function usableConnector(deps: ActivityDeps, id: string, row: ConnectorRow | undefined): Connector {
  if (!row) throw connectorUnavailable(`connector ${id} no longer exists`);
  try {
    return toConnector(row, deps.box);
  } catch (err) {
    throw connectorUnavailable(`connector ${id}: ${(err as Error).message}`);
  }
}

/** What an attempt at a delivery reads first: its connector (secrets opened) and the stored violation. */
export async function loadAttemptSubject(
  deps: ActivityDeps,
  connectorId: string,
  eventId: string,
): Promise<{ connector: Connector; violation: ViolationRow }> {
  const found = await getConnectorAndViolation(deps.db, connectorId, eventId);
  const connector = usableConnector(deps, connectorId, found?.connector);
  if (!found?.violation) throw connectorUnavailable(`violation ${eventId} is not stored`);
  return { connector, violation: found.violation };
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
 * Takes the delivery's lease (waiting while another attempt holds it), then opens the attempt.
 * After an attempt whose outcome is unknown (timeout, lost response), the lookup waits until
 * `settleMs` after it: a search that cannot see the issue yet would create a second one. The
 * retry delay already keeps this floor; a replay or push started sooner waits here.
 */
async function leaseAndBegin(
  deps: ActivityDeps,
  input: TicketAttemptInput,
): Promise<Exclude<TicketAttemptStart, { status: 'settling' | 'cut' }>> {
  await takeDeliveryLease(deps, input.deliveryId, input.token);
  for (;;) {
    const start = await beginTicketAttempt(deps.db, input);
    if (start.status === 'cut') throw firstAttemptCut(input.deliveryId);
    if (start.status !== 'settling') return start;
    await pause(start.waitMs);
  }
}

export function ticketActivities(deps: ActivityDeps) {
  return {
    /**
     * Creates the ticket (or adopts the one an earlier attempt created but never heard back
     * from), records it, marks the delivery delivered, and starts the ticket's workflow from
     * the row just recorded (or tells the running one the ticket exists).
     */
    async createTicket(input: CreateTicketInput): Promise<CreatedTicket> {
      const { connector, violation } = await loadAttemptSubject(deps, input.connectorId, input.eventId);
      const severity = violation.severity as Severity;
      const draft = ticketDraftFor(connector, violation, { priority: input.priority, spec: input.spec });
      const { idempotencyKey } = draft;
      // Jira's search lags behind its creates; ServiceNow's correlation_id query does not.
      const settleMs = connector.kind === 'jira' ? parseDuration(deps.settings.jira.lookup_settle_delay) : 0;
      const policy = retryPolicyFor(connector.kind, connector.retry, deps.settings.retry[connector.kind]);

      // One lookup-then-create at a time per delivery: a replay beside the workflow's own attempt,
      // or an attempt beside a timed-out predecessor still running, waits for the lease, then
      // finds the ticket the other one recorded instead of creating a second.
      const token = randomUUID();
      const slaMs = input.spec?.slaMs ?? parseDuration(deps.settings.sla[input.priority]);
      const record = (ref: TicketRef, finished?: FinishedAttempt) =>
        recordTicketCreated(deps.db, {
          deliveryId: input.deliveryId,
          adopted: ref.adopted,
          finished,
          leaseToken: token,
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
      let ticket: TicketRow | undefined;
      let ref: TicketRef;
      let released = false;
      try {
        const start = await leaseAndBegin(deps, {
          deliveryId: input.deliveryId,
          token,
          idempotencyKey,
          settleMs,
          firstAttemptAfter: input.firstAttemptAfter,
        });
        if (start.status === 'recorded') {
          const recorded = await createdTicketByKey(deps.db, idempotencyKey);
          if (!recorded) throw new Error(`ticket ${idempotencyKey} vanished`);
          ref = recordedRef(recorded);
          // Recorded and delivered already: an earlier attempt failed after recording (telling the sync).
          ticket = start.delivered ? recorded : await record(ref);
          released = !start.delivered;
        } else {
          ref = await recordedAttempt(
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
                message: value.adopted
                  ? `adopted existing ${value.externalId}`
                  : `created ${value.externalId}`,
              };
            },
            {
              begun: start,
              leaseToken: token,
              // The policy Temporal runs this attempt under (the rest of it, after a local first one).
              settle: {
                afterUnknownMs: settleMs,
                policyDelayMs: policyDelayMs(currentRetryPolicy() ?? policy, currentAttempt()),
              },
              retriedIfFailed: input.retriedIfFailed,
              recordSuccess: async (value, finished) => {
                ticket = await record(value, finished);
                released = true;
              },
            },
          );
        }
      } finally {
        // Released with the record of the attempt; this covers a failure before or while recording.
        if (!released) await releaseDeliveryLease(deps.db, input.deliveryId, token).catch(() => undefined);
      }
      // The ticket's workflow starts from the row just recorded (no load of its own).
      const created = ticket!;
      // The ticket exists and is recorded: a failed start must not fail it. The violation's
      // workflow then starts the ticket's workflow itself (startTicketSync).
      let syncStarted = true;
      try {
        await ticketCreated(deps.workflows, created, ticketSyncInit(created, connector, deps.settings));
      } catch (err) {
        syncStarted = false;
        deps.logger.warn(
          { err, ticket_id: created.id },
          "could not start the ticket's workflow; the violation's workflow will",
        );
      }
      // Created now, or adopted (an earlier attempt created it but never heard back): either
      // way this is when escalate records it.
      ticketsCreated.inc({ connector_id: connector.id, kind: connector.kind });
      return {
        ticketId: created.id,
        externalId: ref.externalId,
        externalUrl: ref.externalUrl,
        adopted: ref.adopted,
        syncStarted,
      };
    },
  };
}
