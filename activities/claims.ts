import { ticketIdempotencyKey } from '../connectors/idempotency.js';
import { type Claim, claimTicket, getTicket, releaseTicketClaim } from '../db/repos/tickets.js';
import { parseDuration } from '../domain/duration.js';
import type { TicketSpec } from '../domain/plan.js';
import type { Severity } from '../domain/severity.js';
import { ticketAbandoned, ticketCreated, ticketRecurred } from '../infra/workflow-client.js';
import type { ActivityDeps } from './deps.js';

export type { Claim } from '../db/repos/tickets.js';

export interface ClaimRequest {
  deliveryId: string;
  connectorId: string;
  eventId: string;
  severity: Severity;
  priority: Severity;
  spec: TicketSpec;
  kind: string;
}

/** Opens a ticket for this event or joins the active one with its correlation key. */
export const claimFor = (deps: ActivityDeps, input: ClaimRequest): Promise<Claim> =>
  claimTicket(deps.db, {
    ...input,
    idempotencyKey: ticketIdempotencyKey(input.connectorId, input.eventId),
    slaMs: input.spec.slaMs ?? parseDuration(deps.settings.sla[input.priority]),
  });

export function claimActivities(deps: ActivityDeps) {
  const { db } = deps;

  return {
    /** Opens a ticket for this event or joins the active one (runs planned before plans claimed). */
    claimTicket(input: ClaimRequest): Promise<Claim> {
      return claimFor(deps, input);
    },

    /** The owner's create failed for good: drop the claim so the next event opens a ticket. */
    async releaseTicketClaim(input: { ticketId: string; error: string }): Promise<void> {
      // Also when an earlier attempt dropped it already: the workflow must still hear of it.
      if ((await releaseTicketClaim(db, input.ticketId, input.error)) !== 'created')
        await ticketAbandoned(deps.workflows, input.ticketId);
    },

    /** Starts the ticket's TicketSyncWorkflow (or tells the running one the ticket now exists). */
    async startTicketSync(input: { ticketId: string }): Promise<void> {
      const ticket = await getTicket(db, input.ticketId);
      if (ticket) await ticketCreated(deps.workflows, ticket);
    },

    /** Tells the ticket's workflow about a recurrence (starting it if a recurrence beat the creator). */
    async signalRecurrence(input: { ticketId: string; eventId: string; reopen: boolean }): Promise<void> {
      const ticket = await getTicket(db, input.ticketId);
      if (ticket)
        await ticketRecurred(deps.workflows, ticket, { eventId: input.eventId, reopen: input.reopen });
    },
  };
}
