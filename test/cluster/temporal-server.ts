/**
 * A real Temporal server (not the CLI's dev server) for `npm run test:cluster`, built from the Go
 * module proxy at a pinned version and cached under `.tools/temporal-server/<version>/`:
 *
 *   temporal-server      go.temporal.io/server/cmd/server            (what temporalio/server runs)
 *   temporal-sql-tool    go.temporal.io/server/cmd/tools/sql         (what temporalio/admin-tools has)
 *   schema/postgresql/   the module's SQL schema files               (admin-tools: /etc/temporal/schema)
 *
 * Only the first run pays for the build (about 6 min on 2 shared cores with cold Go caches, about
 * 15 s when Go's build cache in $HOME survived; see README "Testing"). The cluster is then set up
 * by the same scripts docker-compose runs (deploy/temporal/*.sh) and started like the
 * temporalio/server image starts it: `temporal-server start`, configured by environment variables.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../infra/ports.js';
import { stopProcess, waitForPort } from '../../infra/temporal-dev-server.js';

/** The tested server version: also the tag of temporalio/server and admin-tools in docker-compose.yml. */
export const TEMPORAL_SERVER_VERSION = '1.31.2';
const MODULE = 'go.temporal.io/server';
const ROOT = resolve(import.meta.dirname, '../..');
export const DEPLOY_DIR = join(ROOT, 'deploy/temporal');

const run = promisify(execFile);

export interface ServerTools {
  dir: string;
  /** temporal-server and temporal-sql-tool. */
  bin: string;
  schemaDir: string;
  /** Seconds the build took when this call built it; undefined when it came from the cache. */
  builtInSeconds?: number;
}

