import type { Db } from '../client.js';
import { auditEntries } from '../schema.js';

export interface AuditInput {
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  details?: Record<string, unknown>;
}

/** Append-only: there is no update or delete for audit entries anywhere in the code. */
export async function audit(db: Pick<Db, 'insert'>, entry: AuditInput): Promise<void> {
  await db.insert(auditEntries).values(entry);
}
