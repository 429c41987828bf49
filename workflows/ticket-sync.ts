import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { formatDuration } from '../domain/duration.js';
import { EscalateTicketKeys, EscalateTicketStatus } from '../domain/search-attributes.js';
import { checkTransition, type TicketStatus } from '../domain/ticket-status.js';
import {
  abandonedSignal,
  commentSignal,
  createdSignal,
  type Recurrence,
  recurrenceSignal,
  type StatusChange,
  type StatusChangeResult,
  setStatusUpdate,
  stateQuery,
  type TicketComment,
  type TicketSyncInit,
  type TicketSyncInput,
  type TicketSyncState,
} from './contract.js';
import { backgroundTeller, NOTIFY_PATCH } from './notify.js';
import { bookkeepingActivities, failureMessage } from './targets.js';

/** The ticket's remote key set by the starter, not upserted by the run. */
export const TICKET_KEY_AT_START_PATCH = 'ticket-key-at-start';

/** The close pushed to the ITSM after the Update that closed the ticket has finished. */
export const FINAL_PUSH_PATCH = 'final-push-after-handlers';

const KEEP_TRANSITIONS = 20;
/** The recurrence window of runs whose loaded ticket predates the setting. */
const DEFAULT_RECURRENCE_WINDOW_MS = 15 * 60_000;

/**
 * One long-lived run per ticket (ID `ticket-{ticket_id}`): follows it from open to closed.
 * Status changes arrive as an Update (validated against the transition table); ours are pushed
 * to the ITSM, the ITSM's are not echoed back. Timers: auto-resolve without recurrence, SLA
 * escalation while open, optional auto-close. History stays bounded by continue-as-new.
 * Status changes and SLA breaches are told to the ticket's listeners (Slack, Teams) in the
 * background; recurrences are counted and told at most once per window, as one summary.
 *
 * Deadlines are absolute epoch times (the SLA due time comes from the ticket row), so they are
 * compared with `Date.now()`: inside the workflow sandbox that is the workflow task's time,
 * replayed identically. The waits themselves are durable timers (`condition` with a timeout).
 */