/** The cached build of TEMPORAL_SERVER_VERSION, building it first when missing. */
export async function temporalServerTools(log: (m: string) => void): Promise<ServerTools> {
  const dir = join(ROOT, '.tools/temporal-server', TEMPORAL_SERVER_VERSION);
  const tools = { dir, bin: join(dir, 'bin'), schemaDir: join(dir, 'schema') };
  if (existsSync(join(dir, 'build.json'))) return tools;

  const started = Date.now();
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'bin'), { recursive: true });
  const version = `v${TEMPORAL_SERVER_VERSION}`;
  log(`building Temporal server ${version} from the Go module proxy (first run only)…`);
  try {
    await run('go', ['install', `${MODULE}/cmd/server@${version}`, `${MODULE}/cmd/tools/sql@${version}`], {
      env: { ...process.env, GOBIN: join(tmp, 'gobin') },
      maxBuffer: 64 * 1024 * 1024,
    });
    renameSync(join(tmp, 'gobin/server'), join(tmp, 'bin/temporal-server'));
    renameSync(join(tmp, 'gobin/sql'), join(tmp, 'bin/temporal-sql-tool'));
    const { stdout } = await run('go', ['mod', 'download', '-json', `${MODULE}@${version}`]);
    const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
    cpSync(join(moduleDir, 'schema/postgresql'), join(tmp, 'schema/postgresql'), { recursive: true });
    rmSync(join(tmp, 'gobin'), { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const e = err as Error & { stderr?: string };
    throw new Error(`building Temporal server ${version} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
  const builtInSeconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(join(tmp, 'build.json'), `${JSON.stringify({ version, builtInSeconds }, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  log(`built Temporal server ${version} in ${builtInSeconds} s (cached in ${dir})`);
  return { ...tools, builtInSeconds };
}

export const buildRecord = (tools: ServerTools): { version: string; builtInSeconds: number } =>
  JSON.parse(readFileSync(join(tools.dir, 'build.json'), 'utf8'));

/** Runs one of deploy/temporal/*.sh with `sh`, as the admin-tools job does. */
export async function runDeployScript(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run('sh', [join(DEPLOY_DIR, script)], { env: { ...process.env, ...env } });
    return stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${script} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

export interface PostgresAccess {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface TemporalCluster {
  address: string;
  namespace: string;
  /** The server's own Prometheus endpoint (PROMETHEUS_ENDPOINT). */
  metricsUrl: string;
  /** What the setup scripts printed (schema, namespace, search attributes). */
  setupOutput: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const SERVICES = ['FRONTEND', 'HISTORY', 'MATCHING', 'WORKER'] as const;

/** Temporal stores membership ports as PostgreSQL smallint: they must stay below 32768. */
async function freeLowPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((done) => {
      const srv = createServer();
      srv.once('error', () => done(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => done(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
}

/**
 * Schema (setup-schema.sh), then `temporal-server start` with the persistence and visibility
 * stores on `pg`, `shards` history shards and every port free, then the namespace and the search
 * attributes (setup-namespace.sh). `cli` is the `temporal` CLI the namespace script calls.
 */
export async function startTemporalCluster(opts: {
  tools: ServerTools;
  cli: string;
  pg: PostgresAccess;
  namespace: string;
  shards: number;
  workDir: string;
}): Promise<TemporalCluster> {
  const { tools, pg } = opts;
  // The admin-tools image's PATH: temporal-sql-tool and the `temporal` CLI.
  const bin = join(opts.workDir, 'bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(join(tools.bin, 'temporal-sql-tool'), join(bin, 'temporal-sql-tool'));
  symlinkSync(opts.cli, join(bin, 'temporal'));
  const path = `${bin}:${process.env.PATH ?? ''}`;

  const schemaOutput = await runDeployScript('setup-schema.sh', {
    PATH: path,
    SQL_HOST: pg.host,
    SQL_PORT: String(pg.port),
    SQL_USER: pg.user,
    SQL_PASSWORD: pg.password,
    TEMPORAL_SCHEMA_DIR: tools.schemaDir,
  });

  const ports: Record<string, string> = {};
  const taken = new Set<number>();
  for (const service of SERVICES) {
    ports[`${service}_GRPC_PORT`] = String(await freeLowPort(taken));
    ports[`${service}_MEMBERSHIP_PORT`] = String(await freeLowPort(taken));
  }
  ports.FRONTEND_HTTP_PORT = String(await freeLowPort(taken));
  const metricsPort = await freePort();
  // The environment the temporalio/server image reads (its embedded config template).
  const env = {
    PATH: path,
    HOME: process.env.HOME ?? '/tmp',
    DB: 'postgres12',
    POSTGRES_SEEDS: pg.host,
    DB_PORT: String(pg.port),
    POSTGRES_USER: pg.user,
    POSTGRES_PWD: pg.password,
    NUM_HISTORY_SHARDS: String(opts.shards),
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: join(DEPLOY_DIR, 'dynamicconfig.yaml'),
    PROMETHEUS_ENDPOINT: `127.0.0.1:${metricsPort}`,
    LOG_LEVEL: 'warn',
    ...ports,
  };
  const child = spawn(join(tools.bin, 'temporal-server'), ['start'], {
    cwd: opts.workDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The server logs JSON lines to stdout (warnings and up): kept for failure messages.
  let stderr = '';
  const keep = (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const frontend = Number(ports.FRONTEND_GRPC_PORT);
  try {
    await waitForPort(frontend, 120_000, () => child.exitCode === null);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`temporal-server did not start: ${(err as Error).message}\n${stderr}`);
  }
  const address = `127.0.0.1:${frontend}`;
  let namespaceOutput: string;
  try {
    namespaceOutput = await runDeployScript('setup-namespace.sh', {
      PATH: path,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: opts.namespace,
      TEMPORAL_RETENTION: '1d',
    });
  } catch (err) {
    await stopProcess(child);
    throw new Error(`${(err as Error).message}\nserver:\n${stderr}`);
  }
  return {
    address,
    namespace: opts.namespace,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    setupOutput: schemaOutput + namespaceOutput,
    process: child,
    stop: () => stopProcess(child, 20_000),
  };
}
