/**
 * Payload encryption end to end (ESCALATE_PAYLOAD_KEY): what Temporal stores of a violation's
 * runs — inputs, activity results, summaries, a failure carrying the remote's message — holds no
 * plaintext personal data; the key's holders (client, replay, the codec endpoint) read it all.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import fc from 'fast-check';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import type { ApiDeps } from '../../api/deps.js';
import { temporalCodecRouter } from '../../api/temporal-codec.js';
import { createLogger } from '../../infra/logger.js';
import { payloadCodecFromEnv, payloadDataConverter } from '../../infra/payload-codec.js';
import { ticketWorkflowId, violationWorkflowId } from '../../workflows/contract.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { jiraConnector, makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, INGEST_KEY, type Stack, startStack } from '../helpers/stack.js';

const PAYLOAD_KEY = randomBytes(32).toString('base64');
const UI_ORIGIN = 'http://127.0.0.1:8233';
const CODEC = '/v1/temporal-codec';
const { History } = proto.temporal.api.history.v1;
const execFileAsync = promisify(execFile);

let stack: Stack;
let jira: FakeJira;
let raw: Client;
const ticketed = makeEvent({ summary: `max-tokens exceeded ${randomUUID()}` });
const refused = makeEvent();
const histories = new Map<string, proto.temporal.api.history.v1.IHistory>();

type JsonPayload = { metadata: Record<string, string>; data: string };

beforeAll(async () => {
  [stack, jira] = await Promise.all([
    startStack({ payloadKey: PAYLOAD_KEY, temporalUiOrigins: [UI_ORIGIN] }),
    startFakeJira(),
  ]);
  // A client without the key: what anyone reading Temporal's database sees.
  raw = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
  const res = await stack.api('/v1/connectors', { method: 'POST', json: jiraConnector(jira.url) });
  expect(res.status, await res.clone().text()).toBe(201);

  for (const event of [ticketed, refused]) {
    if (event === refused)
      // Jira refuses the create, quoting the user: that message reaches the history as a failure.
      jira.faults.status(400, {
        path: '/rest/api/3/issue',
        body: { errorMessages: [`user ${event.user_email as string} cannot be the reporter`], errors: {} },
      });
    const posted = await stack.api('/v1/violations', { method: 'POST', json: event });
    expect(posted.status, await posted.clone().text()).toBe(202);
    const workflowId = violationWorkflowId(event.event_id as string);
    await stack.client.workflow.getHandle(workflowId).result();
    histories.set(workflowId, await raw.workflow.getHandle(workflowId).fetchHistory());
  }
  const view = (await (await stack.api(`/v1/violations/${ticketed.event_id as string}`)).json()) as {
    tickets: { id: string }[];
  };
  const ticketWorkflow = ticketWorkflowId(view.tickets[0]!.id);
  histories.set(ticketWorkflow, await raw.workflow.getHandle(ticketWorkflow).fetchHistory());
}, 120_000);

afterAll(async () => {
  await raw?.connection.close();
  await stack?.close();
  await jira?.close();
});

describe("Temporal's history with ESCALATE_PAYLOAD_KEY set", () => {
  it('holds no plaintext email, summary text or remote error message, in its bytes', () => {
    expect(histories.size).toBe(3);
    for (const [workflowId, history] of histories) {
      const bytes = Buffer.from(History.encode(History.fromObject(history)).finish());
      for (const secret of [
        ticketed.user_email,
        ticketed.summary,
        refused.user_email,
        'cannot be the reporter',
        'pol-max-tokens", "name',
      ] as string[])
        expect(bytes.includes(secret), `${workflowId} holds ${secret}`).toBe(false);
      expect(bytes.includes('binary/encrypted'), workflowId).toBe(true);
    }
  });

  it('was written by runs that did their work: a ticket, and a refusal recorded with its reason', async () => {
    expect(jira.issues.size).toBe(1);
    const view = (await (await stack.api(`/v1/violations/${refused.event_id as string}`)).json()) as {
      deliveries: { status: string; last_error: string }[];
    };
    expect(view.deliveries[0]).toMatchObject({ status: 'failed' });
    expect(view.deliveries[0]!.last_error).toContain('cannot be the reporter');
  });

  it('gives the key holder summaries without personal data or free text', async () => {
    const described = await stack.client.workflow
      .getHandle(violationWorkflowId(ticketed.event_id as string))
      .describe();
    expect(await described.staticSummary()).toBe('critical policy_violation — policy pol-max-tokens (block)');
    const details = (await described.staticDetails()) ?? '';
    expect(details).toContain(`event id: ${ticketed.event_id as string}`);
    expect(details).not.toContain(ticketed.user_email as string);
    expect(details).not.toContain('max-tokens exceeded');
    expect(details).not.toContain('Max tokens');
  });

  it('replays with the key; without it the replay cannot read the history', async () => {
    const workflowId = violationWorkflowId(ticketed.event_id as string);
    const history = histories.get(workflowId)!;
    const workflowBundle = { codePath: inject('workflowBundlePath') };
    const dataConverter = payloadDataConverter(payloadCodecFromEnv({ ESCALATE_PAYLOAD_KEY: PAYLOAD_KEY }));
    await Worker.runReplayHistory({ workflowBundle, dataConverter }, history, workflowId);
    await expect(Worker.runReplayHistory({ workflowBundle }, history, workflowId)).rejects.toThrow(
      /Unknown encoding: binary\/encrypted/,
    );
  });
});

describe('the codec endpoint (Temporal codec-server protocol)', () => {
  const startedInput = (): JsonPayload[] => {
    const history = histories.get(violationWorkflowId(ticketed.event_id as string))!;
    const started = History.toObject(History.fromObject(history), { bytes: String }).events![0]!;
    return started.workflowExecutionStartedEventAttributes!.input!.payloads as JsonPayload[];
  };
  const post = (op: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${CODEC}/${op}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: JSON.stringify(body),
    });
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const dataText = (p: JsonPayload) => Buffer.from(p.data, 'base64').toString('utf8');

  it('decodes what the history holds for an admin key', async () => {
    const payloads = startedInput();
    expect(dataText(payloads[0]!)).not.toContain(ticketed.user_email as string);
    const res = await post('decode', { payloads }, bearer(ADMIN_KEY));
    expect(res.status).toBe(200);
    const decoded = (await res.json()) as { payloads: JsonPayload[] };
    expect(Buffer.from(decoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(dataText(decoded.payloads[0]!)).toContain(ticketed.user_email as string);
  });

  it('encodes, and its output decodes back', async () => {
    const plain = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('{"hello":"world"}').toString('base64'),
    };
    const encoded = (await (await post('encode', { payloads: [plain] }, bearer(ADMIN_KEY))).json()) as {
      payloads: JsonPayload[];
    };
    expect(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(
      'binary/encrypted',
    );
    const decoded = (await (await post('decode', encoded, bearer(ADMIN_KEY))).json()) as {
      payloads: JsonPayload[];
    };
    expect(decoded.payloads[0]).toEqual(plain);
  });

  it('refuses callers without an admin key or session, and malformed documents', async () => {
    const payloads = startedInput();
    expect((await post('decode', { payloads })).status).toBe(401);
    expect((await post('decode', { payloads }, bearer('not-a-key'))).status).toBe(401);
    expect((await post('decode', { payloads }, bearer(INGEST_KEY))).status).toBe(403);
    expect((await post('decode', { payload: [] }, bearer(ADMIN_KEY))).status).toBe(400);
    const tampered = {
      ...payloads[0]!,
      data: Buffer.from('not ciphertext at all, far too short?').toString('base64'),
    };
    const bad = await post('decode', { payloads: [tampered] }, bearer(ADMIN_KEY));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('undecodable');
  });

  it('signs a browser in with an admin key: an HttpOnly cookie scoped to the codec, then accepted', async () => {
    const page = await fetch(`${stack.url}${CODEC}/sign-in`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post">');
    const signIn = (key: string) =>
      fetch(`${stack.url}${CODEC}/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ api_key: key }),
      });
    for (const key of ['wrong', INGEST_KEY]) {
      const refusedSignIn = await signIn(key);
      expect(refusedSignIn.status).toBe(401);
      expect(refusedSignIn.headers.get('set-cookie')).toBeNull();
    }
    const ok = await signIn(ADMIN_KEY);
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^escalate_codec_session=v1\./);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('Path=/v1/temporal-codec');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain(ADMIN_KEY);
    const session = cookie.split(';')[0]!;
    expect((await post('decode', { payloads: startedInput() }, { cookie: session })).status).toBe(200);
    expect((await post('decode', { payloads: startedInput() }, { cookie: `${session}x` })).status).toBe(401);
  });

  it('never opens a session for anything but an admin key (fuzzed form bodies)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.constantFrom(INGEST_KEY, `${ADMIN_KEY} x`, ADMIN_KEY.slice(0, -1), ADMIN_KEY.toUpperCase()),
        ),
        async (apiKey) => {
          const res = await fetch(`${stack.url}${CODEC}/sign-in`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ api_key: apiKey }),
          });
          expect(res.headers.get('set-cookie')).toBeNull();
          expect([400, 401]).toContain(res.status);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('answers the Web UI origin (and only it) with CORS, credentials and the headers the UI sends', async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.url}${CODEC}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
    const allowed = await preflight(UI_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    const other = await preflight('http://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const actual = await post(
      'decode',
      { payloads: startedInput() },
      { ...bearer(ADMIN_KEY), origin: UI_ORIGIN },
    );
    expect(actual.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(actual.headers.get('vary')).toContain('Origin');
  });

  it("decodes for the Temporal CLI's --codec-endpoint (workflow show)", async () => {
    const workflowId = violationWorkflowId(ticketed.event_id as string);
    // Asynchronously: the codec endpoint the CLI calls is served by this very process.
    const show = async (...codec: string[]) =>
      (
        await execFileAsync(
          inject('temporalCli'),
          [
            'workflow',
            'show',
            '--address',
            inject('temporalAddress'),
            '-w',
            workflowId,
            '--output',
            'json',
            ...codec,
          ],
          { encoding: 'utf8', timeout: 60_000 },
        )
      ).stdout;
    // JSON output keeps payload data in base64: read the run's input as the CLI printed it.
    const input = (json: string) => {
      const [started] = (
        JSON.parse(json) as { events: Record<string, { input: { payloads: JsonPayload[] } }>[] }
      ).events;
      return dataText(started!.workflowExecutionStartedEventAttributes!.input.payloads[0]!);
    };
    expect(input(await show())).not.toContain(ticketed.user_email as string);
    const decoded = await show(
      '--codec-endpoint',
      `${stack.url}${CODEC}`,
      '--codec-auth',
      `Bearer ${ADMIN_KEY}`,
    );
    expect(input(decoded)).toContain(ticketed.user_email as string);
  });

  it('answers 404 while encryption is off', async () => {
    // The codec's router alone: it needs nothing else of the API's dependencies.
    const app = new Hono().route(
      '/v1',
      temporalCodecRouter({
        apiKeys: parseApiKeys(`${ADMIN_KEY}:admin`),
        logger: createLogger({ level: 'silent' }),
      } as ApiDeps),
    );
    const res = await app.request(`${CODEC}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(ADMIN_KEY) },
      body: JSON.stringify({ payloads: [] }),
    });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('ESCALATE_PAYLOAD_KEY');
  });
});