export async function ticketSyncWorkflow(
  input: TicketSyncInput,
): Promise<{ status: TicketStatus | 'missing' | 'abandoned' }> {
  const { ticketId } = input;
  const bk = bookkeepingActivities();
  // Handlers are registered before the first await: an Update-with-start or a signal-with-start
  // must find them in the very first activation.
  let init: TicketSyncInit | null | undefined = input.carried?.init;
  const state: TicketSyncState = input.carried?.state ?? {
    ticketId,
    status: 'open',
    created: false,
    recurrenceCount: 0,
    slaBreached: false,
    transitions: [],
  };
  let loaded = init !== undefined;
  let createdSignalled = false;
  let lastActivityAt = init?.lastActivityAt ?? 0;
  let resolvedAt = init?.resolvedAt;
  let abandoned = false;
  const recurrences: Recurrence[] = [];
  const comments: TicketComment[] = [];
  const pushes: { to: TicketStatus; note?: string }[] = [];
  const teller = backgroundTeller(bk);

  // One state change at a time: Update handlers and timers share this chain.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };

  const itsm = (summary: string) =>
    proxyActivities<Activities>({
      startToCloseTimeout: init!.timeoutMs + 15_000,
      summary,
      retry: {
        maximumAttempts: init!.retry.maximumAttempts,
        initialInterval: init!.retry.initialIntervalMs,
        backoffCoefficient: init!.retry.backoffCoefficient,
        maximumInterval: init!.retry.maximumIntervalMs,
      },
    });
  const where = () => `${init!.kind === 'jira' ? 'Jira' : 'ServiceNow'} ${init!.externalId ?? ticketId}`;

  async function applyChange(change: StatusChange): Promise<StatusChangeResult> {
    const check = checkTransition(state.status, change.status);
    if (check.kind === 'noop') return { status: state.status, changed: false };
    if (check.kind === 'refused') throw ApplicationFailure.nonRetryable(check.reason, 'InvalidTransition');
    const from = state.status;
    state.status = change.status;
    const now = Date.now();
    if (change.status === 'resolved') resolvedAt = now;
    if (change.status === 'open' || change.status === 'in_progress') {
      resolvedAt = undefined;
      if (from === 'resolved') lastActivityAt = now; // reopened: the windows start again
    }
    state.transitions = [
      ...state.transitions,
      { from, to: change.status, source: change.source, at: new Date(now).toISOString() },
    ].slice(-KEEP_TRANSITIONS);
    await bk(`record ${from} → ${change.status}`).recordTransition({
      ticketId,
      from,
      to: change.status,
      source: change.source,
      actor: change.actor,
      note: change.note,
    });
    upsertSearchAttributes([{ key: EscalateTicketStatus, value: change.status }]);
    // A change that came from the ITSM is already there: never echo it back.
    if (change.source !== 'itsm') pushes.push({ to: change.status, note: change.note });
    teller.tell({
      type: 'status_changed',
      ticketId,
      from,
      to: change.status,
      source: change.source,
      at: now,
    });
    return { status: state.status, changed: true };
  }

  setHandler(createdSignal, () => {
    createdSignalled = true;
    state.created = true;
  });
  setHandler(abandonedSignal, () => {
    abandoned = true;
  });
  setHandler(recurrenceSignal, (r) => {
    recurrences.push(r);
  });
  setHandler(commentSignal, (c) => {
    comments.push(c);
  });
  setHandler(stateQuery, () => state);
  setHandler(
    setStatusUpdate,
    async (change) => {
      await condition(() => loaded && (state.created || abandoned));
      if (abandoned)
        throw ApplicationFailure.nonRetryable(
          'the ticket could not be created in the ITSM',
          'TicketAbandoned',
        );
      return serial(() => applyChange(change));
    },
    {
      validator: (change) => {
        if (!loaded) return; // checked by the handler once the ticket is loaded
        if (!state.created) throw new Error('the ticket is still being created in the ITSM');
        const check = checkTransition(state.status, change.status);
        if (check.kind === 'refused') throw new Error(check.reason);
      },
    },
  );

  if (!init) {
    init = await bk('load the ticket').loadTicketForSync({ ticketId });
    if (!init) {
      loaded = true;
      abandoned = true;
      await condition(allHandlersFinished);
      return { status: 'missing' };
    }
    Object.assign(state, {
      status: init.status,
      created: init.created || createdSignalled,
      recurrenceCount: init.recurrenceCount,
      slaBreached: init.slaBreached,
    });
    lastActivityAt = init.lastActivityAt;
    resolvedAt = init.resolvedAt;
    loaded = true;
  }

  if (!state.created) {
    setCurrentDetails('waiting for the ticket to be created in the ITSM');
    await condition(() => state.created || abandoned);
    if (abandoned) {
      await condition(allHandlersFinished);
      return { status: 'abandoned' };
    }
    init = (await bk('load the created ticket').loadTicketForSync({ ticketId })) ?? init;
    lastActivityAt = init.lastActivityAt;
  }
  // Set at the start already when the starter knew the key (runs started before that upserted it).
  const keyAtStart = () =>
    workflowInfo().typedSearchAttributes.get(EscalateTicketKeys)?.includes(init!.externalId!) ?? false;
  if (init.externalId && !(patched(TICKET_KEY_AT_START_PATCH) && keyAtStart()))
    upsertSearchAttributes([{ key: EscalateTicketKeys, value: [init.externalId] }]);

  async function safely(what: string, fn: () => Promise<unknown>) {
    try {
      await fn();
    } catch (err) {
      await bk(`record the failed ${what}`).recordSyncError({ ticketId, what, error: failureMessage(err) });
    }
  }

  const deadlines = () => {
    const d: { at: number; what: string }[] = [];
    const active = state.status === 'open' || state.status === 'in_progress';
    if (active && init!.autoResolveAfterMs)
      d.push({ at: lastActivityAt + init!.autoResolveAfterMs, what: 'auto-resolve' });
    if (state.status === 'open' && !state.slaBreached && init!.slaDueAt)
      d.push({ at: init!.slaDueAt, what: 'SLA deadline' });
    if (state.status === 'resolved' && init!.autoCloseAfterMs && resolvedAt)
      d.push({ at: resolvedAt + init!.autoCloseAfterMs, what: 'auto-close' });
    if (state.recurrenceWindowStart !== undefined)
      d.push({
        at: state.recurrenceWindowStart + (init!.recurrenceWindowMs ?? DEFAULT_RECURRENCE_WINDOW_MS),
        what: 'recurrence summary',
      });
    state.autoResolveAt = d.find((x) => x.what === 'auto-resolve')?.at;
    state.slaDueAt = d.find((x) => x.what === 'SLA deadline')?.at;
    state.autoCloseAt = d.find((x) => x.what === 'auto-close')?.at;
    state.recurrenceSummaryAt = d.find((x) => x.what === 'recurrence summary')?.at;
    return d.sort((a, b) => a.at - b.at);
  };

  const hasWork = () => recurrences.length > 0 || comments.length > 0 || pushes.length > 0;

  /** The recurrences counted since the window opened, told as one summary. */
  const tellRecurrences = () => {
    if (state.recurrenceWindowStart !== undefined && state.untoldRecurrences)
      teller.tell({
        type: 'recurrence',
        ticketId,
        count: state.untoldRecurrences,
        since: state.recurrenceWindowStart,
      });
    state.untoldRecurrences = undefined;
    state.recurrenceWindowStart = undefined;
  };

  while (state.status !== 'closed') {
    const next = deadlines()[0];
    const statusBefore = state.status;
    setCurrentDetails(
      `${state.status}; ${next ? `next: ${next.what} at ${new Date(next.at).toISOString()}` : 'no timer armed'}`,
    );
    if (next) {
      const wait = Math.max(0, next.at - Date.now());
      await condition(() => hasWork() || state.status !== statusBefore, wait, {
        summary: `${next.what} in ${formatDuration(wait)}`,
      });
    } else {
      await condition(() => hasWork() || state.status !== statusBefore);
    }

    while (recurrences.length) {
      const r = recurrences.shift()!;
      state.recurrenceCount += 1;
      lastActivityAt = Date.now();
      if (patched(NOTIFY_PATCH)) {
        state.untoldRecurrences = (state.untoldRecurrences ?? 0) + 1;
        state.recurrenceWindowStart ??= lastActivityAt;
      }
      await safely('recurrence comment', () =>
        itsm(`comment recurrence on ${where()}`).postComment({
          ticketId,
          text: `recurred: violation ${r.eventId} (occurrence ${state.recurrenceCount + 1})`,
          actor: 'system',
        }),
      );
      if (r.reopen && state.status === 'resolved') {
        await serial(() =>
          applyChange({
            status: 'open',
            source: 'recurrence',
            actor: 'system',
            note: `reopened by recurrence ${r.eventId}`,
          }),
        );
      }
    }
    while (comments.length) {
      const c = comments.shift()!;
      await safely('comment', () =>
        itsm(`comment on ${where()}`).postComment({ ticketId, text: c.text, actor: c.actor }),
      );
    }
    while (pushes.length) {
      const p = pushes.shift()!;
      await safely(`push ${p.to}`, () =>
        itsm(`set ${where()} to ${p.to}`).pushStatus({ ticketId, to: p.to, note: p.note }),
      );
    }

    const now = Date.now();
    for (const due of deadlines().filter((d) => d.at <= now)) {
      if (due.what === 'auto-resolve') {
        const window = formatDuration(init.autoResolveAfterMs!);
        await serial(() =>
          applyChange({
            status: 'resolved',
            source: 'auto-resolve',
            actor: 'system',
            note: `auto-resolved: no recurrence for ${window}`,
          }),
        );
        await safely('auto-resolve comment', () =>
          itsm(`comment auto-resolve on ${where()}`).postComment({
            ticketId,
            text: `auto-resolved by escalate: no recurrence for ${window}`,
            actor: 'system',
          }),
        );
      } else if (due.what === 'SLA deadline' && state.status === 'open' && !state.slaBreached) {
        state.slaBreached = true;
        const { priority, previous } = await bk('record the SLA breach, raise the priority').recordEscalation(
          { ticketId },
        );
        await safely('raise priority', () =>
          itsm(`raise priority of ${where()} to ${priority}`).pushPriority({ ticketId, priority }),
        );
        await safely('escalation comment', () =>
          itsm(`comment SLA breach on ${where()}`).postComment({
            ticketId,
            text: `SLA breached: still open at its deadline; priority raised from ${previous} to ${priority}`,
            actor: 'system',
          }),
        );
        teller.tell({ type: 'sla_breached', ticketId, previous, priority });
      } else if (due.what === 'recurrence summary') {
        tellRecurrences();
      } else if (due.what === 'auto-close' && state.status === 'resolved') {
        await serial(() =>
          applyChange({
            status: 'closed',
            source: 'auto-close',
            actor: 'system',
            note: 'auto-closed after the resolved period',
          }),
        );
      }
    }

    if (workflowInfo().continueAsNewSuggested) {
      await teller.settled();
      await condition(allHandlersFinished);
      // A handler that ran meanwhile may have queued work or a notice: next turn, then.
      if (!hasWork() && teller.idle()) {
        await continueAsNew<typeof ticketSyncWorkflow>({
          ticketId,
          carried: { init: { ...init, lastActivityAt, resolvedAt }, state },
        });
      }
    }
  }
  // Pushes queued by the final transition (e.g. closed from the API) still go out. An Update that
  // closes the ticket queues its push after its bookkeeping, when this loop may already have ended:
  // wait for the handlers first (histories recorded before the patch completed without waiting).
  if (patched(FINAL_PUSH_PATCH)) await condition(allHandlersFinished);
  while (pushes.length) {
    const p = pushes.shift()!;
    await safely(`push ${p.to}`, () =>
      itsm(`set ${where()} to ${p.to}`).pushStatus({ ticketId, to: p.to, note: p.note }),
    );
  }
  // Recurrences counted in an open window are told now: no later window will.
  tellRecurrences();
  await teller.settled();
  await condition(allHandlersFinished);
  await teller.settled();
  setCurrentDetails('closed');
  return { status: state.status };
}
