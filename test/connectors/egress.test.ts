/**
 * The egress policy on the address actually connected to (IP literals, resolved names, names that
 * change their answer), and bounded response bodies and messages.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setConnectPolicy } from '../../connectors/dispatcher.js';
import { EgressPolicy, egressConnectPolicy, type Resolver } from '../../connectors/egress.js';
import { ConnectorError, MAX_RESPONSE_BYTES, send } from '../../connectors/http.js';

let server: Server;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.setHeader('connection', 'close');
    if (req.url === '/huge') {
      res.writeHead(500, { 'content-type': 'text/plain' });
      // 1 MiB of lines: more than anyone should read or store.
      res.end(`${'boom\r\nX-Forged: yes\u0000 '.repeat(50_000)}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
// Back to the production default (the environment's policy) after a test sets its own.
afterEach(() => setConnectPolicy(egressConnectPolicy(EgressPolicy.fromEnv())));

async function failure(p: Promise<unknown>): Promise<ConnectorError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectorError);
    return err as ConnectorError;
  }
  throw new Error('expected a failure');
}

describe('egress policy', () => {
  it('denies link-local and cloud metadata addresses by default, not loopback or private ranges', () => {
    const policy = new EgressPolicy();
    for (const address of [
      '169.254.169.254',
      '169.254.0.1',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:169.254.169.254',
    ])
      expect(policy.refusal(address), address).toMatch(/ESCALATE_EGRESS_DENY/);
    for (const address of ['127.0.0.1', '::1', '10.1.2.3', '192.168.0.10', '8.8.8.8'])
      expect(policy.refusal(address), address).toBeUndefined();
  });

  it('with ESCALATE_EGRESS_ALLOW, reaches only the allowed space; a bad CIDR is refused at start', () => {
    const policy = EgressPolicy.fromEnv({ ESCALATE_EGRESS_ALLOW: '10.0.0.0/8, 127.0.0.1/32' });
    expect(policy.refusal('10.20.30.40')).toBeUndefined();
    expect(policy.refusal('127.0.0.1')).toBeUndefined();
    expect(policy.refusal('192.168.1.1')).toMatch(/outside ESCALATE_EGRESS_ALLOW/);
    expect(policy.refusal('169.254.169.254')).toMatch(/ESCALATE_EGRESS_DENY/);
    expect(() => EgressPolicy.fromEnv({ ESCALATE_EGRESS_DENY: '10.0.0.0/33' })).toThrow(/not a CIDR/);
    expect(EgressPolicy.fromEnv({ ESCALATE_EGRESS_DENY: '' }).refusal('169.254.169.254')).toBeUndefined();
  });

  it('refuses an IP literal in the URL before connecting: a clear, permanent error', async () => {
    const err = await failure(
      send({ method: 'GET', url: 'http://169.254.169.254/latest/meta-data/iam', headers: {} }, 5_000),
    );
    expect(err.retryable).toBe(false);
    expect(err.remoteCode).toBe('egress_denied');
    expect(err.message).toMatch(/egress denied: 169\.254\.169\.254 is inside ESCALATE_EGRESS_DENY/);
  });

  it('checks every resolution of a host name: a name that rebinds to a denied address is refused', async () => {
    const answers = ['127.0.0.1', '127.0.0.2'];
    const resolve: Resolver = (_host, _opts, cb) => cb(null, [{ address: answers.shift()!, family: 4 }]);
    setConnectPolicy(egressConnectPolicy(new EgressPolicy({ deny: '127.0.0.2/32' }), resolve));
    const req = { method: 'GET' as const, url: `http://rebind.test:${port}/first`, headers: {} };
    const ok = await send(req, 5_000);
    expect(ok.status).toBe(200);
    const err = await failure(send({ ...req, url: `http://rebind.test:${port}/second` }, 5_000));
    expect(err.remoteCode).toBe('egress_denied');
    expect(err.message).toMatch(/rebind\.test resolves to 127\.0\.0\.2 is inside ESCALATE_EGRESS_DENY/);
    expect(hits).not.toContain('/second');
  });

  it('checks a name resolved by the system (localhost when loopback is denied)', async () => {
    setConnectPolicy(egressConnectPolicy(new EgressPolicy({ deny: '127.0.0.0/8,::1/128' })));
    const err = await failure(send({ method: 'GET', url: `http://localhost:${port}/x`, headers: {} }, 5_000));
    expect(err.remoteCode).toBe('egress_denied');
  });
});

describe('remote bodies and messages', () => {
  it('reads at most 64 KiB and stores a short, single-line message', async () => {
    const res = await send({ method: 'GET', url: `http://127.0.0.1:${port}/huge`, headers: {} }, 5_000);
    expect(res.status).toBe(500);
    expect(res.truncated).toBe(true);
    expect(Buffer.byteLength(res.text)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    const err = new ConnectorError(`HTTP 500: ${res.text}`, { retryable: true, status: 500 });
    expect(err.message.length).toBeLessThanOrEqual(1000);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none is left.
    expect(err.message).not.toMatch(/[\u0000-\u001f]/);
  });
});
