import { Hono } from 'hono';
import type { ApiDeps } from './deps.js';

const TIMED_OUT = 'readiness check timed out';

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(TIMED_OUT)), ms).unref()),
  ]);

const CHECK_TIMEOUT_MS = 3000;

/**
 * Which check failed, in words that name no host, port, user or database: the raw error (which
 * may) goes to the log, not to whoever can reach this unauthenticated endpoint.
 */
async function check(
  name: string,
  fn: () => Promise<unknown>,
  logger: ApiDeps['logger'],
): Promise<{ ok: boolean; error?: string }> {
  try {
    await withTimeout(fn(), CHECK_TIMEOUT_MS);
    return { ok: true };
  } catch (err) {
    logger.warn({ err, check: name }, 'readiness check failed');
    const timedOut = (err as Error).message === TIMED_OUT;
    return { ok: false, error: timedOut ? `no answer within ${CHECK_TIMEOUT_MS} ms` : `${name} unavailable` };
  }
}

export function healthRouter(deps: ApiDeps) {
  const router = new Hono();
  router.get('/healthz', (c) => c.json({ status: 'ok' }));
  router.get('/readyz', async (c) => {
    const [postgres, temporal] = await Promise.all([
      check('PostgreSQL', () => deps.database.sql`select 1`, deps.logger),
      check(
        'Temporal',
        // A deadline on the call itself, before the check's: the client's retries end with the call.
        () => {
          const { connection } = deps.workflows.client;
          return connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS - 250, () =>
            connection.workflowService.getSystemInfo({}),
          );
        },
        deps.logger,
      ),
    ]);
    const ready = postgres.ok && temporal.ok;
    return c.json(
      { status: ready ? 'ready' : 'unavailable', checks: { postgres, temporal } },
      ready ? 200 : 503,
    );
  });
  return router;
}
