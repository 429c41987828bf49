import { and, eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { webhookReceipts } from '../schema.js';

/** Whether a webhook delivery (by its sender's identifier) was already applied. */
export async function webhookSeen(db: Db, source: string, identifier: string): Promise<boolean> {
  const [seen] = await db
    .select()
    .from(webhookReceipts)
    .where(and(eq(webhookReceipts.source, source), eq(webhookReceipts.identifier, identifier)));
  return seen !== undefined;
}

export async function recordWebhookReceipt(db: Db, source: string, identifier: string): Promise<void> {
  await db.insert(webhookReceipts).values({ source, identifier }).onConflictDoNothing();
}
