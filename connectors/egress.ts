/**
 * Which addresses connectors may reach (SSRF guard). ESCALATE_EGRESS_DENY (comma-separated CIDRs;
 * default: link-local and cloud metadata addresses) is always refused; ESCALATE_EGRESS_ALLOW, when
 * set, is the only space reachable. The check runs on the addresses a host name resolves to, right
 * before connecting, and again on the socket's remote address once connected, so a host name that
 * changes its answer between checks (DNS rebinding) cannot slip through.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { buildConnector } from 'undici';

/** Link-local (IPv4, IPv6) and the metadata services of AWS (IPv6), Alibaba Cloud and Azure. */
export const DEFAULT_EGRESS_DENY = [
  '169.254.0.0/16',
  'fe80::/10',
  'fd00:ec2::254/128',
  '100.100.100.200/32',
  '168.63.129.16/32',
];

export class EgressDeniedError extends Error {
  override readonly name = 'EgressDeniedError';
}

interface Range {
  cidr: string;
  list: BlockList;
}

function parseCidr(cidr: string, variable: string): Range {
  const [address = '', prefixText] = cidr.split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!family || !/^\d+$/.test(prefixText ?? String(max)) || prefix > max)
    throw new Error(`${variable}: "${cidr}" is not a CIDR (e.g. 10.0.0.0/8, fd00::/8)`);
  const list = new BlockList();
  list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  return { cidr, list };
}

const parseList = (raw: string, variable: string): Range[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((cidr) => parseCidr(cidr, variable));

const matching = (ranges: Range[], address: string): string | undefined => {
  const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  return ranges.find((r) => r.list.check(address, type))?.cidr;
};

export type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export class EgressPolicy {
  readonly #deny: Range[];
  readonly #allow?: Range[];

  constructor(opts: { deny?: string; allow?: string } = {}) {
    this.#deny = parseList(opts.deny ?? DEFAULT_EGRESS_DENY.join(','), 'ESCALATE_EGRESS_DENY');
    this.#allow = opts.allow ? parseList(opts.allow, 'ESCALATE_EGRESS_ALLOW') : undefined;
  }

  /** Unset ESCALATE_EGRESS_DENY: the default list; set to an empty string: nothing denied. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): EgressPolicy {
    return new EgressPolicy({
      deny: env.ESCALATE_EGRESS_DENY,
      allow: env.ESCALATE_EGRESS_ALLOW || undefined,
    });
  }

  /** Why connecting to `address` is refused, or undefined when it is allowed. */
  refusal(address: string): string | undefined {
    const bare = address.replace(/^\[|\]$/g, '');
    const denied = matching(this.#deny, bare);
    if (denied) return `${bare} is inside ESCALATE_EGRESS_DENY (${denied})`;
    if (this.#allow && !matching(this.#allow, bare)) return `${bare} is outside ESCALATE_EGRESS_ALLOW`;
    return undefined;
  }
}

/**
 * Wraps how connector sockets are opened (connectors/dispatcher.ts `setConnectPolicy`): an IP
 * literal is checked before connecting; a host name is resolved here, the denied addresses dropped,
 * and the socket opened to an allowed one (TLS still verifies the name); the connected socket's
 * remote address is checked again. Through a proxy, the socket is the one to the proxy.
 */
export function egressConnectPolicy(
  egress: EgressPolicy,
  resolve: Resolver = dnsLookup as unknown as Resolver,
) {
  return (connect: buildConnector.connector): buildConnector.connector =>
    (options, callback) => {
      const open = (hostname: string) =>
        connect({ ...options, hostname }, (err, socket) => {
          if (err || !socket) return callback(err ?? new Error('no socket'), null);
          const why = egress.refusal(socket.remoteAddress ?? '');
          if (!why) return callback(null, socket);
          socket.destroy();
          callback(new EgressDeniedError(`egress denied: connected to ${why}`), null);
        });
      const host = options.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host)) {
        const why = egress.refusal(host);
        return why ? callback(new EgressDeniedError(`egress denied: ${why}`), null) : open(host);
      }
      resolve(host, { all: true }, (err, addresses) => {
        if (err) return callback(err, null);
        const allowed = addresses.find((a) => !egress.refusal(a.address));
        if (allowed) return open(allowed.address);
        const why = addresses.map((a) => egress.refusal(a.address)).join('; ');
        callback(new EgressDeniedError(`egress denied: ${host} resolves to ${why}`), null);
      });
    };
}
