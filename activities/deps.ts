import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import type { Settings } from '../domain/settings.js';
import type { SecretBox } from '../infra/secret-box.js';
import type { Workflows } from '../infra/workflow-client.js';

export interface ActivityDeps {
  db: Db;
  /** For starting and signalling ticket workflows from activities (signal-with-start). */
  workflows: Workflows;
  box: SecretBox;
  settings: Settings;
  logger: Logger;
}
