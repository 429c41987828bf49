/**
 * The client side of the Temporal contract (workflows/contract.ts): how the API and the activities
 * start, signal and update escalate's workflows. Every start goes through `start` below, so the
 * IDs, policies, search attributes and summaries are the contract's, whoever starts.
 */
import {
  type Client,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { CompactEvent } from '../domain/event.js';
import type { Notice } from '../domain/notification.js';
import {
  abandonedSignal,
  type ConnectorActionInput,
  type ConnectorActionResult,
  commentSignal,
  connectorActionStart,
  createdSignal,
  type DeliveryWorkflowInput,
  deliveryStart,
  deliveryWorkflowId,
  type Recurrence,
  type ReplayWorkflowInput,
  recurrenceSignal,
  replayStart,
  type StartSpec,
  type StatusChange,
  type StatusChangeResult,
  setStatusUpdate,
  type TicketComment,
  type TicketFacts,
  type TicketSyncInit,
  ticketStart,
  ticketWorkflowId,
  violationStart,
  violationWorkflowId,
} from '../workflows/contract.js';
import { encryptsPayloads } from './payload-codec.js';

/** A Temporal client and the task queue escalate's workers poll. */
export interface Workflows {
  client: Client;
  taskQueue: string;
  /**
   * The client shares a worker's NativeConnection (API and worker in one process): violation
   * starts ask for eager execution, the first workflow task coming back with the start's answer.
   */
  eagerStart?: boolean;
}

/** How long a request waits for Temporal to acknowledge a start before answering 503. */
const START_DEADLINE_MS = 5_000;

const startOptions = <A extends unknown[]>(w: Workflows, spec: StartSpec<A>) => ({
  ...spec.options,
  taskQueue: w.taskQueue,
});

function start<A extends unknown[]>(w: Workflows, spec: StartSpec<A>): Promise<WorkflowHandle> {
  return w.client.workflow.start(spec.workflowType, startOptions(w, spec));
}

/**
 * Starts `violation-{event_id}` and resolves once Temporal has acknowledged it. Idempotent: a run
 * that exists (running or finished) is never started twice.
 */
export async function startViolation(w: Workflows, event: CompactEvent, acceptedBy: string): Promise<string> {
  const spec = violationStart(event, acceptedBy, { redacted: encryptsPayloads(w.client) });
  try {
    // Answer 503 within seconds when Temporal is down, instead of the client's long retry loop.
    await withinStartDeadline(
      w.client.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
        w.client.workflow.start(spec.workflowType, {
          ...startOptions(w, spec),
          ...(w.eagerStart ? { requestEagerStart: true } : {}),
        }),
      ),
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return spec.options.workflowId;
}

/**
 * The deadline bounds each gRPC try, and a worker's NativeConnection retries on its own: the
 * caller is answered (ETIMEDOUT, an outage: 503) when the deadline passes, whatever the retries.
 * A start that still lands later is harmless: starts are idempotent by workflow ID, and the
 * pending-start sweep marks it.
 */
function withinStartDeadline<T>(start: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error(`Temporal did not acknowledge the start within ${START_DEADLINE_MS} ms`), {
            code: 'ETIMEDOUT',
          }),
        ),
      START_DEADLINE_MS + 250,
    );
  });
  start.catch(() => undefined);
  return Promise.race([start, late]).finally(() => clearTimeout(timer));
}

/** gRPC INVALID_ARGUMENT: the server refused the request itself; retrying it cannot help. */
const GRPC_INVALID_ARGUMENT = 3;

/**
 * The server's reason when it refused a request as invalid (gRPC INVALID_ARGUMENT), else
 * undefined. The client's ServiceError carries the gRPC error (`code`, `details`) as its cause.
 */
export function temporalRejection(err: unknown): string | undefined {
  type Grpcish = { code?: unknown; details?: unknown; message?: unknown; cause?: unknown };
  for (let e = err as Grpcish | undefined; e; e = e.cause as Grpcish | undefined) {
    if (e.code === GRPC_INVALID_ARGUMENT)
      return typeof e.details === 'string' && e.details ? e.details : String(e.message);
  }
  return undefined;
}

