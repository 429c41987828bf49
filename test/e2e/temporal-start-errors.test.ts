/**
 * A workflow start the Temporal server refuses is not an outage: summaries fit the server's
 * user-metadata limit (400 bytes on current servers, counted in bytes, not characters),
 * INVALID_ARGUMENT answers 400 with the reason, and the pending-start sweep handles rows one by
 * one, flagging the ones the server refuses. The refusal is real: the test client adds a search
 * attribute the server does not know to some starts.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import { createApp } from '../../api/app.js';
import type { ApiDeps } from '../../api/deps.js';
import { startPendingSweeper } from '../../api/pending-starts.js';
import { defaultSettings } from '../../domain/settings.js';
import { createLogger } from '../../infra/logger.js';
import { eventually, makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let connection: Connection;
/** Event ids whose workflow start carries a search attribute the server does not know. */
const poisoned = new Set<string>();
let deps: ApiDeps;

const UNREGISTERED = defineSearchAttributeKey('EscalateNotRegistered', 'KEYWORD');
const refuseSome: WorkflowClientInterceptor = {
  start(input, next) {
    const eventId = input.options.workflowId.replace(/^violation-/, '');
    if (!poisoned.has(eventId)) return next(input);
    const typedSearchAttributes = [{ key: UNREGISTERED, value: 'x' }];
    return next({ ...input, options: { ...input.options, typedSearchAttributes } });
  },
};

beforeAll(async () => {
  stack = await startStack();
  connection = await Connection.connect({ address: inject('temporalAddress') });
  deps = {
    database: stack.database,
    workflows: {
      client: new Client({ connection, interceptors: { workflow: [refuseSome] } }),
      taskQueue: stack.taskQueue,
    },
    box: stack.box,
    settings: defaultSettings(),
    apiKeys: parseApiKeys(`${ADMIN_KEY}:admin`),
    logger: createLogger({ level: 'silent' }),
  };
});
afterAll(async () => {
  await connection?.close();
  await stack?.close();
});

const post = (app: ReturnType<typeof createApp>, body: unknown) =>
  app.request('/v1/violations', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const startedAt = async (eventId: string) =>
  (
    await stack.database.sql<{ started_at: Date | null; start_error: string | null; status: string }[]>`
      select started_at, start_error, status from violations where event_id = ${eventId}`
  )[0]!;

describe('workflow starts the server refuses', () => {
  it('accepts a long CJK summary and a long email: the static summary is capped in UTF-8 bytes', async () => {
    const event = makeEvent({
      summary: '機密データが外部のモデルに送信されました'.repeat(6),
      user_email: `${'very.long.mailbox.name'.repeat(8)}@example.com`,
    });
    const res = await stack.api('/v1/violations', { method: 'POST', json: event });
    expect(res.status, await res.text()).toBe(202);
    const desc = await stack.client.workflow.getHandle(`violation-${event.event_id}`).describe();
    const summary = (await desc.staticSummary()) ?? '';
    expect(Buffer.byteLength(JSON.stringify(summary))).toBeLessThanOrEqual(256);
    expect(summary).toMatch(/^critical policy_violation — 機密データ/);
  });

  it('answers 400 with the server reason (not 503) and flags the row', async () => {
    const event = makeEvent();
    poisoned.add(event.event_id as string);
    const res = await post(createApp(deps), event);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.error.code).toBe('temporal_rejected');
    expect(body.error.message).toMatch(/search attribute EscalateNotRegistered/);
    const row = await startedAt(event.event_id as string);
    expect(row.started_at).toBeNull();
    expect(row.start_error).toMatch(/search attribute EscalateNotRegistered/);
    expect(row.status).toBe('failed');
    const view = (await (await stack.api(`/v1/violations/${event.event_id}`)).json()) as Record<
      string,
      unknown
    >;
    expect(view.start_error).toBe(row.start_error);
  });

  it('the sweep starts rows one by one in order and flags the refused one without stopping', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    poisoned.add(ids[1]!);
    for (const [i, id] of ids.entries()) {
      const payload = makeEvent({ event_id: id });
      await stack.database.sql`
        insert into violations (event_id, payload, body_hash, event_type, severity, occurred_at, received_at, workflow_id)
        values (${id}, ${JSON.stringify(payload)}::jsonb, 'h', 'policy_violation', 'critical', now(),
                now() - ${`${10 - i} minutes`}::interval, ${`violation-${id}`})`;
    }
    const sweeper = startPendingSweeper(deps, { intervalMs: 3_600_000, graceMs: 0 });
    try {
      await sweeper.sweep();
      const [first, refused, third] = await Promise.all(ids.map(startedAt));
      expect(first!.started_at).not.toBeNull();
      expect(third!.started_at).not.toBeNull();
      expect(new Date(first!.started_at!).getTime()).toBeLessThanOrEqual(
        new Date(third!.started_at!).getTime(),
      );
      expect(refused!.started_at).toBeNull();
      expect(refused!.start_error).toMatch(/search attribute EscalateNotRegistered/);
      // Flagged rows are not tried again by later sweeps.
      await sweeper.sweep();
      expect((await startedAt(ids[1]!)).started_at).toBeNull();
    } finally {
      sweeper.stop();
    }
    await eventually(async () => {
      const d = await stack.client.workflow.getHandle(`violation-${ids[2]}`).describe();
      return d.status.name !== 'RUNNING' || d;
    });
  });
});
