import { and, asc, eq, isNull, lt, sql } from 'drizzle-orm';
import { type CompactEvent, compactEvent, type ViolationEvent } from '../../domain/event.js';
import { overallStatus, type TargetOutcome, type ViolationStatus } from '../../domain/plan.js';
import type { Severity } from '../../domain/severity.js';
import type { Db } from '../client.js';
import { connectors, deliveries, violations } from '../schema.js';

export type ViolationRow = typeof violations.$inferSelect;
export type NewViolation = typeof violations.$inferInsert;

/** Inserts unless the event_id exists; returns the stored row and whether it is new. */
export async function insertViolation(
  db: Db,
  row: NewViolation,
): Promise<{ row: ViolationRow; inserted: boolean }> {
  const [inserted] = await db
    .insert(violations)
    .values(row)
    .onConflictDoNothing({ target: violations.eventId })
    .returning();
  if (inserted) return { row: inserted, inserted: true };
  const existing = await getViolation(db, row.eventId);
  if (!existing) throw new Error(`violation ${row.eventId} vanished during insert`);
  return { row: existing, inserted: false };
}

export async function getViolation(db: Db, eventId: string): Promise<ViolationRow | undefined> {
  const [row] = await db.select().from(violations).where(eq(violations.eventId, eventId));
  return row;
}

/**
 * A delivery attempt's two reads in one round trip: its connector's row and its violation (null
 * when not stored); undefined when the connector does not exist.
 */
export async function getConnectorAndViolation(
  db: Db,
  connectorId: string,
  eventId: string,
): Promise<{ connector: typeof connectors.$inferSelect; violation: ViolationRow | null } | undefined> {
  const [row] = await db
    .select({ connector: connectors, violation: violations })
    .from(connectors)
    .leftJoin(violations, eq(violations.eventId, eventId))
    .where(eq(connectors.id, connectorId));
  return row;
}

/** The start was acknowledged (a start refused earlier and since accepted is processing again). */
export async function markViolationStarted(db: Db, eventId: string): Promise<void> {
  await db
    .update(violations)
    .set({
      startedAt: new Date(),
      startError: null,
      status: sql`case when ${violations.startError} is null then ${violations.status} else 'processing' end`,
    })
    .where(eq(violations.eventId, eventId));
}

/** Temporal refused the start as invalid: the violation failed, and the sweep leaves it alone. */
export async function markViolationStartRefused(db: Db, eventId: string, reason: string): Promise<void> {
  const now = new Date();
  await db
    .update(violations)
    .set({ startError: reason.slice(0, 2000), status: 'failed', completedAt: now, updatedAt: now })
    .where(and(eq(violations.eventId, eventId), isNull(violations.startedAt)));
}

/** Stored violations whose start was never acknowledged (and not refused), oldest first. */
export const pendingStarts = (db: Db, receivedBefore: Date, limit: number) =>
  db
    .select()
    .from(violations)
    .where(
      and(
        isNull(violations.startedAt),
        isNull(violations.startError),
        lt(violations.receivedAt, receivedBefore),
      ),
    )
    .orderBy(asc(violations.receivedAt), asc(violations.eventId))
    .limit(limit);

/** The compact event a workflow carries, rebuilt from the stored row (severity as derived at accept). */
export function storedCompactEvent(
  row: Pick<ViolationRow, 'payload' | 'occurredAt' | 'severity'>,
): CompactEvent {
  const event = row.payload as ViolationEvent;
  return {
    ...compactEvent(event, event.occurred_at ?? row.occurredAt.toISOString()),
    severity: row.severity as Severity,
  };
}

export async function completeViolation(db: Db, eventId: string, status: ViolationStatus): Promise<void> {
  const now = new Date();
  await db
    .update(violations)
    .set({ status, completedAt: now, updatedAt: now })
    .where(eq(violations.eventId, eventId));
}

/** After a manual push or replay: the overall status again, from the deliveries as they stand. */
export async function refreshViolationStatus(db: Db, eventId: string): Promise<void> {
  const rows = await db.select().from(deliveries).where(eq(deliveries.eventId, eventId));
  if (rows.some((d) => d.status === 'pending')) return;
  const status = overallStatus(
    rows.map((d) => ({
      deliveryId: d.id,
      connectorId: d.connectorId,
      purpose: d.purpose as TargetOutcome['purpose'],
      ok: d.status === 'delivered',
    })),
  );
  await db.update(violations).set({ status, updatedAt: new Date() }).where(eq(violations.eventId, eventId));
}