/** Whether the workflow with this ID has a run still running. */
async function isRunning(w: Workflows, workflowId: string): Promise<boolean> {
  try {
    return (await w.client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/**
 * The workflow whose attempt at this delivery is in flight (running, or waiting to retry), if
 * any: its own replay/push workflow, or the workflow that opened it: the violation's for a
 * delivery its planning opened; for a notification, the violation's, the ticket's (whose
 * notices it tells) or the failed delivery's replay. A pending delivery nothing attempts any
 * more (its workflow was terminated) has none.
 */
export async function deliveryInFlight(
  w: Workflows,
  delivery: {
    id: string;
    eventId: string;
    status: string;
    purpose: string;
    ticketSpec: unknown;
    notice?: unknown;
  },
  opts: { fromItsOwnWorkflow?: boolean } = {},
): Promise<string | undefined> {
  if (delivery.status !== 'pending') return undefined;
  const candidates: string[] = [];
  if (!opts.fromItsOwnWorkflow) candidates.push(deliveryWorkflowId(delivery.id));
  const notice = delivery.purpose === 'notify' ? (delivery.notice as Notice | null) : null;
  if (delivery.purpose === 'event' || delivery.ticketSpec !== null || notice)
    candidates.push(violationWorkflowId(delivery.eventId));
  // The ticket's own workflow tells what happens to the ticket later; a failure, whoever failed.
  if (notice && notice.type !== 'ticket_created' && notice.type !== 'delivery_failed')
    candidates.push(ticketWorkflowId(notice.ticketId));
  if (notice?.type === 'delivery_failed') candidates.push(deliveryWorkflowId(notice.deliveryId));
  for (const id of candidates) if (await isRunning(w, id)) return id;
  return undefined;
}

/** Runs (or joins the running) manual push / replay of one delivery. */
export async function startDelivery(w: Workflows, input: DeliveryWorkflowInput, summary: string) {
  return (await start(w, deliveryStart(input, summary))).workflowId;
}

export async function startReplay(w: Workflows, input: ReplayWorkflowInput, total: number) {
  return (await start(w, replayStart(input, total))).workflowId;
}

/** Starts a connector action; the caller decides how long to wait for its result. */
export function startConnectorAction(
  w: Workflows,
  input: ConnectorActionInput,
  requestId: string,
): Promise<WorkflowHandle<(input: ConnectorActionInput) => Promise<ConnectorActionResult>>> {
  return start(w, connectorActionStart(input, requestId)) as never;
}

/**
 * A signal-with-start to a ticket's workflow. A finished run is left alone (REJECT_DUPLICATE): its
 * ticket is closed, there is nothing left to tell it.
 */
async function unlessEnded(signalWithStart: Promise<unknown>): Promise<void> {
  try {
    await signalWithStart;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * The remote ticket exists: the ticket's workflow (started now if need be) starts following it.
 * With `init` (the creator's view of the ticket just recorded) a run started now needs no load
 * and sleeps until its first deadline: a plain start (a signal-with-start would wake it), and the
 * `created` signal only to a run someone else started first.
 */
export async function ticketCreated(w: Workflows, ticket: TicketFacts, init?: TicketSyncInit): Promise<void> {
  const spec = ticketStart(ticket, init);
  if (!init)
    return unlessEnded(
      w.client.workflow.signalWithStart(spec.workflowType, {
        ...startOptions(w, spec),
        signal: createdSignal,
      }),
    );
  try {
    await w.client.workflow.start(spec.workflowType, {
      ...startOptions(w, spec),
      workflowIdConflictPolicy: 'FAIL',
    });
    return;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  try {
    await w.client.workflow.getHandle(spec.options.workflowId).signal(createdSignal);
  } catch (err) {
    // A finished run is left alone: its ticket is closed.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/** A recurrence (which may beat the creator to starting the ticket's workflow). */
export function ticketRecurred(w: Workflows, ticket: TicketFacts, recurrence: Recurrence): Promise<void> {
  const spec = ticketStart(ticket);
  return unlessEnded(
    w.client.workflow.signalWithStart(spec.workflowType, {
      ...startOptions(w, spec),
      signal: recurrenceSignal,
      signalArgs: [recurrence],
    }),
  );
}

/** The ticket could not be created: its workflow (if any) ends. */
export async function ticketAbandoned(w: Workflows, ticketId: string): Promise<void> {
  try {
    await w.client.workflow.getHandle(ticketWorkflowId(ticketId)).signal(abandonedSignal);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/**
 * A comment for the ITSM. The ticket's workflow may not be running yet (its creator starts it just
 * after the ticket appears): signal-with-start, with the same start as every other path.
 */
export function commentOnTicket(w: Workflows, ticket: TicketFacts, comment: TicketComment): Promise<void> {
  const spec = ticketStart(ticket);
  return unlessEnded(
    w.client.workflow.signalWithStart(spec.workflowType, {
      ...startOptions(w, spec),
      signal: commentSignal,
      signalArgs: [comment],
    }),
  );
}

/**
 * A status change as the ticket workflow's Update (its validator refuses forbidden transitions).
 * An active ticket's workflow may not be running yet (its creator starts it just after the ticket
 * appears): update-with-start makes sure it is, with the same start as every other path. A closed
 * ticket's workflow has ended and is only asked, never revived.
 */
export function changeTicketStatus(
  w: Workflows,
  ticket: TicketFacts,
  change: StatusChange,
): Promise<StatusChangeResult> {
  if (ticket.status === 'closed')
    return w.client.workflow.getHandle(ticketWorkflowId(ticket.id)).executeUpdate(setStatusUpdate, {
      args: [change],
    });
  const spec = ticketStart(ticket);
  return w.client.workflow.executeUpdateWithStart(setStatusUpdate, {
    args: [change],
    startWorkflowOperation: new WithStartWorkflowOperation(spec.workflowType, {
      ...startOptions(w, spec),
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}
