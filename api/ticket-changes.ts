import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { ticketWorkflowId } from '../activities/claims.js';
import { ticketEvents, type tickets } from '../db/schema.js';
import { checkTransition, type TicketStatus } from '../domain/ticket-status.js';
import type { StatusChange, StatusChangeResult } from '../workflows/ticket-messages.js';
import type { ticketSyncWorkflow } from '../workflows/ticket-sync.js';
import type { ApiDeps } from './deps.js';

type TicketRow = typeof tickets.$inferSelect;

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
  const workflowId = ticketWorkflowId(ticket.id);
  try {
    // An active ticket's workflow may not be running yet (its creator starts it just after the
    // ticket appears): update-with-start makes sure it is, without ever reviving a finished one.
    const result =
      ticket.status === 'closed'
        ? await deps.temporal.workflow
            .getHandle(workflowId)
            .executeUpdate<StatusChangeResult, [StatusChange]>('setStatus', { args: [change] })
        : await deps.temporal.workflow.executeUpdateWithStart<
            typeof ticketSyncWorkflow,
            StatusChangeResult,
            [StatusChange]
          >('setStatus', {
            args: [change],
            startWorkflowOperation: new WithStartWorkflowOperation<typeof ticketSyncWorkflow>(
              'ticketSyncWorkflow',
              {
                workflowId,
                taskQueue: deps.taskQueue,
                args: [{ ticketId: ticket.id }],
                workflowIdConflictPolicy: 'USE_EXISTING',
                workflowIdReusePolicy: 'REJECT_DUPLICATE',
              },
            ),
          });
    return { kind: result.changed ? 'applied' : 'noop', status: result.status };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const reason = (err.cause as Error | undefined)?.message ?? err.message;
      return { kind: 'refused', reason, status: ticket.status as TicketStatus };
    }
    if (
      err instanceof WorkflowNotFoundError ||
      err instanceof WorkflowExecutionAlreadyStartedError ||
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

/** Work notes that arrive from the ITSM are part of the ticket's story (never echoed back). */
export async function recordInboundNote(
  deps: ApiDeps,
  ticketId: string,
  actor: string,
  note: string,
): Promise<void> {
  await deps.database.db
    .insert(ticketEvents)
    .values({ ticketId, type: 'comment', source: 'itsm', actor, note: note.slice(0, 4000) });
}

export const ticketEventsOf = (deps: ApiDeps, ticketId: string) =>
  deps.database.db
    .select()
    .from(ticketEvents)
    .where(eq(ticketEvents.ticketId, ticketId))
    .orderBy(ticketEvents.at, ticketEvents.id);
