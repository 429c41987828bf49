import {
  connectTemporalClient,
  parseApiKeys,
  temporalConnectionFromEnv,
  temporalUiOriginsFromEnv,
} from '../config.js';
import { openDatabase } from '../db/open.js';
import { loadConfigFile } from '../infra/config-file.js';
import { createLogger } from '../infra/logger.js';
import { SecretBox } from '../infra/secret-box.js';
import { resolveSecretKey } from '../infra/secret-key.js';
import { tracingFromEnv } from '../infra/tracing.js';
import { serveApi } from './serve.js';

/** `npm run start:api`: a stateless API process against PostgreSQL and a Temporal cluster. */
async function main() {
  const logger = createLogger({ name: 'escalate-api' });
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl)
    throw new Error('DATABASE_URL is required (npm start runs an embedded PostgreSQL for you)');
  const apiKeys = parseApiKeys(process.env.ESCALATE_API_KEYS);
  if (!apiKeys.length)
    throw new Error('ESCALATE_API_KEYS is required: comma-separated `key` or `key:scope` (admin|ingest)');
  const conn = temporalConnectionFromEnv();
  const box = new SecretBox(resolveSecretKey());
  const configFile = loadConfigFile(process.env.ESCALATE_CONFIG);
  const database = await openDatabase(databaseUrl, box, configFile);
  const tracing = tracingFromEnv('escalate-api');
  const temporal = await connectTemporalClient(conn, { interceptors: tracing?.clientInterceptors });
  const port = Number(process.env.PORT ?? 8080);
  const api = serveApi(
    {
      database,
      temporal,
      taskQueue: conn.taskQueue,
      box,
      settings: configFile.settings,
      apiKeys,
      webhookSecret: process.env.ESCALATE_WEBHOOK_SECRET,
      logger,
      payloadCodec: conn.payloadCodec,
      temporalUiOrigins: temporalUiOriginsFromEnv(),
    },
    { port, hostname: process.env.HOST ?? '0.0.0.0' },
  );
  logger.info({ port }, 'API listening');
  const shutdown = () => {
    api.close();
    void temporal.connection
      .close()
      .then(() => database.close())
      .then(() => tracing?.shutdown())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
