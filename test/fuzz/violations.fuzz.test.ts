/**
 * Property-based tests on POST /v1/violations: whatever arrives,
 * the answer is 200/202/400/409/413/415 with the API's error shape, never a 5xx; valid events are
 * stored and started, invalid ones leave no row and no workflow behind.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../api/json-body.js';
import { EVENT_TYPES, MAX_EVENT_BYTES, violationEventSchema } from '../../domain/event.js';
import { SEVERITIES } from '../../domain/severity.js';
import { violationWorkflowId } from '../../workflows/contract.js';
import { makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';
import {
  anyJson,
  anythingAsJsonText,
  detailPaths,
  expectAlive,
  expectErrorShape,
  expectHandled,
  hasUnstorable,
  hostileChars,
  hostileString,
  nested,
  nestedText,
  runs,
  type Sent,
  send,
  tableCounts,
  tooDeep,
  unstorableText,
  workflowExists,
} from './fuzz-kit.js';

const PATH = '/v1/violations';
const ALLOWED = [200, 202, 400, 409, 413, 415] as const;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});
// Issue 8: the process never crashes; checked after every property and explicit case.
afterEach(async () => {
  if (stack) await expectAlive(stack);
});

const violationRows = async () => (await tableCounts(stack, ['violations'])).violations!;
const post = (body: string | Uint8Array, contentType: string | null = 'application/json') =>
  send(stack, PATH, { method: 'POST', body, contentType });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An answer that stored nothing: no new row, and (for a well-formed id) no row, no workflow. */
async function expectNothingWritten(before: number, eventId: unknown, context: string) {
  expect(await violationRows(), `${context}: rows written for a rejected body`).toBe(before);
  if (typeof eventId === 'string' && UUID.test(eventId)) {
    const [row] = await stack.database.sql`select 1 from violations where event_id = ${eventId}`;
    expect(row, `${context}: row for rejected ${eventId}`).toBeUndefined();
    expect(await workflowExists(stack, violationWorkflowId(eventId)), `${context}: workflow started`).toBe(
      false,
    );
  }
}

/** A 202 stored exactly what was posted (unknown fields and all) and acknowledged the workflow start. */
async function expectStored(res: Sent, sent: Record<string, unknown>, context: string) {
  const id = sent.event_id as string;
  expect(res.status, `${context} → ${res.text}`).toBe(202);
  expect(res.json).toEqual({
    event_id: id,
    workflow_id: violationWorkflowId(id),
    status_url: `/v1/violations/${id}`,
  });
  const view = await send(stack, `/v1/violations/${id}`);
  expect(view.status, view.text).toBe(200);
  const { payload } = view.json as { payload: Record<string, unknown> };
  // JSON has no -0: PostgreSQL's jsonb (like JSON.stringify) stores it as 0.
  const asJson = JSON.parse(JSON.stringify(sent)) as Record<string, unknown>;
  expect(payload).toEqual({ ...asJson, occurred_at: sent.occurred_at ?? expect.any(String) });
  expect(await workflowExists(stack, violationWorkflowId(id))).toBe(true);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: valid events, and mutations of them with a known (or oracle-decided) verdict.
// ---------------------------------------------------------------------------------------------

const KNOWN = [
  'event_id',
  'event_type',
  'summary',
  'severity',
  'risk_score',
  'occurred_at',
  'source',
  'user_email',
  'model',
  'provider',
  'platform_id',
  'policy',
  'classifications',
  'details',
  'tags',
] as const;
type Field = (typeof KNOWN)[number];
const STRING_FIELDS: Field[] = [
  'event_id',
  'event_type',
  'summary',
  'severity',
  'occurred_at',
  'source',
  'user_email',
  'model',
  'provider',
  'platform_id',
];
const OBJECT_FIELDS: Field[] = ['policy', 'details', 'tags'];

/** Unicode text (graphemes: astral, combining...) within a UTF-16 length range, storable. */
const text = (min: number, max: number, graphemes = 30) =>
  fc
    .string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, graphemes) })
    .filter((s) => s.length >= min && s.length <= max && !unstorableText(s));
