/**
 * A small forward proxy, as enterprise egress proxies behave: `CONNECT host:port` tunnels (HTTPS,
 * and HTTP through a tunnel) and absolute-URI HTTP requests, optional Basic proxy authentication
 * (407 with `Proxy-Authenticate` otherwise). It records what went through it, so tests can see
 * which requests used it and with which credentials.
 */
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

export interface ProxiedRequest {
  /** `CONNECT` or the HTTP method of a forwarded request. */
  method: string;
  /** `host:port` (CONNECT) or the absolute URL. */
  target: string;
  proxyAuthorization?: string;
}

export async function startFakeProxy(opts: { username?: string; password?: string } = {}) {
  const seen: ProxiedRequest[] = [];
  const expected =
    opts.username !== undefined
      ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`
      : undefined;
  const sockets = new Set<Socket>();
  const authorized = (req: IncomingMessage) => !expected || req.headers['proxy-authorization'] === expected;
  const record = (req: IncomingMessage, target: string) =>
    seen.push({
      method: req.method ?? '',
      target,
      ...(req.headers['proxy-authorization']
        ? { proxyAuthorization: req.headers['proxy-authorization'] }
        : {}),
    });

  const server = createServer((req, res) => {
    record(req, req.url ?? '');
    if (!authorized(req)) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="proxy"' }).end();
      return;
    }
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    record(req, req.url ?? '');
    if (!authorized(req)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\n\r\n',
      );
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host ?? '', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type FakeProxy = Awaited<ReturnType<typeof startFakeProxy>>;
