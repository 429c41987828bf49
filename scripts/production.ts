/**
 * What `start:api` and `start:worker` share: the settings every production process reads from
 * its environment, and a clean exit on SIGTERM/SIGINT.
 */
import { temporalConnectionFromEnv } from '../config.js';
import { loadConfigFile } from '../infra/config-file.js';
import { createLogger } from '../infra/logger.js';
import { secretBoxFromEnv } from '../infra/secret-key.js';
import { tracingFromEnv } from '../infra/tracing.js';
import type { Services, ServicesOptions } from '../services.js';

export function productionOptions(name: string) {
  const logger = createLogger({ name });
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl)
    throw new Error('DATABASE_URL is required (npm start runs an embedded PostgreSQL for you)');
  return {
    logger,
    databaseUrl,
    temporal: temporalConnectionFromEnv(),
    box: secretBoxFromEnv(),
    configFile: loadConfigFile(process.env.ESCALATE_CONFIG),
    tracing: tracingFromEnv(name),
  } satisfies ServicesOptions;
}

/** On SIGTERM/SIGINT: stop taking work, finish what runs, close everything, exit 0. */
export function exitOnSignal(services: Services, cleanup: () => Promise<unknown> = async () => {}) {
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await services.close();
    await cleanup();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

export function runMain(main: () => Promise<unknown>) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
