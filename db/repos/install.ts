import { sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { installSettings } from '../schema.js';

export interface InstallDefaults {
  /** `/v1/webhooks/itsm` refuses a request without X-Escalate-Timestamp. */
  itsm_webhook_require_timestamp: boolean;
}

/**
 * Records the install defaults the first time a version that knows them starts. A new install is
 * a database with no connector, violation or ticket at that moment: it gets the strict defaults;
 * a database already in use keeps the behaviour it had. Decided once: later starts change nothing.
 */
export async function ensureInstallDefaults(db: Db): Promise<void> {
  await db.execute(sql`
    insert into ${installSettings} (key, value)
    select 'itsm_webhook_require_timestamp',
           to_jsonb(not exists (select 1 from connectors) and not exists (select 1 from violations)
                    and not exists (select 1 from tickets))
    on conflict (key) do nothing`);
}

/** The recorded defaults (a key never recorded reads as the lenient, pre-existing behaviour). */
export async function installDefaults(db: Db): Promise<InstallDefaults> {
  const rows = await db.select().from(installSettings);
  const value = (key: keyof InstallDefaults) => rows.find((r) => r.key === key)?.value;
  return { itsm_webhook_require_timestamp: value('itsm_webhook_require_timestamp') === true };
}
