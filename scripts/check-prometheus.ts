/**
 * `npm run check:prometheus`: Prometheus's own `promtool check config` and `check rules` on
 * deploy/prometheus/. promtool is built from the Go module proxy at the version matching the
 * compose file's prom/prometheus image and cached under `.tools/promtool/<version>/`. Not part of
 * CI: a cold build took about 20 minutes on 2 shared cores (the suite checks the same files with
 * Prometheus's PromQL grammar instead, test/deploy/prometheus.test.ts).
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** prom/prometheus:v3.16.0 is Go module version v0.316.0. */
const PROMTOOL = 'github.com/prometheus/prometheus/cmd/promtool@v0.316.0';
const ROOT = resolve(import.meta.dirname, '..');
const dir = join(ROOT, '.tools/promtool/v0.316.0');
const promtool = join(dir, 'promtool');

if (!existsSync(promtool)) {
  console.error(`[check:prometheus] building ${PROMTOOL} (first run only; long)…`);
  mkdirSync(dir, { recursive: true });
  execFileSync('go', ['install', PROMTOOL], { stdio: 'inherit', env: { ...process.env, GOBIN: dir } });
}

// The config names the rule file by its path inside the container: check a copy pointing here.
const work = mkdtempSync(join(tmpdir(), 'escalate-promtool-'));
try {
  const source = join(ROOT, 'deploy/prometheus');
  copyFileSync(join(source, 'alerts.yml'), join(work, 'alerts.yml'));
  const config = readFileSync(join(source, 'prometheus.yml'), 'utf8').replace(
    '/etc/prometheus/alerts.yml',
    'alerts.yml',
  );
  writeFileSync(join(work, 'prometheus.yml'), config);
  execFileSync(promtool, ['check', 'config', 'prometheus.yml'], { cwd: work, stdio: 'inherit' });
} finally {
  rmSync(work, { recursive: true, force: true });
}
