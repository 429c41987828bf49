import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { runMigrations } from '../db/migrate.js';
import { startEmbeddedPostgres } from '../infra/embedded-postgres.js';
import { freePort } from '../infra/ports.js';
import { resolveTemporalCli } from '../infra/temporal-cli.js';
import { startDevServer } from '../infra/temporal-dev-server.js';
import { bundleWorkflows } from '../worker.js';

export const TEMPLATE_DB = 'escalate_template';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCli: string;
    pgUrlBase: string;
    workflowBundlePath: string;
  }
}

/** One Temporal dev server, one PostgreSQL and one workflow bundle for the whole run. */
export default async function setup(project: TestProject) {
  const root = mkdtempSync(join(tmpdir(), 'escalate-test-'));
  // embedded-postgres runs initdb as an unprivileged user when we are root: it must reach its dir.
  chmodSync(root, 0o755);
  const cli = resolveTemporalCli();
  if (!cli) throw new Error('no Temporal CLI: install failed (see infra/temporal-cli.ts)');

  const [temporalPort, pgPort] = [await freePort(), await freePort()];
  const started = await Promise.allSettled([
    startDevServer({
      cli,
      port: temporalPort,
      headless: true,
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 200 },
    }),
    startEmbeddedPostgres({ dataDir: join(root, 'pg'), port: pgPort, persistent: false }),
    bundleWorkflows(),
  ] as const);
  const [temporalR, pgR, bundleR] = started;
  if (temporalR.status === 'rejected' || pgR.status === 'rejected' || bundleR.status === 'rejected') {
    if (temporalR.status === 'fulfilled') await temporalR.value.stop();
    if (pgR.status === 'fulfilled') await pgR.value.stop();
    const failure = started.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    throw failure.reason;
  }
  const [temporal, pg, bundle] = [temporalR.value, pgR.value, bundleR.value];
  try {
    await pg.createDatabase(TEMPLATE_DB);
    await runMigrations(pg.url(TEMPLATE_DB));
  } catch (err) {
    await Promise.allSettled([temporal.stop(), pg.stop()]);
    throw err;
  }

  const bundlePath = join(root, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);

  project.provide('temporalAddress', temporal.address);
  project.provide('temporalCli', cli);
  project.provide('pgUrlBase', pg.url(''));
  project.provide('workflowBundlePath', bundlePath);

  return async () => {
    await temporal.stop();
    await pg.stop();
    rmSync(root, { recursive: true, force: true });
  };
}
