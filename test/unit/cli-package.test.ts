/**
 * `escalate` as an installed package: `npm pack` makes the tarball an operator installs, and its
 * `bin` runs from node_modules (the TypeScript through tsx) from a working directory that has
 * nothing of the repository.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeApi } from '../cli/fake-api.js';
import { cliHarness } from '../cli/harness.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let api: Awaited<ReturnType<typeof startFakeApi>>;
let dir: string;
let installed: string;
let files: string[];
const { bin } = cliHarness(() => api.url);

beforeAll(async () => {
  api = await startFakeApi();
  dir = await mkdtemp(join(tmpdir(), 'escalate-package-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  files = packed!.files.map((f) => f.path);
  // What `npm install` lays out: the package under node_modules/escalate, its dependencies beside it
  // (the lockfile's versions, linked from this checkout), and the bin link.
  const modules = join(dir, 'project', 'node_modules');
  installed = join(modules, 'escalate');
  await mkdir(installed, { recursive: true });
  await run('tar', ['-xzf', join(dir, packed!.filename), '-C', installed, '--strip-components=1']);
  for (const name of await readdir(join(ROOT, 'node_modules'))) {
    if (name.startsWith('.')) continue;
    await symlink(join(ROOT, 'node_modules', name), join(modules, name));
  }
  await mkdir(join(modules, '.bin'));
  await chmod(join(installed, 'cli/bin.js'), 0o755);
  await symlink('../escalate/cli/bin.js', join(modules, '.bin', 'escalate'));
}, 60_000);
afterAll(async () => {
  await api?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('is publishable: not private, a bin, and only the sources it runs', async () => {
  const pkg = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
  expect(pkg.private).toBeUndefined();
  expect(pkg.bin).toEqual({ escalate: './cli/bin.js' });
  expect(files).toEqual(
    expect.arrayContaining(['cli/bin.js', 'cli/main.ts', 'tsconfig.json', 'patches/postgres+3.4.9.patch']),
  );
  expect(files.filter((f) => /^(test|bench|\.data|\.tools|node_modules)\//.test(f))).toEqual([]);
});

it('the installed bin runs from another directory: --help, and a command against the API', async () => {
  const escalate = join(dir, 'project', 'node_modules', '.bin', 'escalate');
  const cwd = join(dir, 'project');
  const help = await bin(['--help'], { binPath: escalate, cwd });
  expect(help.code, help.stderr).toBe(0);
  expect(help.stdout).toContain('Usage: escalate');
  const check = await bin(['connectors', 'check', 'jira-sec'], { binPath: escalate, cwd });
  expect(check.code, check.stderr).toBe(0);
  expect(check.stdout).toContain('✓ jira-sec: every check passed');
}, 60_000);
