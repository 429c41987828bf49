import { describe, expect, it } from 'vitest';
import { SEVERITIES } from '../../domain/severity.js';
import {
  allowedTransitions,
  checkTransition,
  DEFAULT_SLA_MS,
  isActive,
  isTicketStatus,
  TICKET_STATUSES,
  TICKET_TRANSITIONS,
  type TicketStatus,
  TRANSITION_SOURCES,
} from '../../domain/ticket-status.js';

type Outcome = 'noop' | 'ok' | 'refused';

/** Every (from, to) pair, spelled out: the lifecycle contract. */
const TABLE: [TicketStatus, TicketStatus, Outcome][] = [
  ['open', 'open', 'noop'],
  ['open', 'in_progress', 'ok'],
  ['open', 'resolved', 'ok'],
  ['open', 'closed', 'ok'],
  ['in_progress', 'open', 'ok'],
  ['in_progress', 'in_progress', 'noop'],
  ['in_progress', 'resolved', 'ok'],
  ['in_progress', 'closed', 'refused'],
  ['resolved', 'open', 'ok'],
  ['resolved', 'in_progress', 'ok'],
  ['resolved', 'resolved', 'noop'],
  ['resolved', 'closed', 'ok'],
  ['closed', 'open', 'refused'],
  ['closed', 'in_progress', 'refused'],
  ['closed', 'resolved', 'refused'],
  ['closed', 'closed', 'noop'],
];

describe('ticket status transition table', () => {
  it('covers all 16 pairs exactly once', () => {
    expect(TABLE).toHaveLength(TICKET_STATUSES.length ** 2);
    const pairs = new Set(TABLE.map(([from, to]) => `${from}->${to}`));
    expect(pairs.size).toBe(16);
    for (const from of TICKET_STATUSES)
      for (const to of TICKET_STATUSES) expect(pairs.has(`${from}->${to}`)).toBe(true);
  });

  it.each(TABLE)('%s → %s is %s', (from, to, outcome) => {
    const result = checkTransition(from, to);
    expect(result.kind).toBe(outcome);
    if (result.kind === 'refused') {
      expect(result.reason).toContain(from);
      expect(result.reason).toContain(to);
      // The reason says what is allowed from `from` instead.
      for (const allowed of TICKET_TRANSITIONS[from]) expect(result.reason).toContain(allowed);
      if (from === 'closed') expect(result.reason).toMatch(/terminal/);
    } else {
      expect(result).toEqual({ kind: outcome });
    }
  });

  it('the table agrees with allowedTransitions', () => {
    for (const from of TICKET_STATUSES) {
      const expected = TABLE.filter(([f, , o]) => f === from && o === 'ok').map(([, to]) => to);
      expect([...allowedTransitions(from)].sort()).toEqual(expected.sort());
    }
  });

  it('keeps the main path and reopen', () => {
    const path: TicketStatus[] = ['open', 'in_progress', 'resolved', 'closed'];
    for (let i = 0; i + 1 < path.length; i++) expect(checkTransition(path[i]!, path[i + 1]!).kind).toBe('ok');
    expect(checkTransition('open', 'resolved').kind).toBe('ok');
    expect(checkTransition('resolved', 'open').kind).toBe('ok');
  });

  it('gives readable reasons', () => {
    expect(checkTransition('in_progress', 'closed')).toEqual({
      kind: 'refused',
      reason:
        'cannot move ticket from in_progress to closed: from in_progress a ticket can only move to open, resolved',
    });
    expect(checkTransition('closed', 'open')).toEqual({
      kind: 'refused',
      reason: 'cannot move ticket from closed to open: closed is terminal: no transitions are allowed',
    });
  });
});

describe('ticket status helpers', () => {
  it('isActive is false only for closed', () => {
    expect(TICKET_STATUSES.filter(isActive)).toEqual(['open', 'in_progress', 'resolved']);
  });

  it('isTicketStatus recognises the four statuses only', () => {
    for (const s of TICKET_STATUSES) expect(isTicketStatus(s)).toBe(true);
    for (const v of ['OPEN', 'done', '', undefined, 1, null]) expect(isTicketStatus(v)).toBe(false);
  });

  it('lists transition sources', () => {
    expect(TRANSITION_SOURCES).toEqual([
      'itsm',
      'api',
      'auto-resolve',
      'escalation',
      'recurrence',
      'auto-close',
    ]);
  });

  it('has default SLAs by priority (critical 1 h, high 4 h, medium 1 d, low 5 d)', () => {
    expect(DEFAULT_SLA_MS).toEqual({
      critical: 3_600_000,
      high: 4 * 3_600_000,
      medium: 86_400_000,
      low: 5 * 86_400_000,
    });
    expect(Object.keys(DEFAULT_SLA_MS).sort()).toEqual([...SEVERITIES].sort());
  });
});
