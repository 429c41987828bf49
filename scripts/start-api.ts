/** `npm run start:api`: a stateless API process against PostgreSQL and a Temporal cluster. */
import { parseApiKeys } from '../api/api-keys.js';
import { temporalUiOriginsFromEnv } from '../api/temporal-codec.js';
import { startServices } from '../services.js';
import { exitOnSignal, productionOptions, runMain } from './production.js';

runMain(async () => {
  const options = productionOptions('escalate-api');
  const apiKeys = parseApiKeys(process.env.ESCALATE_API_KEYS);
  if (!apiKeys.length)
    throw new Error('ESCALATE_API_KEYS is required: comma-separated `key` or `key:scope` (admin|ingest)');
  const port = Number(process.env.PORT ?? 8080);
  const services = await startServices({
    ...options,
    api: {
      apiKeys,
      webhookSecret: process.env.ESCALATE_WEBHOOK_SECRET,
      temporalUiUrl: process.env.ESCALATE_TEMPORAL_UI_URL || undefined,
      port,
      hostname: process.env.HOST ?? '0.0.0.0',
      temporalUiOrigins: temporalUiOriginsFromEnv(),
    },
  });
  options.logger.info({ port: services.api!.port }, 'API listening');
  exitOnSignal(services, async () => options.tracing?.shutdown());
});
