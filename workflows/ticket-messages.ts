import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { TicketStatus, TransitionSource } from '../domain/ticket-status.js';

export interface StatusChange {
  status: TicketStatus;
  source: TransitionSource;
  /** API key label, `itsm:<connector>`, `system`. */
  actor: string;
  note?: string;
}

export interface StatusChangeResult {
  status: TicketStatus;
  changed: boolean;
}

export interface Recurrence {
  eventId: string;
  /** The ticket was resolved less than `reopen_within` ago: reopen it. */
  reopen: boolean;
}

export interface TicketTransitionRecord {
  from: TicketStatus;
  to: TicketStatus;
  source: TransitionSource;
  at: string;
}

export interface TicketSyncState {
  ticketId: string;
  status: TicketStatus;
  created: boolean;
  recurrenceCount: number;
  slaBreached: boolean;
  /** Epoch ms of the next deadlines, if armed. */
  autoResolveAt?: number;
  slaDueAt?: number;
  autoCloseAt?: number;
  /** The most recent transitions (the full history is in PostgreSQL). */
  transitions: TicketTransitionRecord[];
}

/** Status changes (ITSM webhook, API): the validator refuses transitions the table forbids. */
export const setStatusUpdate = defineUpdate<StatusChangeResult, [StatusChange]>('setStatus');
export const recurrenceSignal = defineSignal<[Recurrence]>('recurrence');
export const commentSignal = defineSignal<[{ text: string; actor: string }]>('comment');
/** The remote ticket exists (sent by the violation that created it). */
export const createdSignal = defineSignal('created');
/** Creation failed for good: the claim is released and the workflow ends. */
export const abandonedSignal = defineSignal('abandoned');
export const stateQuery = defineQuery<TicketSyncState>('state');
