import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { TicketRow } from '../db/repos/tickets.js';
import { checkTransition, type TicketStatus } from '../domain/ticket-status.js';
import { changeTicketStatus as sendStatusChange } from '../infra/workflow-client.js';
import type { StatusChange } from '../workflows/contract.js';
import type { ApiDeps } from './deps.js';

export type ChangeOutcome =
  | { kind: 'applied' | 'noop'; status: TicketStatus }
  | { kind: 'refused'; reason: string; status: TicketStatus };

/**
 * Sends a status change to the ticket's workflow as a Temporal Update (its validator refuses
 * transitions the table forbids). A ticket whose workflow has ended (closed) is answered from
 * the table itself: closed stays closed.
 */
export async function changeTicketStatus(
  deps: ApiDeps,
  ticket: TicketRow,
  change: StatusChange,
): Promise<ChangeOutcome> {
  try {
    const result = await sendStatusChange(deps.workflows, ticket, change);
    return { kind: result.changed ? 'applied' : 'noop', status: result.status };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const reason = (err.cause as Error | undefined)?.message ?? err.message;
      return { kind: 'refused', reason, status: ticket.status as TicketStatus };
    }
    if (
      err instanceof WorkflowExecutionAlreadyStartedError ||
      err instanceof WorkflowNotFoundError ||
      (err as Error).name === 'WorkflowNotFoundError'
    ) {
      const current = ticket.status as TicketStatus;
      const check = checkTransition(current, change.status);
      if (check.kind === 'noop') return { kind: 'noop', status: current };
      return {
        kind: 'refused',
        status: current,
        reason:
          check.kind === 'refused'
            ? check.reason
            : `ticket ${ticket.id} is no longer followed (status ${current})`,
      };
    }
    throw err;
  }
}
