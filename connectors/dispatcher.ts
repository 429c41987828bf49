/**
 * The HTTP agents (undici dispatchers) connectors send through, one per transport setting:
 * - TLS: `tls.ca` (PEM) replaces the default trust for the service — an internal CA, Splunk HEC's
 *   self-signed certificate —; `tls.insecure_skip_verify` accepts any certificate (trials only).
 * - Proxy: the connector's `proxy_url`, else the worker's `HTTPS_PROXY` / `HTTP_PROXY` (honouring
 *   `NO_PROXY`), else a direct connection. HTTPS goes through a CONNECT tunnel, so TLS is end to
 *   end with the service and the proxy sees only the host name.
 *
 * The egress policy (connectors/egress.ts, from ESCALATE_EGRESS_DENY / ESCALATE_EGRESS_ALLOW unless
 * `setConnectPolicy` says otherwise) wraps every socket escalate opens itself — to the service when
 * direct, to the proxy otherwise. Through a proxy, the address finally connected to is chosen by
 * the proxy (it resolves the service's name), so the policy sees and can refuse only the proxy's
 * address; the proxy's own rules govern the rest.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Agent, buildConnector, type Dispatcher, EnvHttpProxyAgent, Pool, ProxyAgent } from 'undici';
import type { TransportConfig } from '../domain/connector.js';
import { EgressPolicy, egressConnectPolicy } from './egress.js';
import { ConnectorError } from './http.js';

/** Wraps how a socket is opened (e.g. to refuse addresses an egress policy denies). */
export type ConnectPolicy = (connect: buildConnector.connector) => buildConnector.connector;

/** Until set otherwise: the egress policy of ESCALATE_EGRESS_DENY / ESCALATE_EGRESS_ALLOW. */
let policy: ConnectPolicy | undefined;
const currentPolicy = (): ConnectPolicy => {
  policy ??= egressConnectPolicy(EgressPolicy.fromEnv());
  return policy;
};
const dispatchers = new Map<string, Dispatcher>();

/** Sets the policy every new connection goes through; agents built before are dropped. */
export function setConnectPolicy(next: ConnectPolicy): void {
  policy = next;
  closeDispatchers();
}

/** Closes every agent (tests, shutdown). */
export function closeDispatchers(): void {
  for (const d of dispatchers.values()) void d.close().catch(() => undefined);
  dispatchers.clear();
}

interface EnvProxy {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

const envProxy = (env: NodeJS.ProcessEnv): EnvProxy => ({
  httpProxy: env.http_proxy || env.HTTP_PROXY || undefined,
  httpsProxy: env.https_proxy || env.HTTPS_PROXY || undefined,
  noProxy: env.no_proxy ?? env.NO_PROXY,
});

function checkedCa(pem: string): string {
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new ConnectorError(`tls.ca is not a valid PEM certificate: ${(err as Error).message}`, {
      retryable: false,
      remoteCode: 'tls_config',
    });
  }
  return pem;
}

/** The agent for a connector's transport settings (built once per distinct setting, then reused). */
export function dispatcherFor(config: TransportConfig, env: NodeJS.ProcessEnv = process.env): Dispatcher {
  const proxyEnv = config.proxy_url ? {} : envProxy(env);
  const key = createHash('sha256')
    .update(JSON.stringify([config.tls?.ca, config.tls?.insecure_skip_verify, config.proxy_url, proxyEnv]))
    .digest('hex');
  const existing = dispatchers.get(key);
  if (existing) return existing;

  const rejectUnauthorized = !config.tls?.insecure_skip_verify;
  const ca = config.tls?.ca ? checkedCa(config.tls.ca) : undefined;
  /** TLS with the service: only the configured CA when one is given. */
  const serviceTls = { rejectUnauthorized, ...(ca ? { ca } : {}) };
  /** TLS with an https proxy: the default roots, plus the configured CA (proxies are often internal too). */
  const proxyTls = { rejectUnauthorized, ...(ca ? { ca: [...rootCertificates, ca] } : {}) };
  // The connection to the proxy goes through the policy too.
  const proxyClient = (origin: URL | string, opts: object) =>
    new Pool(origin, { ...opts, connect: currentPolicy()(buildConnector(proxyTls)) });

  let dispatcher: Dispatcher;
  if (config.proxy_url) {
    dispatcher = new ProxyAgent({
      uri: config.proxy_url,
      requestTls: serviceTls,
      proxyTls,
      clientFactory: proxyClient,
    });
  } else if (proxyEnv.httpProxy || proxyEnv.httpsProxy) {
    dispatcher = new EnvHttpProxyAgent({
      ...proxyEnv,
      connect: currentPolicy()(buildConnector(serviceTls)),
      requestTls: serviceTls,
      proxyTls,
      clientFactory: proxyClient,
    } as ConstructorParameters<typeof EnvHttpProxyAgent>[0]);
  } else {
    dispatcher = new Agent({ connect: currentPolicy()(buildConnector(serviceTls)) });
  }
  dispatchers.set(key, dispatcher);
  return dispatcher;
}
