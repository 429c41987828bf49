import type { ViolationEvent } from '../domain/event.js';
import type { Severity } from '../domain/severity.js';
import { defaultTitle, eventFacts, type TicketDraft } from '../domain/ticket.js';

/** The neutral ticket content for a stored violation; connectors render it per platform. */
export function buildTicketDraft(args: {
  payload: Record<string, unknown>;
  severity: Severity;
  priority: Severity;
  idempotencyKey: string;
  labels?: string[];
}): TicketDraft {
  const event = args.payload as ViolationEvent;
  return {
    eventId: event.event_id,
    idempotencyKey: args.idempotencyKey,
    title: defaultTitle(event),
    severity: args.severity,
    priority: args.priority,
    facts: eventFacts(event, args.severity),
    payload: args.payload,
    labels: args.labels ?? [],
    customFields: {},
  };
}
