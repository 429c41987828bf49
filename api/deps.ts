import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import type { Settings } from '../domain/settings.js';
import type { SecretBox } from '../infra/secret-box.js';
import type { Workflows } from '../infra/workflow-client.js';
import type { ApiKey } from './api-keys.js';

export interface ApiDeps {
  database: Database;
  /** Starts, signals and updates escalate's workflows. */
  workflows: Workflows;
  box: SecretBox;
  settings: Settings;
  apiKeys: ApiKey[];
  /** ESCALATE_WEBHOOK_SECRET: signs the generic ITSM webhook. */
  webhookSecret?: string;
  logger: Logger;
  /** ESCALATE_TEMPORAL_UI_URL: the Temporal Web UI, which the console links each run to. */
  temporalUiUrl?: string;
}
