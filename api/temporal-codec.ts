import { createRoute, z } from '@hono/zod-openapi';
import type { Payload } from '@temporalio/common';
import { getCookie, setCookie } from 'hono/cookie';
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import { findKey } from './auth.js';
import {
  CODEC_COOKIE,
  CODEC_SESSION_SECONDS,
  issueCodecSession,
  signInPage,
  verifyCodecSession,
} from './codec-session.js';
import type { ApiDeps } from './deps.js';
import type { AppEnv } from './env.js';
import { apiError } from './errors.js';
import { jsonBody } from './json-body.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent } from './schemas.js';

/**
 * Temporal's codec-server protocol on `/v1/temporal-codec/{decode,encode}`, so that the Web UI
 * and `temporal --codec-endpoint` show escalate's encrypted payloads decoded. Admin only: a
 * bearer admin key, or the browser session `/v1/temporal-codec/sign-in` sets (the Web UI sends
 * cookies, not our key). CORS admits the Web UI origins of ESCALATE_TEMPORAL_UI_ORIGINS with
 * credentials and the headers the UI sends (`Content-Type`, `X-Namespace`, `Authorization`).
 */
export const CODEC_PATH = '/v1/temporal-codec';
/** Temporal's payload size limit is 2 MB; the UI sends one event's payloads per request. */
const MAX_CODEC_BYTES = 8 * 1024 * 1024;
/** A payload is a few JSON values (metadata entries, data); the UI sends a page of them at a time. */
const MAX_CODEC_VALUES = 200_000;

const Base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64');
const PayloadJson = z
  .object({ metadata: z.record(z.string(), Base64).optional(), data: Base64.optional() })
  .openapi('CodecPayload');
const PayloadsJson = z
  .object({ payloads: z.array(PayloadJson).max(10_000) })
  .openapi('CodecPayloads', { description: 'Protobuf JSON of temporal.api.common.v1.Payloads' });
type PayloadJson = z.infer<typeof PayloadJson>;

const fromJson = (p: PayloadJson): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
  ),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});
const b64 = (bytes: Uint8Array | null | undefined) =>
  Buffer.from(bytes ?? new Uint8Array()).toString('base64');
const toJson = (p: Payload): PayloadJson => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
  data: b64(p.data),
});

/** ESCALATE_TEMPORAL_UI_ORIGINS: comma-separated Web UI origins the codec endpoint admits (CORS). */
export function temporalUiOriginsFromEnv(env = process.env, fallback: string[] = []): string[] {
  const raw = env.ESCALATE_TEMPORAL_UI_ORIGINS;
  if (!raw?.trim()) return fallback;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((origin) => {
      const url = new URL(origin);
      if (url.origin !== origin.replace(/\/$/, ''))
        throw new Error(`ESCALATE_TEMPORAL_UI_ORIGINS: ${origin} is not an origin (scheme://host[:port])`);
      return url.origin;
    });
}

/** Bearer admin key or a valid session cookie; ingest keys are refused (payloads hold personal data). */
function codecAuth(deps: ApiDeps) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
    const cookie = getCookie(c, CODEC_COOKIE);
    const key = bearer
      ? findKey(deps.apiKeys, bearer[1]!.trim())
      : cookie
        ? verifyCodecSession(deps.apiKeys, cookie)
        : undefined;
    if (!key) {
      c.header('WWW-Authenticate', 'Bearer realm="escalate"');
      return apiError(c, 401, 'unauthorized', 'an admin API key or a codec session is required');
    }
    if (key.scope !== 'admin')
      return apiError(c, 403, 'forbidden', 'decoding payloads needs an admin API key');
    c.set('actor', key.label);
    c.set('scope', key.scope);
    await next();
  });
}

const text64 = (text: string) => b64(Buffer.from(text));
/** Documentation examples: what the Web UI sends to each endpoint. */
const EXAMPLES = {
  decode: {
    payloads: [
      {
        metadata: { encoding: text64('binary/encrypted'), 'encryption-key-id': text64('9c1b2f6a0d3e4b57') },
        data: 'p4n0Zq3b1v8Yc2Fk0tH6mS9eQx5uJw7L/2RiG3oA1yNfKc8Vd4Es6Tb0Xh+Mz2Uq',
      },
    ],
  },
  encode: {
    payloads: [{ metadata: { encoding: text64('json/plain') }, data: text64('{"status":"resolved"}') }],
  },
};

