/**
 * The Temporal Web UI under test: a dev server WITH the UI (the shared one is headless), a worker
 * and the API against it, and the OS Chromium driven by playwright-core (never downloaded).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Page } from 'playwright-core';
import { inject } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import { createLogger } from '../../infra/logger.js';
import { payloadCodecFromEnv } from '../../infra/payload-codec.js';
import { freePort } from '../../infra/ports.js';
import { SecretBox } from '../../infra/secret-box.js';
import { type DevServer, startDevServer, waitForPort } from '../../infra/temporal-dev-server.js';
import { startServices } from '../../services.js';
import { ADMIN_KEY, createTestDatabase } from './stack.js';

export interface UiStack {
  uiUrl: string;
  apiUrl: string;
  client: Client;
  api(path: string, json?: unknown): Promise<Response>;
  /** Every request the API answered (from its access log: method, route, status), in order. */
  served: { method: string; route: string; status: number }[];
  close(): Promise<void>;
}

/** A logger that keeps the API's access-log lines. */
function accessLogCollector(served: UiStack['served']) {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; method: string; route: string; status: number };
        if (entry.msg === 'request')
          served.push({ method: entry.method, route: entry.route, status: entry.status });
      }
      done();
    },
  });
  return createLogger({ level: 'info', destination });
}

/**
 * A dev server WITH the Web UI, plus a worker and the API against it (like helpers/stack.ts).
 * With `payloadKey`, payloads are encrypted and the UI decodes through the API's codec endpoint.
 */
export async function startUiStack(opts: { payloadKey?: string } = {}): Promise<UiStack> {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already installed in this process.
  }
  const stops: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    const [port, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const payloadCodec = payloadCodecFromEnv({ ESCALATE_PAYLOAD_KEY: opts.payloadKey });
    const server: DevServer = await startDevServer({
      cli: inject('temporalCli'),
      port,
      uiPort,
      headless: false,
      // With encryption, the UI decodes through the API's codec endpoint (as `npm start` sets it up).
      uiCodecEndpoint: payloadCodec ? `${apiUrl}/v1/temporal-codec` : undefined,
    });
    stops.push(() => server.stop());
    await waitForPort(uiPort, 60_000, () => server.process.exitCode === null);

    const served: UiStack['served'] = [];
    const services = await startServices({
      logger: accessLogCollector(served),
      databaseUrl: await createTestDatabase(),
      poolSize: 10,
      temporal: { address: server.address, namespace: 'default', taskQueue: 'web-ui-test', payloadCodec },
      box: new SecretBox(SecretBox.generateKey()),
      worker: { workflowBundle: { codePath: inject('workflowBundlePath') } },
      api: {
        apiKeys: parseApiKeys(`${ADMIN_KEY}:admin`),
        port: apiPort,
        hostname: '127.0.0.1',
        temporalUiOrigins: [`http://127.0.0.1:${uiPort}`],
      },
    });
    stops.push(() => services.close());

    return {
      uiUrl: `http://127.0.0.1:${uiPort}`,
      apiUrl,
      client: services.client,
      api: (path, json) =>
        fetch(`${apiUrl}${path}`, {
          method: json === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          body: json === undefined ? undefined : JSON.stringify(json),
        }),
      served,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Runs `fn`; on failure, saves a screenshot of the page and names it in the error. */
export async function withScreenshot(page: Page, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const file = join(tmpdir(), `escalate-web-ui-${Date.now()}.png`);
    const saved = await page
      .screenshot({ path: file, fullPage: true })
      .then(() => `screenshot: ${file}`)
      .catch((e: unknown) => `no screenshot: ${(e as Error).message}`);
    const error = err instanceof Error ? err : new Error(String(err));
    error.message = `${error.message}\n(${saved}; page ${page.url()})`;
    throw error;
  }
}
