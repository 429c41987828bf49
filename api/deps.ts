import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ApiKey } from '../config.js';
import type { Database } from '../db/client.js';
import type { Settings } from '../domain/settings.js';
import type { SecretBox } from '../infra/secret-box.js';

export interface ApiDeps {
  database: Database;
  temporal: Client;
  taskQueue: string;
  box: SecretBox;
  settings: Settings;
  apiKeys: ApiKey[];
  /** ESCALATE_WEBHOOK_SECRET: signs the generic ITSM webhook. */
  webhookSecret?: string;
  logger: Logger;
  /** ESCALATE_TEMPORAL_UI_URL: the Temporal Web UI, which the console links each run to. */
  temporalUiUrl?: string;
}
