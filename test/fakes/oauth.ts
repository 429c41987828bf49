/**
 * The OAuth 2.0 authorization server half of the fakes (Atlassian's auth.atlassian.com, a
 * ServiceNow instance's oauth_token.do): it issues real-looking bearer tokens — HS256-signed JWTs
 * with `exp` — for the client credentials grant (and the password grant when users are given),
 * verifies them on API calls (signature, expiry, revocation), and counts token requests so tests
 * can assert caching.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export interface FakeOAuthOptions {
  clientId: string;
  clientSecret: string;
  /** Token lifetime (Atlassian: 3600 s; ServiceNow: 1800 s by default). */
  ttlSeconds?: number;
  /** Password grant users (ServiceNow); absent: only client credentials. */
  users?: Record<string, string>;
  /** `aud` claim. */
  audience: string;
}

export type TokenReply = { status: number; body: Record<string, unknown> };

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export class FakeOAuth {
  readonly #key = randomBytes(32);
  readonly #issued = new Set<string>();
  readonly #revoked = new Set<string>();
  tokenRequests = 0;
  /** Grant types asked for, in order. */
  readonly grants: string[] = [];

  constructor(private readonly opts: FakeOAuthOptions) {}

  get ttlSeconds(): number {
    return this.opts.ttlSeconds ?? 3600;
  }

  #sign(claims: Record<string, unknown>): string {
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const body = b64url(JSON.stringify(claims));
    const sig = createHmac('sha256', this.#key).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${sig}`;
  }

  /** Answers a token request given its form (or JSON) parameters, as RFC 6749 §5 describes. */
  token(params: Record<string, string | undefined>): TokenReply {
    this.tokenRequests += 1;
    const grant = params.grant_type ?? '';
    this.grants.push(grant);
    const invalidClient = {
      status: 401,
      body: { error: 'invalid_client', error_description: 'Client authentication failed' },
    };
    if (params.client_id !== this.opts.clientId || params.client_secret !== this.opts.clientSecret)
      return invalidClient;
    let subject = params.client_id;
    if (grant === 'password') {
      const users = this.opts.users;
      if (!users) return { status: 400, body: { error: 'unsupported_grant_type' } };
      if (!params.username || users[params.username] !== params.password)
        return {
          status: 401,
          body: { error: 'access_denied', error_description: 'invalid user credentials' },
        };
      subject = params.username;
    } else if (grant !== 'client_credentials') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: grant } };
    }
    const now = Math.floor(Date.now() / 1000);
    const jti = randomUUID();
    this.#issued.add(jti);
    const token = this.#sign({
      sub: subject,
      aud: this.opts.audience,
      iat: now,
      nbf: now,
      exp: now + this.ttlSeconds,
      jti,
    });
    return {
      status: 200,
      body: { access_token: token, token_type: 'Bearer', expires_in: this.ttlSeconds, scope: 'useraccount' },
    };
  }

  /** Why an `Authorization: Bearer …` header is refused, or undefined when the token is valid. */
  refusal(header: string | undefined): string | undefined {
    const token = /^Bearer\s+(\S+)$/.exec(header ?? '')?.[1];
    if (!token) return 'missing bearer token';
    const [head, body, sig] = token.split('.');
    if (!head || !body || !sig) return 'malformed token';
    const expected = createHmac('sha256', this.#key).update(`${head}.${body}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as {
      exp: number;
      jti: string;
      aud: string;
    };
    if (claims.aud !== this.opts.audience) return 'wrong audience';
    if (claims.exp <= Date.now() / 1000) return 'token expired';
    if (this.#revoked.has(claims.jti)) return 'token revoked';
    return undefined;
  }

  /** Refuses every token issued so far (as a rotated signing key or a revoked grant would). */
  revokeAll(): void {
    for (const jti of this.#issued) this.#revoked.add(jti);
  }
}

/** Token request parameters from a form-encoded or JSON body (Atlassian's endpoint takes both). */
export function tokenParams(contentType: string | undefined, raw: string): Record<string, string> {
  if (/application\/json/i.test(contentType ?? '')) {
    try {
      const parsed = JSON.parse(raw) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}
