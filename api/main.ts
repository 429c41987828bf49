import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { parseApiKeys, temporalConnectionFromEnv, temporalConnectOptions } from '../config.js';
import { connectDatabase } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { applyConfigFile, loadConfigFile } from '../infra/config-file.js';
import { createLogger } from '../infra/logger.js';
import { SecretBox } from '../infra/secret-box.js';
import { resolveSecretKey } from '../infra/secret-key.js';
import { createApp } from './app.js';
import { startPendingSweeper } from './pending-starts.js';

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
  const database = connectDatabase(databaseUrl, { max: 20 });
  await runMigrations(databaseUrl);
  await applyConfigFile(database.db, box, configFile);
  const connection = await Connection.connect(temporalConnectOptions(conn));
  const temporal = new Client({ connection, namespace: conn.namespace });
  const apiDeps = {
    database,
    temporal,
    taskQueue: conn.taskQueue,
    box,
    settings: configFile.settings,
    apiKeys,
    webhookSecret: process.env.ESCALATE_WEBHOOK_SECRET,
    logger,
  };
  const app = createApp(apiDeps);
  const sweeper = startPendingSweeper(apiDeps);
  const port = Number(process.env.PORT ?? 8080);
  const server = serve({ fetch: app.fetch, port, hostname: process.env.HOST ?? '0.0.0.0' });
  logger.info({ port }, 'API listening');
  const shutdown = () => {
    sweeper.stop();
    server.close();
    void connection
      .close()
      .then(() => database.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
