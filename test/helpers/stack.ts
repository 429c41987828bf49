import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Logger } from 'pino';
import postgres from 'postgres';
import { inject } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import type { Database } from '../../db/client.js';
import type { Settings } from '../../domain/settings.js';
import { createLogger } from '../../infra/logger.js';
import { payloadCodecFromEnv } from '../../infra/payload-codec.js';
import { SecretBox } from '../../infra/secret-box.js';
import type { Tracing } from '../../infra/tracing.js';
import { startServices } from '../../services.js';

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
    /** ESCALATE_SECRET_KEY and ESCALATE_SECRET_KEY_PREVIOUS (default: a fresh key). */
    secretKeys?: { current: string; previous?: string[] };
    /** With its own bundle (made with `bundleWorkflows({ tracing: true })`). */
    tracing?: { tracing: Tracing; workflowBundle: WorkflowBundleWithSourceMap };
    /** ESCALATE_PAYLOAD_KEY for the client, the worker and the codec endpoint. */
    payloadKey?: string;
    /** ESCALATE_TEMPORAL_UI_ORIGINS of the codec endpoint. */
    temporalUiOrigins?: string[];
  } = {},
): Promise<Stack> {
  installRuntimeOnce();
  const taskQueue = `test-${randomUUID()}`;
  const box = opts.secretKeys
    ? new SecretBox(opts.secretKeys.current, opts.secretKeys.previous)
    : new SecretBox(SecretBox.generateKey());
  const services = await startServices({
    logger: opts.logger ?? createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
    databaseUrl: await createTestDatabase(),
    temporal: {
      address: inject('temporalAddress'),
      namespace: 'default',
      taskQueue,
      payloadCodec: payloadCodecFromEnv({ ESCALATE_PAYLOAD_KEY: opts.payloadKey }),
    },
    box,
    settings: opts.settings,
    tracing: opts.tracing?.tracing,
    worker: { workflowBundle: opts.tracing?.workflowBundle ?? { codePath: inject('workflowBundlePath') } },
    api: {
      apiKeys: parseApiKeys(`${ADMIN_KEY}:admin,${INGEST_KEY}:ingest`),
      webhookSecret: WEBHOOK_SECRET,
      port: 0,
      hostname: '127.0.0.1',
      // Tests watch starts themselves; a sweep racing them would only blur what they check.
      sweepPendingStarts: false,
      temporalUiOrigins: opts.temporalUiOrigins,
    },
  });
  const { database, client } = services;
  const worker = services.worker!;
  const url = services.api!.url;

  return {
    url,
    database,
    client,
    taskQueue,
    box,
    get worker() {
      return worker.current;
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
    stopWorker: () => worker.stop(),
    startWorker: () => worker.start(),
    close: () => services.close(),
  };
}
