/**
 * The Temporal contract (workflows/contract.ts): the workflow IDs other systems search by, the
 * start specs' workflow types against the functions the worker registers, and the starts' policies.
 */
import { describe, expect, it } from 'vitest';
import { compactEvent, type ViolationEvent } from '../../domain/event.js';
import {
  connectorActionStart,
  deliveryStart,
  firstWakeDelayMs,
  idsFromWorkflowId,
  replayStart,
  type TicketSyncInit,
  ticketStart,
  ticketWorkflowId,
  violationStart,
  violationWorkflowId,
} from '../../workflows/contract.js';
import * as workflows from '../../workflows/index.js';
import { makeEvent } from '../helpers/events.js';

const raw = makeEvent({ severity: 'high', user_email: 'alice@example.com' }) as unknown as ViolationEvent;
const event = compactEvent(raw, raw.occurred_at!);
const ticket = {
  id: 't-1',
  eventId: event.event_id,
  kind: 'jira',
  severity: 'high',
  priority: 'critical',
  status: 'open',
  externalId: 'SEC-7',
};
const starts = [
  violationStart(event, 'key…abcd'),
  ticketStart(ticket),
  deliveryStart({ deliveryId: 'd-1', requestedBy: 'key…abcd', reason: 'replay' }, 'replay delivery d-1'),
  replayStart({ replayId: 'r-1', requestedBy: 'key…abcd' }, 3),
  connectorActionStart({ connectorId: 'jira-sec', action: 'test', requestedBy: 'key…abcd' }, 'req-1'),
];

describe('workflow IDs', () => {
  it('have the fixed formats', () => {
    expect(violationWorkflowId('e-1')).toBe('violation-e-1');
    expect(ticketWorkflowId('t-1')).toBe('ticket-t-1');
    expect(starts.map((s) => s.options.workflowId)).toEqual([
      `violation-${event.event_id}`,
      'ticket-t-1',
      'delivery-d-1',
      'replay-r-1',
      'connector-test-jira-sec-req-1',
    ]);
  });

  it('give back the ids they carry, for logs', () => {
    expect(starts.map((s) => idsFromWorkflowId(s.options.workflowId))).toEqual([
      { event_id: event.event_id },
      { ticket_id: 't-1' },
      { delivery_id: 'd-1' },
      { replay_id: 'r-1' },
      {},
    ]);
  });
});

describe('start specs', () => {
  it('name workflow functions the worker registers', () => {
    for (const s of starts)
      expect(typeof (workflows as Record<string, unknown>)[s.workflowType], s.workflowType).toBe('function');
  });

  it('never start a violation or a ticket twice', () => {
    for (const s of [starts[0]!, starts[1]!]) {
      expect(s.options.workflowIdReusePolicy).toBe('REJECT_DUPLICATE');
      expect(s.options.workflowIdConflictPolicy).toBe('USE_EXISTING');
    }
  });

  it('join a delivery run in progress, and allow another one later', () => {
    expect(starts[2]!.options.workflowIdReusePolicy).toBe('ALLOW_DUPLICATE');
    expect(starts[2]!.options.workflowIdConflictPolicy).toBe('USE_EXISTING');
  });

  it('carry the search attributes and summaries the Web UI shows', () => {
    const attributes = (i: number) =>
      starts[i]!.options.typedSearchAttributes?.map((a) => [a.key.name, a.value]);
    expect(attributes(0)).toEqual([
      ['EscalateEventType', event.event_type],
      ['EscalateSeverity', 'high'],
    ]);
    expect(starts[0]!.options.staticSummary).toBe(
      `high ${event.event_type} — ${event.summary} — alice@example.com`,
    );
    // The remote key too: the run then upserts nothing of its own.
    expect(attributes(1)).toEqual([
      ['EscalateSeverity', 'high'],
      ['EscalateTicketStatus', 'open'],
      ['EscalateTicketKeys', ['SEC-7']],
    ]);
    expect(starts[1]!.options.staticSummary).toBe(`critical jira ticket SEC-7 for ${event.event_id}`);
  });
});

describe('a ticket run started by its creator', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  const init: TicketSyncInit = {
    status: 'open',
    created: true,
    externalId: 'SEC-7',
    connectorId: 'jira-1',
    connectorName: 'Jira',
    kind: 'jira',
    priority: 'critical',
    recurrenceCount: 0,
    slaBreached: false,
    slaDueAt: now + 4 * 3600_000,
    lastActivityAt: now,
    retry: { maximumAttempts: 5, initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 60_000 },
    timeoutMs: 30_000,
  };

  it('sleeps until its earliest deadline', () => {
    expect(firstWakeDelayMs(init, now)).toBe(4 * 3600_000);
    expect(firstWakeDelayMs({ ...init, autoResolveAfterMs: 3600_000 }, now)).toBe(3600_000);
    expect(firstWakeDelayMs({ ...init, slaBreached: true, autoResolveAfterMs: 7200_000 }, now)).toBe(
      7200_000,
    );
    expect(firstWakeDelayMs({ ...init, slaDueAt: now - 1000 }, now)).toBe(0);
  });

  it('starts at once when it has nothing to wait for or is not created yet', () => {
    expect(firstWakeDelayMs({ ...init, slaDueAt: undefined }, now)).toBe(0);
    expect(firstWakeDelayMs({ ...init, created: false }, now)).toBe(0);
    expect(firstWakeDelayMs({ ...init, status: 'resolved' }, now)).toBe(0);
  });

  it('carries the ticket as recorded and its start delay; other starters load it', () => {
    const spec = ticketStart(ticket, { ...init, slaDueAt: Date.now() + 3600_000 });
    expect(spec.options.args[0]).toMatchObject({
      ticketId: 't-1',
      carried: { init: { externalId: 'SEC-7' }, state: { status: 'open', created: true } },
    });
    expect(spec.options.startDelay).toBeGreaterThan(3500_000);
    expect(spec.options.startDelay).toBeLessThanOrEqual(3600_000);
    const plain = ticketStart(ticket);
    expect(plain.options.args[0]).toEqual({ ticketId: 't-1' });
    expect(plain.options.startDelay).toBeUndefined();
  });
});