const shortText = text(1, 256);
const key = fc.string({ maxLength: 16 }).filter((k) => k !== '__proto__');
const unit = fc.double({ min: 0, max: 1, noNaN: true });

const instant = fc.date({
  min: new Date('1970-01-01T00:00:00Z'),
  max: new Date('2100-01-01T00:00:00Z'),
  noInvalidDate: true,
});
const pad = (n: number) => String(n).padStart(2, '0');
const withOffset = (d: Date, minutes: number) => {
  const local = new Date(d.getTime() + minutes * 60_000).toISOString().slice(0, 19);
  const abs = Math.abs(minutes);
  return `${local}${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
};
const occurredAt = fc.oneof(
  instant.map((d) => d.toISOString()),
  fc.tuple(instant, fc.integer({ min: -14 * 60, max: 14 * 60 })).map(([d, m]) => withOffset(d, m)),
);
const email = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,10}[a-z0-9]$/),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/),
    fc.constantFrom('com', 'org', 'io', 'museum'),
  )
  .filter(([local]) => !local.includes('..'))
  .map(([local, domain, tld]) => `${local}@${domain}.${tld}`);

/** Replaced with a fresh UUID at send time, so shrinking never replays an accepted event_id. */
const FRESH_ID = '<fresh>';

const validEvent: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.record({
      event_id: fc.constant(FRESH_ID),
      event_type: fc.constantFrom(...EVENT_TYPES),
      summary: text(1, 1000, 80),
    }),
    fc.oneof(
      fc.record({ severity: fc.constantFrom(...SEVERITIES) }),
      fc.record({ risk_score: unit }),
      fc.record({ severity: fc.constantFrom(...SEVERITIES), risk_score: unit }),
    ),
    fc.record(
      {
        occurred_at: occurredAt,
        source: shortText,
        user_email: email,
        model: shortText,
        provider: shortText,
        platform_id: shortText,
        policy: fc.record(
          {
            id: shortText,
            name: text(0, 512),
            action: fc.constantFrom('block', 'coach', 'redact', 'allow'),
          },
          { requiredKeys: [] },
        ),
        classifications: fc.array(
          fc.record({ type: shortText, confidence: unit }, { requiredKeys: ['type'] }),
          {
            maxLength: 4,
          },
        ),
        details: fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
        tags: fc.dictionary(text(1, 128, 12), text(0, 512, 20), { maxKeys: 4 }),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(
      key.filter((k) => !(KNOWN as readonly string[]).includes(k)),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 3 },
    ),
  )
  .map(([required, severity, optional, unknown]) => ({ ...unknown, ...required, ...severity, ...optional }));

interface Case {
  label: string;
  body: Record<string, unknown>;
  /** `oracle`: the domain schema + storability decide (for mutations that may or may not be valid). */
  verdict: 'valid' | 'invalid' | 'oracle';
  /** Paths the 400 must name. */
  paths?: string[];
}

const wrongTypeFor = (field: Field, v: unknown): boolean => {
  if (STRING_FIELDS.includes(field)) return typeof v !== 'string';
  if (field === 'risk_score') return typeof v !== 'number';
  if (field === 'classifications') return !Array.isArray(v);
  if (OBJECT_FIELDS.includes(field)) return v === null || typeof v !== 'object' || Array.isArray(v);
  return false;
};
const someValue = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(key, fc.integer(), { maxKeys: 2 }),
);

const withField = (e: Record<string, unknown>, field: string, v: unknown) => ({ ...e, [field]: v });
const without = (e: Record<string, unknown>, ...fields: string[]) =>
  Object.fromEntries(Object.entries(e).filter(([k]) => !fields.includes(k)));

const mutations: fc.Arbitrary<Case>[] = [
  validEvent.map((body): Case => ({ label: 'valid', body, verdict: 'valid' })),
  // Wrong type per field.
  fc
    .tuple(validEvent, fc.constantFrom(...KNOWN), someValue)
    .map(
      ([e, field, v]): Case =>
        wrongTypeFor(field, v)
          ? { label: `wrong type ${field}`, body: withField(e, field, v), verdict: 'invalid', paths: [field] }
          : { label: `other value ${field}`, body: withField(e, field, v), verdict: 'oracle' },
    ),
  // Missing required fields (severity/risk_score: at least one).
  fc.tuple(validEvent, fc.constantFrom('event_id', 'event_type', 'summary', 'severity+risk_score')).map(
    ([e, f]): Case =>
      f === 'severity+risk_score'
        ? {
            label: 'no severity',
            body: without(e, 'severity', 'risk_score'),
            verdict: 'invalid',
            paths: ['severity'],
          }
        : { label: `missing ${f}`, body: without(e, f), verdict: 'invalid', paths: [f] },
  ),
  // Extra unknown top-level fields (kept in the payload), hostile keys and values included.
  fc.tuple(validEvent, fc.dictionary(hostileString(12), anyJson(3), { minKeys: 1, maxKeys: 4 })).map(
    ([e, extra]): Case => ({
      label: 'unknown fields',
      body: { ...without(extra, ...KNOWN, '__proto__'), ...e },
      verdict: 'oracle',
    }),
  ),
  // Deep nesting in details, around the depth limit.
  fc
    .tuple(
      validEvent,
      fc.integer({ min: 50, max: MAX_JSON_DEPTH + 20 }),
      fc.constantFrom('object' as const, 'array' as const),
    )
    .map(
      ([e, depth, kind]): Case => ({
        label: `details nested ${depth} (${kind})`,
        body: withField(e, 'details', { deep: nested(depth, 'leaf', kind) }),
        verdict: 'oracle',
      }),
    ),
  // Long strings around the limits (summary ≤ 1000, short fields ≤ 256, tags ≤ 512), and big details.
  fc
    .tuple(
      validEvent,
      fc.constantFrom(
        ['summary', 1000],
        ['source', 256],
        ['model', 256],
        ['platform_id', 256],
        ['user_email', 320],
      ) as unknown as fc.Arbitrary<[Field, number]>,
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom('x', 'é', '😀'),
    )
    .map(([e, [field, max], delta, ch]): Case => {
      let v = ch.repeat(Math.ceil((max + delta) / ch.length)).slice(0, Math.max(1, max + delta));
      if (v.length > 1 && /[\ud800-\udbff]$/.test(v)) v = `${v.slice(0, -1)}x`;
      if (field === 'user_email') v = `${'a'.repeat(Math.max(1, max + delta - 12))}@example.com`;
      return { label: `${field} of ${v.length}`, body: withField(e, field, v), verdict: 'oracle' };
    }),
  fc.tuple(validEvent, fc.integer({ min: 1_000, max: 150_000 })).map(
    ([e, n]): Case => ({
      label: `details blob ${n}`,
      body: withField(e, 'details', { blob: 'z'.repeat(n) }),
      verdict: 'valid',
    }),
  ),
  // Any unicode (lone surrogates and NUL included) in a string field, a tag, a details key.
  fc
    .tuple(
      validEvent,
      fc.constantFrom<Field | 'tags.key' | 'details.key' | 'tags.value' | 'policy.name'>(
        'summary',
        'source',
        'model',
        'tags.key',
        'tags.value',
        'details.key',
        'policy.name',
      ),
      hostileString(30),
    )
    .map(([e, where, s]): Case => {
      const body = { ...e };
      if (where === 'tags.key') body.tags = { [s]: 'v' };
      else if (where === 'tags.value') body.tags = { k: s };
      else if (where === 'details.key') body.details = { [s]: 1 };
      else if (where === 'policy.name') body.policy = { name: s };
      else body[where] = s;
      return { label: `unicode in ${where}`, body, verdict: 'oracle' };
    }),
  // NUL or a lone surrogate somewhere: always refused, and the path named.
  fc
    .tuple(
      validEvent,
      fc.constantFrom('\u0000', '\ud800', '\udc00', 'a\ud83d', '\ude00b'),
      fc.constantFrom('summary', 'details', 'tags', 'unknown', 'classifications'),
    )
    .map(([e, bad, where]): Case => {
      const s = `x${bad}y`;
      const cases: Record<string, [Record<string, unknown>, string]> = {
        summary: [withField(e, 'summary', s), 'summary'],
        details: [withField(e, 'details', { a: [1, { b: s }] }), 'details.a[1].b'],
        tags: [withField(e, 'tags', { [s]: 'v' }), `tags.${s}`],
        unknown: [{ ...e, zz_extra: s }, 'zz_extra'],
        classifications: [withField(e, 'classifications', [{ type: s }]), 'classifications[0].type'],
      };
      const [body, path] = cases[where]!;
      return { label: `unstorable in ${where}`, body, verdict: 'invalid', paths: [path] };
    }),
  // Enum, format and range violations.
  fc
    .tuple(
      validEvent,
      fc.oneof(
        fc.tuple(fc.constant('event_type'), hostileString(20)),
        fc.tuple(fc.constant('severity'), hostileString(10)),
        fc.tuple(
          fc.constant('event_id'),
          fc.oneof(
            hostileString(40),
            fc.uuid().map((u) => u.toUpperCase()),
          ),
        ),
        fc.tuple(
          fc.constant('occurred_at'),
          fc.oneof(
            hostileString(30),
            fc.date().map((d) => String(d)),
          ),
        ),
        fc.tuple(fc.constant('user_email'), hostileString(30)),
        fc.tuple(
          fc.constant('risk_score'),
          fc.oneof(
            fc.double({ noNaN: true, noDefaultInfinity: true }),
            fc.constantFrom(-0.0001, 1.0001, 1e308),
          ),
        ),
      ),
    )
    .map(
      ([e, [field, v]]): Case => ({ label: `bad ${field}`, body: withField(e, field, v), verdict: 'oracle' }),
    ),
];

function expectedVerdict(c: Case): 'valid' | 'invalid' {
  if (c.verdict !== 'oracle') return c.verdict;
  const ok = violationEventSchema.safeParse(c.body).success && !hasUnstorable(c.body) && !tooDeep(c.body);
  return ok ? 'valid' : 'invalid';
}

// ---------------------------------------------------------------------------------------------

describe('POST /v1/violations under fuzzing', () => {
  it('arbitrary JSON values: 400 with the error shape, nothing written', async () => {
    await fc.assert(
      fc.asyncProperty(anyJson(5), async (value) => {
        const before = await violationRows();
        const res = await post(JSON.stringify(value));
        expectHandled(res, ALLOWED, 'jsonValue');
        expect(res.status).toBe(400);
        await expectNothingWritten(before, undefined, 'jsonValue');
      }),
      runs(100),
    );
  });

  it('fc.anything() serialised as a client would: 400, nothing written', async () => {
    await fc.assert(
      fc.asyncProperty(anythingAsJsonText, async (body) => {
        const before = await violationRows();
        const res = await post(body);
        expectHandled(res, ALLOWED, `anything ${body.slice(0, 80)}`);
        expect(res.status).toBe(400);
        await expectNothingWritten(before, undefined, 'anything');
      }),
      runs(100),
    );
  });

  it('mutated events: valid → 202 and stored as posted; invalid → 400 naming the fields, nothing written', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(...mutations), async (c) => {
        const body = c.body.event_id === FRESH_ID ? { ...c.body, event_id: randomUUID() } : c.body;
        const sent = JSON.stringify(body);
        const verdict = expectedVerdict({ ...c, body });
        const before = await violationRows();
        const res = await post(sent);
        expectHandled(res, ALLOWED, c.label);
        if (verdict === 'valid') {
          await expectStored(res, body, c.label);
          return;
        }
        const tooLarge = Buffer.byteLength(sent) > MAX_EVENT_BYTES;
        expect(res.status, `${c.label} → ${res.text.slice(0, 300)}`).toBe(tooLarge ? 413 : 400);
        if (!tooLarge) {
          expect((res.json as { error: { code: string } }).error.code).toBe('validation_failed');
          if (c.paths) expect(detailPaths(res), c.label).toEqual(expect.arrayContaining(c.paths));
        }
        await expectNothingWritten(before, body.event_id, c.label);
      }),
      runs(120),
    );
  });

  it('random bytes as the body: 400/413/415, never 5xx, nothing written', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }),
          // Valid JSON with bytes flipped, inserted or cut.
          fc
            .tuple(
              validEvent,
              fc.array(
                fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'cut')),
                {
                  minLength: 1,
                  maxLength: 4,
                },
              ),
            )
            .map(([e, edits]) => {
              const bytes = [...Buffer.from(JSON.stringify({ ...e, event_id: randomUUID() }))];
              for (const [at, b, op] of edits) {
                const i = at % (bytes.length + 1);
                if (op === 'set' && i < bytes.length) bytes[i] = b;
                else if (op === 'insert') bytes.splice(i, 0, b);
                else bytes.splice(i, 1);
              }
              return Uint8Array.from(bytes);
            }),
        ),
        fc.constantFrom('application/json', 'application/json; charset=utf-8'),
        async (bytes, type) => {
          const before = await violationRows();
          const res = await post(bytes, type);
          expectHandled(res, ALLOWED, `bytes ${Buffer.from(bytes).toString('hex').slice(0, 80)}`);
          if (res.status === 202) {
            const [row] = await stack.database
              .sql`select 1 from violations where event_id = ${(res.json as { event_id: string }).event_id}`;
            expect(row).toBeDefined();
          } else await expectNothingWritten(before, undefined, 'bytes');
        },
      ),
      runs(120),
    );
  });

  it('truncated JSON: 400 invalid_json, nothing written', async () => {
    await fc.assert(
      fc.asyncProperty(
        validEvent,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        async (e, cut) => {
          const full = JSON.stringify({ ...e, event_id: randomUUID() });
          const bytes = Buffer.from(full);
          const truncated = bytes.subarray(0, Math.floor(cut * bytes.length));
          const before = await violationRows();
          const res = await post(truncated);
          expectHandled(res, [400], 'truncated');
          // A cut inside a multi-byte character is an encoding error; anywhere else, a JSON one.
          expect(['invalid_json', 'invalid_encoding']).toContain(
            (res.json as { error: { code: string } }).error.code,
          );
          await expectNothingWritten(before, undefined, 'truncated');
        },
      ),
      runs(60),
    );
  });

  const JSON_TYPES = [
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/json;charset=UTF-8',
    'application/vnd.api+json',
    'application/problem+json',
  ];
  const NOT_JSON = [
    'text/plain',
    'text/plain; charset=utf-8',
    'text/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'application/xml',
    'application/jsonp',
    'application/json5',
    'application/octet-stream',
    'json',
    '*/*',
  ];
  it('content types: JSON types accepted, everything else 415 (nothing written)', async () => {
    await fc.assert(
      fc.asyncProperty(
        validEvent,
        fc.oneof(
          fc.constantFrom(...JSON_TYPES).map((t) => ({ type: t as string | null, json: true })),
          fc.constantFrom(...NOT_JSON).map((t) => ({ type: t as string | null, json: false })),
          fc.constant({ type: null, json: false }),
          fc
            .string({ minLength: 1, maxLength: 40 })
            .filter((t) => !/json/i.test(t) && /^[\x21-\x7e][\x20-\x7e]*$/.test(t) && t === t.trim())
            .map((t) => ({ type: t as string | null, json: false })),
        ),
        async (e, { type, json }) => {
          const body = { ...e, event_id: randomUUID() };
          const before = await violationRows();
          const res = await post(JSON.stringify(body), type);
          expectHandled(res, ALLOWED, `content-type ${type}`);
          if (json) await expectStored(res, body, `content-type ${type}`);
          else {
            expect(res.status, `content-type ${type}`).toBe(415);
            await expectNothingWritten(before, body.event_id, `content-type ${type}`);
          }
        },
      ),
      runs(80),
    );
  });

  it('idempotency: same body (any key order, any whitespace) → 200, changed body → 409; one row, one workflow', async () => {
    await fc.assert(
      fc.asyncProperty(validEvent, fc.constantFrom(0, 2, '\t'), async (e, space) => {
        const body: Record<string, unknown> = { ...e, event_id: randomUUID() };
        const first = await post(JSON.stringify(body));
        await expectStored(first, body, 'first');
        const reordered = Object.fromEntries(Object.entries(body).reverse());
        const again = await post(JSON.stringify(reordered, null, space));
        expectHandled(again, [200], 'replay');
        expect(again.json).toEqual(first.json);
        const changed = await post(JSON.stringify({ ...body, summary: `${String(body.summary)}!` }));
        expectHandled(changed, [409], 'changed body');
        const rows = await stack.database.sql<{ n: number }[]>`
          select count(*)::int as n from violations where event_id = ${body.event_id as string}`;
        expect(rows[0]!.n).toBe(1);
      }),
      runs(40),
    );
  });
});

describe('POST /v1/violations explicit hostile cases', () => {
  const padded = (bytes: number) => {
    const e = makeEvent({ details: { pad: '' } });
    const base = Buffer.byteLength(JSON.stringify(e));
    return JSON.stringify(makeEvent({ event_id: e.event_id, details: { pad: 'p'.repeat(bytes - base) } }));
  };

  it('a body of exactly 256 KiB is accepted; one byte more is 413 (declared or streamed)', async () => {
    const exact = padded(MAX_EVENT_BYTES);
    expect(Buffer.byteLength(exact)).toBe(MAX_EVENT_BYTES);
    expectHandled(await post(exact), [202], 'exactly the limit');

    const over = padded(MAX_EVENT_BYTES + 1);
    expect(Buffer.byteLength(over)).toBe(MAX_EVENT_BYTES + 1);
    const before = await violationRows();
    const res = await post(over);
    expectHandled(res, [413], 'one byte over');
    expect((res.json as { error: { code: string } }).error.code).toBe('payload_too_large');

    // Chunked, no Content-Length: the limit is enforced while streaming.
    const streamed = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const url = new URL(stack.url);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: PATH,
          headers: { authorization: 'Bearer test-admin-key-0123456789', 'content-type': 'application/json' },
        },
        (r) => {
          let t = '';
          r.on('data', (c: Buffer) => {
            t += c.toString();
          });
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text: t }));
        },
      );
      req.on('error', reject);
      const chunk = Buffer.from(over);
      for (let i = 0; i < chunk.length; i += 16 * 1024) req.write(chunk.subarray(i, i + 16 * 1024));
      req.end();
    });
    expect(streamed.status, streamed.text).toBe(413);
    await expectNothingWritten(before, undefined, 'over the limit');
  });

  it('a 5 MB body is refused with 413 without being buffered', async () => {
    const res = await post(`{"details":"${'x'.repeat(5 * 1024 * 1024)}"}`);
    expectHandled(res, [413], '5 MB');
  });

  it('Content-Type text/plain → 415; no Content-Type with a body → 415', async () => {
    const body = JSON.stringify(makeEvent());
    expectHandled(await post(body, 'text/plain'), [415], 'text/plain');
    expectHandled(await post(body, null), [415], 'no content type');
  });

  it.each([
    ['0xff in an object', [0x7b, 0xff, 0x7d]],
    ['overlong "/"', [0x22, 0xc0, 0xaf, 0x22]],
    ['CESU-8 surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ['truncated sequence', [0x22, 0xe2, 0x82, 0x22]],
    ['code point past U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]],
  ])('invalid UTF-8 (%s) → 400 invalid_encoding', async (_, bytes) => {
    const before = await violationRows();
    const res = await post(Uint8Array.from(bytes));
    expectHandled(res, [400], 'invalid utf-8');
    expect((res.json as { error: { code: string } }).error.code).toBe('invalid_encoding');
    await expectNothingWritten(before, undefined, 'invalid utf-8');
  });

  it.each([
    ['truncated', '{"event_id": "'],
    ['trailing comma', '{"a":1,}'],
    ['single quotes', "{'a':1}"],
    ['NaN', '{"risk_score": NaN}'],
    ['comment', '{"a":1 /* x */}'],
    ['two documents', '{}{}'],
    ['empty', ''],
    ['whitespace', '  \n '],
  ])('not JSON (%s) → 400 invalid_json', async (_, body) => {
    const res = await post(body);
    expectHandled(res, [400], body);
    expect((res.json as { error: { code: string } }).error.code).toBe('invalid_json');
  });

  it.each([
    ['null', 'null'],
    ['array', '[]'],
    ['array of an event', JSON.stringify([makeEvent()])],
    ['number', '42'],
    ['string', '"event"'],
    ['boolean', 'true'],
  ])('JSON %s → 400 naming the body', async (_, body) => {
    const res = await post(body);
    expectHandled(res, [400], body);
    expect(detailPaths(res)).toContain('(body)');
  });

  it('an empty object → 400 naming every required field', async () => {
    const res = await post('{}');
    expectHandled(res, [400], '{}');
    expect(detailPaths(res)).toEqual(
      expect.arrayContaining(['event_id', 'event_type', 'summary', 'severity']),
    );
  });

  it('duplicate keys: the last one wins, consistently for validation and storage', async () => {
    const e = makeEvent();
    const winner = randomUUID();
    const text = JSON.stringify(e).replace('{', `{"event_id":"${randomUUID()}","summary":42,`);
    const res = await post(text.replace(/}$/, `,"event_id":"${winner}"}`));
    expectHandled(res, [202], 'duplicate keys');
    expect((res.json as { event_id: string }).event_id).toBe(winner);
    const [row] = await stack.database.sql`select payload from violations where event_id = ${winner}`;
    expect((row!.payload as { summary: string }).summary).toBe(e.summary);
    const [loser] = await stack.database
      .sql`select 1 from violations where event_id = ${e.event_id as string}`;
    expect(loser).toBeUndefined();
  });

  it('__proto__, constructor and prototype keys never pollute and are stored as plain data', async () => {
    const inject = '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}';
    const e = makeEvent({ severity: undefined, risk_score: 0.1 });
    const text = JSON.stringify(e)
      .replace('{', `{"__proto__":{"polluted":1,"severity":"critical"},`)
      .replace(
        '"details":{',
        `"details":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},`,
      )
      .replace('"tags":{', '"tags":{"__proto__":"x","constructor":"y","toString":"z",')
      .replace('"policy":{', `"policy":{"nested":${inject}},"zz":{`);
    const res = await post(text);
    expectHandled(res, [202, 400], '__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
    if (res.status === 202) {
      const view = await send(stack, `/v1/violations/${e.event_id as string}`);
      const { severity } = view.json as { severity: string };
      // The __proto__ member never stood in for a real field (risk 0.1 → low).
      expect(severity).toBe('low');
    }
  });

  it('NUL and lone surrogates (PostgreSQL cannot store them) → 400 naming the field, not 500', async () => {
    for (const [label, body, path] of [
      ['NUL in summary', makeEvent({ summary: 'a\u0000b' }), 'summary'],
      ['NUL in a details value', makeEvent({ details: { x: ['\u0000'] } }), 'details.x[0]'],
      ['NUL in a details key', makeEvent({ details: { 'k\u0000': 1 } }), 'details.k\u0000'],
      ['lone high surrogate', makeEvent({ summary: 'a\ud800' }), 'summary'],
      ['lone low surrogate in details', makeEvent({ details: { x: '\udc00' } }), 'details.x'],
      ['lone surrogate in an unknown field', makeEvent({ extra: { y: '\udbff!' } }), 'extra.y'],
    ] as const) {
      const before = await violationRows();
      const res = await post(JSON.stringify(body));
      expectHandled(res, [400], label);
      expect(detailPaths(res), label).toContain(path);
      await expectNothingWritten(before, body.event_id, label);
    }
    // A well-formed pair (astral character) is fine.
    expectHandled(await post(JSON.stringify(makeEvent({ summary: 'ok \ud83d\ude00' }))), [202], 'astral');
  });

  it(`nesting: depth 50 and ${MAX_JSON_DEPTH} accepted; deeper (up to 100,000) → 400, not a stack overflow`, async () => {
    for (const depth of [50, MAX_JSON_DEPTH - 2]) {
      const e = makeEvent({ details: { d: nested(depth) } });
      expect(tooDeep(e)).toBe(false);
      await expectStored(await post(JSON.stringify(e)), e, `depth ${depth}`);
    }
    for (const [depth, kind, where] of [
      [MAX_JSON_DEPTH, 'object', 'details'],
      [5_000, 'array', 'details'],
      [100_000, 'array', 'details'],
      [20_000, 'object', 'unknown'],
    ] as const) {
      const e = makeEvent({ details: { d: '<deep>' }, zz: '<deep>' });
      const deep = nestedText(depth, '1', kind);
      const text = JSON.stringify(e).replace(
        where === 'details' ? '{"d":"<deep>"}' : '"zz":"<deep>"',
        where === 'details' ? `{"d":${deep}}` : `"zz":${deep}`,
      );
      const before = await violationRows();
      const res = await post(text);
      expectHandled(res, [400, 413], `depth ${depth}`);
      await expectNothingWritten(before, e.event_id, `depth ${depth}`);
    }
  });

  it('hostile characters in every string field of a valid event are stored verbatim or refused, never 5xx', async () => {
    const chars = fc.sample(hostileChars, 50);
    for (const ch of new Set(chars)) {
      const e = makeEvent({
        summary: `s${ch}`,
        source: `src${ch}`,
        tags: { [`k${ch}`]: ch },
        details: { [ch]: ch },
      });
      const res = await post(JSON.stringify(e));
      expectHandled(res, [202, 400], JSON.stringify(ch));
      if (hasUnstorable(e)) expect(res.status).toBe(400);
      else await expectStored(res, e, JSON.stringify(ch));
    }
  });
});

describe('POST /v1/violations error shape', () => {
  it('every layer answers 4xx with the error shape', async () => {
    const unauth = await send(stack, PATH, { method: 'POST', json: makeEvent(), key: null });
    expectHandled(unauth, [401], 'no key');
    expectErrorShape(await post('nope'), 'bad json');
    expectErrorShape(await post('{}'), 'validation');
  });
});

describe('regressions: inputs that once answered 5xx', () => {
  // occurred_at passes z.iso.datetime but is outside PostgreSQL's timestamptz range (no year 0):
  // the insert fails with "date/time field value out of range", which must answer 400.
  it.each(['0000-01-01T00:00:00Z', '0001-01-01T00:30:00+01:00'])(
    'occurred_at %s → 400, not 500',
    async (occurred_at) => {
      const res = await post(JSON.stringify(makeEvent({ occurred_at })));
      expectHandled(res, [400], `occurred_at ${occurred_at}`);
    },
  );
});
