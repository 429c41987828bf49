import type { Severity } from './severity.js';

/**
 * Ticket lifecycle: `open → in_progress → resolved → closed`, plus the moves ITSMs make
 * in practice. Pure (no Node APIs): TicketSyncWorkflow's Update validator uses it.
 *
 * The table:
 * - open → in_progress, resolved, closed (closed straight from open = canceled / dismissed before
 *   anyone worked on it, e.g. ServiceNow state 8 "Canceled" from New);
 * - in_progress → open (progress stopped, back to "To Do"), resolved;
 *   not closed: a ticket someone worked on gets a resolution first;
 * - resolved → open, in_progress (reopened, e.g. ServiceNow's caller rejecting the resolution moves
 *   the incident back to In Progress), closed;
 * - closed → nothing: closed is terminal (the workflow ends).
 */
export const TICKET_STATUSES = ['open', 'in_progress', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const isTicketStatus = (value: unknown): value is TicketStatus =>
  typeof value === 'string' && (TICKET_STATUSES as readonly string[]).includes(value);

/** Who asked for a status change (kept in the ticket's transition history). */
export const TRANSITION_SOURCES = [
  'itsm',
  'api',
  'auto-resolve',
  'escalation',
  'recurrence',
  'auto-close',
] as const;
export type TransitionSource = (typeof TRANSITION_SOURCES)[number];

/** Allowed targets from each status (same status is a no-op, not listed). */
export const TICKET_TRANSITIONS: Readonly<Record<TicketStatus, readonly TicketStatus[]>> = {
  open: ['in_progress', 'resolved', 'closed'],
  in_progress: ['open', 'resolved'],
  resolved: ['open', 'in_progress', 'closed'],
  closed: [],
};

export type TransitionCheck = { kind: 'noop' } | { kind: 'ok' } | { kind: 'refused'; reason: string };

export const allowedTransitions = (from: TicketStatus): readonly TicketStatus[] => TICKET_TRANSITIONS[from];

export function checkTransition(from: TicketStatus, to: TicketStatus): TransitionCheck {
  if (from === to) return { kind: 'noop' };
  const allowed = TICKET_TRANSITIONS[from];
  if (allowed.includes(to)) return { kind: 'ok' };
  const detail = allowed.length
    ? `from ${from} a ticket can only move to ${allowed.join(', ')}`
    : `${from} is terminal: no transitions are allowed`;
  return { kind: 'refused', reason: `cannot move ticket from ${from} to ${to}: ${detail}` };
}

/** Active tickets still have a workflow following them; closed is the end. */
export const isActive = (status: TicketStatus): boolean => status !== 'closed';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Time a ticket may stay `open` before SLA escalation, by priority (configurable per deployment). */
export const DEFAULT_SLA_MS: Readonly<Record<Severity, number>> = {
  critical: HOUR_MS,
  high: 4 * HOUR_MS,
  medium: DAY_MS,
  low: 5 * DAY_MS,
};
