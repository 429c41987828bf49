import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import type { ApiDeps } from './deps.js';
import { startPendingSweeper } from './pending-starts.js';

/** The API on `hostname:port`, with the sweep that starts violations a failed start left behind. */
export function serveApi(deps: ApiDeps, opts: { port: number; hostname: string }) {
  const sweeper = startPendingSweeper(deps);
  const server = serve({ fetch: createApp(deps).fetch, port: opts.port, hostname: opts.hostname });
  return {
    close() {
      sweeper.stop();
      server.close();
    },
  };
}
