import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import type { Settings } from '../domain/settings.js';
import type { SecretBox } from '../infra/secret-box.js';

export interface ActivityDeps {
  db: Db;
  box: SecretBox;
  settings: Settings;
  logger: Logger;
}
