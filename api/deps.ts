import type { PayloadCodec } from '@temporalio/common';
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
  /** ESCALATE_PAYLOAD_KEY's codec, served on /v1/temporal-codec (absent: encryption is off). */
  payloadCodec?: PayloadCodec;
  /** ESCALATE_TEMPORAL_UI_ORIGINS: Web UI origins allowed to call the codec endpoint (CORS). */
  temporalUiOrigins?: string[];
  /** ESCALATE_TEMPORAL_UI_URL: the Temporal Web UI, which the console links each run to. */
  temporalUiUrl?: string;
}
