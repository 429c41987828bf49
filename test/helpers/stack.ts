import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Logger } from 'pino';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createApp } from '../../api/app.js';
import { parseApiKeys } from '../../config.js';
import { connectDatabase, type Database } from '../../db/client.js';
import { defaultSettings, type Settings } from '../../domain/settings.js';
import { createLogger } from '../../infra/logger.js';
import { payloadCodecFromEnv, payloadDataConverter } from '../../infra/payload-codec.js';
import { SecretBox } from '../../infra/secret-box.js';
import type { Tracing } from '../../infra/tracing.js';
import { createWorker } from '../../worker.js';

/** Quiet SDK logs, unless the test file installed its own Runtime first (see logs.test.ts). */
function installRuntimeOnce() {
  if (!Runtime._instance) Runtime.install({ logger: new DefaultLogger('ERROR') });
}

/** A fresh database for one test file, copied from the migrated template. */
export async function createTestDatabase(): Promise<string> {
  const name = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = postgres(`${inject('pgUrlBase')}postgres`, { max: 1, onnotice: () => {} });
  try {
    for (let i = 0; ; i++) {
      try {
        await admin.unsafe(`create database "${name}" template escalate_template`);
        break;
      } catch (err) {
        // Two files copying the template at once: PostgreSQL refuses the second; try again.
        if (i > 20 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  return `${inject('pgUrlBase')}${name}`;
}

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const INGEST_KEY = 'test-ingest-key-0123456789';
export const WEBHOOK_SECRET = 'test-webhook-secret';

export interface Stack {
  url: string;
  database: Database;
  client: Client;
  taskQueue: string;
  box: SecretBox;
  worker: Worker;
  /** fetch against the API with the admin key (or `key`). */
  api(path: string, init?: RequestInit & { json?: unknown; key?: string | null }): Promise<Response>;
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

/** API (over real HTTP) + worker + database for one test file, on the shared Temporal server. */
export async function startStack(
  opts: {
    settings?: Partial<Settings>;
    logger?: Logger;
    /** With its own bundle (made with `bundleWorkflows({ tracing: true })`). */
    tracing?: { tracing: Tracing; workflowBundle: WorkflowBundleWithSourceMap };
    /** ESCALATE_PAYLOAD_KEY for the client, the worker and the codec endpoint. */
    payloadKey?: string;
    /** ESCALATE_TEMPORAL_UI_ORIGINS of the codec endpoint. */
    temporalUiOrigins?: string[];
  } = {},
): Promise<Stack> {
  installRuntimeOnce();
  const database = connectDatabase(await createTestDatabase(), { max: 20 });
  const address = inject('temporalAddress');
  const taskQueue = `test-${randomUUID()}`;
  const box = new SecretBox(SecretBox.generateKey());
  const settings = { ...defaultSettings(), ...opts.settings };
  const logger = opts.logger ?? createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });

  const payloadCodec = payloadCodecFromEnv({ ESCALATE_PAYLOAD_KEY: opts.payloadKey });
  const connection = await Connection.connect({ address });
  const client = new Client({
    connection,
    dataConverter: payloadDataConverter(payloadCodec),
    interceptors: { workflow: opts.tracing?.tracing.clientInterceptors ?? [] },
  });
  const nativeConnection = await NativeConnection.connect({ address });
  const deps = { db: database.db, temporal: client, taskQueue, box, settings, logger };

  let worker!: Worker;
  let running: Promise<void> | undefined;
  const startWorker = async () => {
    worker = await createWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      deps,
      workflowBundle: opts.tracing?.workflowBundle ?? { codePath: inject('workflowBundlePath') },
      tracing: opts.tracing?.tracing,
      payloadCodec,
    });
    running = worker.run();
  };
  const stopWorker = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  };
  await startWorker();

  const app = createApp({
    database,
    temporal: client,
    taskQueue,
    box,
    settings,
    apiKeys: parseApiKeys(`${ADMIN_KEY}:admin,${INGEST_KEY}:ingest`),
    webhookSecret: WEBHOOK_SECRET,
    logger,
    payloadCodec,
    temporalUiOrigins: opts.temporalUiOrigins,
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    database,
    client,
    taskQueue,
    box,
    get worker() {
      return worker;
    },
    api(path, init = {}) {
      const { json, key, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (key !== null) headers.set('authorization', `Bearer ${key ?? ADMIN_KEY}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${url}${path}`, {
        ...rest,
        headers,
        body: json !== undefined ? JSON.stringify(json) : rest.body,
      });
    },
    stopWorker,
    startWorker,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await stopWorker();
      await nativeConnection.close();
      await connection.close();
      await database.close();
    },
  };
}
