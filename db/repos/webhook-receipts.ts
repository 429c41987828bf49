import { and, eq, lt } from 'drizzle-orm';
import type { Db } from '../client.js';
import { webhookReceipts } from '../schema.js';

/**
 * Records that a webhook delivery (Jira's X-Atlassian-Webhook-Identifier, a generic webhook's
 * signature) is being processed. Atomic: of concurrent callers with one identifier, exactly one
 * gets true.
 */
export async function claimReceipt(db: Db, source: string, identifier: string): Promise<boolean> {
  const [row] = await db
    .insert(webhookReceipts)
    .values({ source, identifier })
    .onConflictDoNothing()
    .returning({ identifier: webhookReceipts.identifier });
  return row !== undefined;
}

/** Processing failed on our side: the sender's retry must be processed, not dropped. */
export async function releaseReceipt(db: Db, source: string, identifier: string): Promise<void> {
  await db
    .delete(webhookReceipts)
    .where(and(eq(webhookReceipts.source, source), eq(webhookReceipts.identifier, identifier)));
}

/** Forgets receipts of `source` older than `before` (they can no longer be replayed). */
export async function purgeReceipts(db: Db, source: string, before: Date): Promise<void> {
  await db
    .delete(webhookReceipts)
    .where(and(eq(webhookReceipts.source, source), lt(webhookReceipts.at, before)));
}