const route = (op: 'decode' | 'encode') =>
  createRoute({
    method: 'post',
    path: `/temporal-codec/${op}`,
    operationId: `${op}Payloads`,
    tags: ['temporal-codec'],
    summary: op === 'decode' ? 'Decrypt Temporal payloads (codec server)' : 'Encrypt Temporal payloads',
    description:
      "Temporal's codec-server protocol, for the Web UI and `temporal --codec-endpoint`. Admin key, or " +
      'the session cookie of `/v1/temporal-codec/sign-in`. 404 while ESCALATE_PAYLOAD_KEY is unset.',
    request: {
      body: {
        content: { 'application/json': { schema: PayloadsJson, example: EXAMPLES[op] } },
        required: true,
      },
    },
    responses: {
      200: jsonContent(PayloadsJson, 'The payloads, converted'),
      400: errorResponse('Not a Payloads document, or a payload that cannot be decrypted'),
      401: errorResponse('No admin key or session'),
      404: errorResponse('Payload encryption is off'),
    },
  });

export function temporalCodecRouter(deps: ApiDeps) {
  const router = createRouter();
  const origins = deps.temporalUiOrigins ?? [];
  router.use(
    '/temporal-codec/*',
    cors({
      origin: (origin) => (origins.includes(origin) ? origin : null),
      allowMethods: ['POST'],
      allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
      credentials: true,
      maxAge: 600,
    }),
  );
  const auth = codecAuth(deps);
  const body = jsonBody(MAX_CODEC_BYTES, MAX_CODEC_VALUES);
  for (const op of ['decode', 'encode'] as const) {
    router.use(`/temporal-codec/${op}`, auth, body);
    router.openapi(route(op), async (c) => {
      const codec = deps.payloadCodec;
      if (!codec)
        return apiError(c, 404, 'not_found', 'payload encryption is off (ESCALATE_PAYLOAD_KEY is not set)');
      const { payloads } = c.req.valid('json');
      try {
        const converted = await codec[op](payloads.map(fromJson));
        return c.json({ payloads: converted.map(toJson) }, 200);
      } catch (err) {
        return apiError(c, 400, 'undecodable', (err as Error).message);
      }
    });
  }

  const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
  router.openapi(
    createRoute({
      method: 'get',
      path: '/temporal-codec/sign-in',
      operationId: 'getCodecSignInPage',
      tags: ['temporal-codec'],
      summary: 'Sign-in page for the codec session (browser)',
      description: 'A plain form asking for an admin API key; no authentication.',
      security: [],
      responses: { 200: html('The form') },
    }),
    (c) => c.html(signInPage(), 200),
  );
  router.openapi(
    createRoute({
      method: 'post',
      path: '/temporal-codec/sign-in',
      operationId: 'createCodecSession',
      tags: ['temporal-codec'],
      summary: 'Start a codec session (sets an HttpOnly cookie)',
      description:
        'With an admin key, sets `escalate_codec_session` (path /v1/temporal-codec, 8 hours): the ' +
        'Web UI sends it to the codec endpoint with "Include cross-origin credentials". ' +
        '`SameSite=Strict` over HTTP, `SameSite=None; Secure` over HTTPS.',
      security: [],
      request: {
        body: {
          content: {
            'application/x-www-form-urlencoded': { schema: z.object({ api_key: z.string().max(512) }) },
          },
          required: true,
        },
      },
      responses: { 200: html('Signed in'), 401: html('Not an admin API key') },
    }),
    async (c) => {
      const presented = c.req.valid('form').api_key.trim();
      const key = presented ? findKey(deps.apiKeys, presented) : undefined;
      if (key?.scope !== 'admin') return c.html(signInPage('Not an admin API key.'), 401);
      // Cross-site Web UIs (another domain over HTTPS) need SameSite=None, which requires Secure.
      const https = new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
      setCookie(c, CODEC_COOKIE, issueCodecSession(key), {
        path: CODEC_PATH,
        httpOnly: true,
        secure: https,
        sameSite: https ? 'None' : 'Strict',
        maxAge: CODEC_SESSION_SECONDS,
      });
      deps.logger.info({ actor: key.label }, 'temporal codec session issued');
      return c.html(signInPage(`Signed in as ${key.label} for ${CODEC_SESSION_SECONDS / 3600} hours.`), 200);
    },
  );
  return router;
}
