/**
 * Which addresses connectors may reach (SSRF guard). ESCALATE_EGRESS_DENY (comma-separated CIDRs;
 * default: link-local and cloud metadata addresses) is always refused; ESCALATE_EGRESS_ALLOW, when
 * set, is the only space reachable. The check runs on the addresses a host name resolves to, right
 * before connecting, and again on the socket's remote address once connected, so a host name that
 * changes its answer between checks (DNS rebinding) cannot slip through.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

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

  /**
   * A `lookup` for net/tls.connect that only ever hands over allowed addresses (with `resolve`,
   * default `dns.lookup`, doing the resolution).
   */
  lookup(resolve: Resolver = dnsLookup as unknown as Resolver) {
    return (
      hostname: string,
      options: { all?: boolean; family?: number },
      callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
    ) => {
      resolve(hostname, { ...options, all: true } as LookupAllOptions, (err, addresses) => {
        if (err) return callback(err, '');
        const allowed = addresses.filter((a) => !this.refusal(a.address));
        if (!allowed.length) {
          const why = addresses.map((a) => this.refusal(a.address)).join('; ');
          return callback(new EgressDeniedError(`egress denied: ${hostname} resolves to ${why}`), '');
        }
        if (options.all) return callback(null, allowed);
        return callback(null, allowed[0]!.address, allowed[0]!.family);
      });
    };
  }
}
