/**
 * Nothing personal or secret in logs: a database error is logged without the values of its query
 * (drizzle puts the whole payload in its message), secret-named fields are redacted at any depth,
 * and /readyz names the failed check without the raw connection error.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import { createApp } from '../../api/app.js';
import { connectDatabase } from '../../db/client.js';
import { violations } from '../../db/schema.js';
import { defaultSettings } from '../../domain/settings.js';
import { scrubActivityError } from '../../infra/activity-log-context.js';
import { createLogger } from '../../infra/logger.js';
import { SecretBox } from '../../infra/secret-box.js';
import { ADMIN_KEY, type Stack, startStack } from '../helpers/stack.js';

const PERSONAL = 'alice.personal@example.com';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

function capture() {
  const raw: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => raw.push(s) } });
  return {
    logger,
    text: () => raw.join(''),
    lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A real failed insert: the same event_id twice (PostgreSQL 23505), its payload personal. */
async function failedInsert(): Promise<Error> {
  const row = {
    eventId: '0b9f4c1e-6a55-4f4e-9d55-0c3f6d4f1a01',
    payload: { user_email: PERSONAL, summary: `${PERSONAL} pasted a card number` },
    bodyHash: 'h',
    eventType: 'policy_violation',
    severity: 'high',
    occurredAt: new Date(),
    workflowId: 'violation-x',
  };
  await stack.database.db.insert(violations).values(row).onConflictDoNothing();
  try {
    await stack.database.db.insert(violations).values(row);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the insert to fail');
}

describe('database errors in logs', () => {
  it('carry the SQL and the PostgreSQL code, never the values', async () => {
    const err = await failedInsert();
    expect(err.message).toContain(PERSONAL); // what drizzle builds: the reason for this test
    const { logger, text, lines } = capture();
    logger.error({ err, path: '/v1/violations' }, 'unhandled error');
    expect(text()).not.toContain(PERSONAL);
    const logged = lines()[0]!.err as Record<string, unknown>;
    expect(logged.message).toMatch(/^Failed query: insert into "violations"/);
    expect(JSON.stringify(logged)).toContain('23505');
    expect(JSON.stringify(logged)).toContain('violations_pkey');
  });

  it('leave an activity without the values too (what Temporal records and logs)', async () => {
    const err = await failedInsert();
    const scrubbed = scrubActivityError(err) as Error;
    expect(scrubbed.message).not.toContain(PERSONAL);
    expect(scrubbed.message).toMatch(/Failed query: insert into "violations".*23505/s);
    const other = new Error(`remote said ${PERSONAL}`);
    expect(scrubActivityError(other)).toBe(other);
  });
});

describe('redaction', () => {
  it('covers secret field names at any depth, in objects, arrays and errors', () => {
    const { logger, text } = capture();
    const err = Object.assign(new Error('boom'), { config: { nested: { client_secret: 'S-err' } } });
    logger.info(
      {
        a: { b: { c: { d: { password: 'S-1', list: [{ api_token: 'S-2' }, { hec_token: 'S-3' }] } } } },
        request: { headers: { Authorization: 'Bearer S-4', 'x-api-key': 'S-5', 'DD-API-KEY': 'S-6' } },
        connector: { config: { signing_secret: 'S-7', webhook_secret: 'S-8', pat: 'S-9', secret: 'S-10' } },
        err,
      },
      'deep',
    );
    expect(text()).toContain('"deep"');
    expect(text()).not.toMatch(/S-\d+|S-err/);
    expect(text()).toContain('[redacted]');
  });
});

describe('/readyz', () => {
  it('names the failed checks, not the raw connection errors', async () => {
    const database = connectDatabase('postgres://escalate_user:hunter2@127.0.0.1:1/escalate_db');
    // Not closed at the end: the client's own connect check may still be retrying against the
    // closed port, and closing the channel under it throws from a timer. This process ends soon.
    const connection = Connection.lazy({ address: '127.0.0.1:2' });
    try {
      const app = createApp({
        database,
        workflows: { client: new Client({ connection }), taskQueue: 'q' },
        box: new SecretBox(SecretBox.generateKey()),
        settings: defaultSettings(),
        apiKeys: parseApiKeys(`${ADMIN_KEY}:admin`),
        logger: createLogger({ level: 'silent' }),
      });
      const res = await app.request('/readyz');
      expect(res.status).toBe(503);
      const body = await res.text();
      expect(JSON.parse(body)).toMatchObject({
        status: 'unavailable',
        checks: { postgres: { ok: false }, temporal: { ok: false } },
      });
      expect(body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|escalate_user|hunter2|escalate_db|:1\b|:2\b/);
    } finally {
      await database.close();
    }
  });
});
