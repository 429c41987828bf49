import { type SQL, sql } from 'drizzle-orm';
import type { CompactEvent } from '../../domain/event.js';
import type { Decision, TicketSpec } from '../../domain/plan.js';
import type { Severity } from '../../domain/severity.js';
import type { Db } from '../client.js';
import { deliveries } from '../schema.js';
import type { DeliveryRow } from './deliveries.js';
import { rowOf } from './rows.js';

export interface PlannedDelivery {
  connectorId: string;
  kind: string;
  purpose: 'ticket' | 'event';
  ticketSpec?: TicketSpec;
  priority?: Severity;
}

const json = (value: unknown) => sql`${value === undefined ? null : JSON.stringify(value)}::jsonb`;

/**
 * What planning decided, in one statement: a pending delivery per target (opened once: a
 * retried plan finds its own, and the ticket first decided stays), the decisions on the
 * violation, and the audit entries of the acceptance and of the decision. Written by the
 * workflow, not the API, to keep the accept path to one insert and one workflow start.
 */
export async function recordPlan(
  db: Db,
  input: {
    event: CompactEvent;
    acceptedBy: string;
    decisions: Decision[];
    matchedRules: string[];
    deliveries: PlannedDelivery[];
  },
): Promise<DeliveryRow[]> {
  const { event } = input;
  const values: SQL[] = input.deliveries.map(
    (d) =>
      sql`(${event.event_id}::uuid, ${d.connectorId}, ${d.kind}, ${d.purpose}, ${json(d.ticketSpec)}, ${d.priority ?? null})`,
  );
  const opened = values.length
    ? sql`insert into deliveries (event_id, connector_id, kind, purpose, ticket_spec, priority)
        values ${sql.join(values, sql`, `)}
        on conflict (event_id, connector_id) where notice_key is null do update set
          ticket_spec = coalesce(deliveries.ticket_spec, excluded.ticket_spec),
          priority = coalesce(deliveries.priority, excluded.priority)
        returning *`
    : sql`select * from deliveries where false`;
  const accepted = { event_type: event.event_type, severity: event.severity };
  const decided = { decisions: input.decisions, rules: input.matchedRules };
  const rows = await db.execute<Record<string, unknown>>(sql`
    with opened as (${opened}),
    decided as (
      update violations set decisions = ${json(input.decisions)}, updated_at = now()
      where event_id = ${event.event_id}
    ),
    audited as (
      insert into audit_entries (actor, action, subject_type, subject_id, details) values
        (${input.acceptedBy}, 'violation.accepted', 'violation', ${event.event_id}, ${json(accepted)}),
        ('system', 'violation.decided', 'violation', ${event.event_id}, ${json(decided)})
    )
    select * from opened`);
  const byConnector = new Map(rows.map((r) => [String(r.connector_id), rowOf(deliveries, r)]));
  return input.deliveries.map((d) => byConnector.get(d.connectorId)!);
}
