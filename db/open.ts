import type { ConfigFile } from '../infra/config-file.js';
import { applyConfigFile } from '../infra/config-file.js';
import type { SecretBox } from '../infra/secret-box.js';
import { connectDatabase, type Database } from './client.js';
import { runMigrations } from './migrate.js';
import { ensureInstallDefaults } from './repos/install.js';

/**
 * A process's database, ready for work: migrations applied (under their advisory lock, so API and
 * worker processes may start together), a pool, the install defaults recorded, and ESCALATE_CONFIG
 * applied.
 */
export async function openDatabase(url: string, box: SecretBox, configFile: ConfigFile): Promise<Database> {
  await runMigrations(url);
  const database = connectDatabase(url, { max: 20 });
  try {
    // Before the config file: a database it fills is still a new install.
    await ensureInstallDefaults(database.db);
    await applyConfigFile(database.db, box, configFile);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}
