/**
 * Fault injection shared by the SIEM fakes: a queue of next answers (a status with an optional
 * Retry-After and body, a delay, a hang that never answers, a dropped connection, or a lost
 * response after the request was processed), request counters, and a tiny server harness.
 */
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type HttpBindings, serve } from '@hono/node-server';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export type Fault =
  /** Answer with this status (and body, default: the fake's own error body for it). */
  | {
      kind: 'status';
      status: number;
      retryAfter?: string | number;
      body?: unknown;
      headers?: Record<string, string>;
    }
  /** Wait, then handle the request normally. */
  | { kind: 'delay'; ms: number }
  /** Never answer (until the fake is closed). */
  | { kind: 'hang' }
  /** Destroy the socket before handling the request: nothing was processed. */
  | { kind: 'drop' }
  /** Handle the request (side effects happen), then destroy the socket: the answer is lost. */
  | { kind: 'lose-response' };

export type QueuedFault = Fault & { path?: string };

export type Env = { Bindings: HttpBindings };

export class Faults {
  private readonly queue: QueuedFault[] = [];
  private readonly hits = new Map<string, number>();
  private readonly hanging = new Set<() => void>();
  total = 0;

  /** Queue faults for the next requests (optionally only requests whose path starts with `path`). */
  push(...faults: QueuedFault[]): this {
    this.queue.push(...faults);
    return this;
  }

  status(
    status: number,
    opts: Omit<Extract<Fault, { kind: 'status' }>, 'kind' | 'status'> & { path?: string } = {},
  ) {
    return this.push({ kind: 'status', status, ...opts });
  }

  delay(ms: number, path?: string) {
    return this.push({ kind: 'delay', ms, path });
  }

  hang(path?: string) {
    return this.push({ kind: 'hang', path });
  }

  drop(path?: string) {
    return this.push({ kind: 'drop', path });
  }

  loseResponse(path?: string) {
    return this.push({ kind: 'lose-response', path });
  }

  /** Forgets queued faults and request counts. */
  clear(): void {
    this.queue.length = 0;
    this.hits.clear();
    this.total = 0;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Requests received (faulted or not), in total or for paths starting with `prefix`. */
  count(prefix?: string): number {
    if (prefix === undefined) return this.total;
    let n = 0;
    for (const [path, hits] of this.hits) if (path.startsWith(prefix)) n += hits;
    return n;
  }

  record(path: string): QueuedFault | undefined {
    this.total += 1;
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    const index = this.queue.findIndex((f) => f.path === undefined || path.startsWith(f.path));
    return index === -1 ? undefined : this.queue.splice(index, 1)[0];
  }

  /** A response that only comes when the fake closes (its connection is destroyed by then). */
  hangUntilClosed(): Promise<Response> {
    return new Promise<Response>((resolve) => {
      this.hanging.add(() => resolve(new Response(null, { status: 503 })));
    });
  }

  releaseHangs(): void {
    for (const release of this.hanging) release();
    this.hanging.clear();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Hono middleware applying the next queued fault. `errorBody(status)` gives the fake's own error
 * body for a status fault without an explicit body.
 */
export function faultMiddleware(
  faults: Faults,
  errorBody: (status: number) => unknown,
): MiddlewareHandler<Env> {
  return async (c, next) => {
    const fault = faults.record(new URL(c.req.url).pathname);
    if (!fault) return next();
    switch (fault.kind) {
      case 'status': {
        const headers: Record<string, string> = { ...fault.headers };
        if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter);
        return c.json(fault.body ?? errorBody(fault.status), fault.status as ContentfulStatusCode, headers);
      }
      case 'delay':
        await sleep(fault.ms);
        return next();
      case 'hang':
        return faults.hangUntilClosed();
      case 'drop':
        c.env.incoming.socket.destroy();
        return faults.hangUntilClosed();
      case 'lose-response':
        await next();
        c.env.incoming.socket.destroy();
        return;
    }
  };
}

/** Raw body as text (fakes must see the exact bytes the connector sent). */
export const rawBody = (c: Context<Env>): Promise<string> => c.req.text();

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** A certificate and its key (PEM) for a fake served over HTTPS. */
export interface TlsOptions {
  key: string;
  cert: string;
}

/** Serves `app` on 127.0.0.1 with a random port (HTTPS with `tls`). */
export async function startServer(app: Hono<Env>, faults: Faults, tls?: TlsOptions): Promise<RunningServer> {
  let address: AddressInfo | undefined;
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      {
        fetch: app.fetch,
        port: 0,
        hostname: '127.0.0.1',
        overrideGlobalObjects: false,
        ...(tls ? { createServer: createHttpsServer, serverOptions: { key: tls.key, cert: tls.cert } } : {}),
      },
      (info) => {
        address = info;
        resolve(s);
      },
    );
  });
  const http = server as Server;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${address!.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.close((err) => (err ? reject(err) : resolve()));
        http.closeAllConnections();
        faults.releaseHangs();
      }),
  };
}
