/**
 * The image's HEALTHCHECK: `node dist/scripts/healthcheck.js api|worker` asks the process's own
 * /healthz (the API on PORT, default 8080; a worker on ESCALATE_WORKER_METRICS_PORT, default 9464)
 * and exits 0 when it answers 200 within 3 s, 1 otherwise.
 */
const role = process.argv[2];
const port =
  role === 'api'
    ? (process.env.PORT ?? '8080')
    : role === 'worker'
      ? (process.env.ESCALATE_WORKER_METRICS_PORT ?? '9464')
      : undefined;
if (!port) {
  console.error('usage: healthcheck.js api|worker');
  process.exit(2);
}
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) console.error(`${role} /healthz answered ${res.status}: ${await res.text()}`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`${role} /healthz: ${(err as Error).message}`);
  process.exit(1);
}
