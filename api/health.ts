import { Hono } from 'hono';
import type { ApiDeps } from './deps.js';

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref(),
    ),
  ]);

async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await withTimeout(fn(), 3000);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export function healthRouter(deps: ApiDeps) {
  const router = new Hono();
  router.get('/healthz', (c) => c.json({ status: 'ok' }));
  router.get('/readyz', async (c) => {
    const [postgres, temporal] = await Promise.all([
      check(() => deps.database.sql`select 1`),
      check(() => deps.workflows.client.connection.workflowService.getSystemInfo({})),
    ]);
    const ready = postgres.ok && temporal.ok;
    return c.json(
      { status: ready ? 'ready' : 'unavailable', checks: { postgres, temporal } },
      ready ? 200 : 503,
    );
  });
  return router;
}
