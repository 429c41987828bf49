/**
 * `npm run build`, what the image's build stage runs: compiles the production sources to dist/
 * (tsconfig.build.json; `node dist/scripts/start-api.js` and `start-worker.js` run them), copies
 * what they read at run time (migrations, the encoded-failure converter), and bundles the
 * workflows ahead of time into dist/workflow-bundles/ — plain and with the tracing interceptors —
 * which workers load through ESCALATE_WORKFLOW_BUNDLE_DIR instead of bundling at start.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { BUNDLE_FILES, bundleWorkflows } from '../worker.js';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');
const BUNDLE_DIR = join(DIST, 'workflow-bundles');
const say = (m: string) => process.stderr.write(`[build] ${m}\n`);

rmSync(DIST, { recursive: true, force: true });
say('compiling (tsconfig.build.json)');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
cpSync(join(ROOT, 'db/migrations'), join(DIST, 'db/migrations'), { recursive: true });
cpSync(join(ROOT, 'infra/encoded-failure-converter.cjs'), join(DIST, 'infra/encoded-failure-converter.cjs'));

mkdirSync(BUNDLE_DIR, { recursive: true });
for (const tracing of [false, true]) {
  const bundle = await bundleWorkflows({ tracing });
  const file = join(BUNDLE_DIR, tracing ? BUNDLE_FILES.tracing : BUNDLE_FILES.plain);
  writeFileSync(file, bundle.code);
  say(`workflow bundle ${file} (${Math.round(bundle.code.length / 1024)} KiB)`);
}
