import { eq } from 'drizzle-orm';
import { type CompactEvent, compactEvent, type ViolationEvent } from '../../domain/event.js';
import type { Severity } from '../../domain/severity.js';
import type { Db } from '../client.js';
import { violations } from '../schema.js';

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

export async function markViolationStarted(db: Db, eventId: string): Promise<void> {
  await db.update(violations).set({ startedAt: new Date() }).where(eq(violations.eventId, eventId));
}

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
