import type { z } from 'zod';
import {
  CONFIG_SCHEMAS,
  type ConnectorKind,
  SECRET_FIELDS,
  type TransportConfig,
  URL_FIELDS,
} from './connector.js';

/** What reads show for a stored secret; a PATCH that sends it back keeps the stored value. */
export const MASK = '********';

/** The stored secrets as a PATCH sees them (see db/repos/connectors.ts `readSecrets`). */
export type StoredSecretsView =
  | { readable: true; values: Record<string, unknown> }
  | { readable: false; reason: string };

export type ConfigPatchOutcome =
  /** No config in the PATCH: config and secrets stay (secrets sealed again when readable). */
  | { kind: 'unchanged' }
  | {
      kind: 'merged';
      config: Record<string, unknown>;
      /** Config keys the PATCH set (masked secrets sent back are not changes). */
      changed: string[];
      /** The stored secrets could not be read: the ones sent replace them all. */
      secretsReplaced: boolean;
    }
  | { kind: 'invalid'; error: z.ZodError; hint?: string }
  /** The URLs move to a host the stored secrets were never sent to: they must be sent again. */
  | { kind: 'secrets_required'; fields: string[]; hosts: string[] }
  /**
   * The stored secrets cannot be decrypted, so none can be kept, and which of them the connector
   * used is unknown: every secret field of the kind must be in the PATCH (a value, or null).
   */
  | { kind: 'secrets_incomplete'; fields: string[]; reason: string };

/** Scheme, host and port of every URL in `config` the connector sends its secrets to. */
function secretDestinations(kind: ConnectorKind, config: Record<string, unknown>): Set<string> {
  const origins = new Set<string>();
  for (const field of URL_FIELDS[kind]) {
    const value = config[field];
    if (typeof value !== 'string') continue;
    try {
      origins.add(new URL(value).origin);
    } catch {
      origins.add(value); // not a URL: validation refuses it; still never "the same host"
    }
  }
  return origins;
}

/**
 * What else can lead the secrets elsewhere than the URLs: a new proxy (it sees every request,
 * and every byte of plain HTTP), a new trusted CA or certificate checks turned off (a server
 * that is not the service's would be trusted). Described for the error; empty when unchanged.
 */
function newTransport(
  before: { config: Record<string, unknown>; proxy: unknown },
  after: Record<string, unknown>,
): string[] {
  const reasons: string[] = [];
  const proxy = after.proxy_url;
  if (typeof proxy === 'string' && proxy !== before.proxy) {
    let where = proxy;
    try {
      where = new URL(proxy).origin;
    } catch {}
    reasons.push(`the proxy ${where}`);
  }
  const tlsBefore = (before.config.tls ?? {}) as TransportConfig['tls'] & object;
  const tlsAfter = (after.tls ?? {}) as TransportConfig['tls'] & object;
  if (tlsAfter.ca && tlsAfter.ca !== tlsBefore.ca) reasons.push('a server trusted through a new tls.ca');
  if (tlsAfter.insecure_skip_verify && !tlsBefore.insecure_skip_verify)
    reasons.push('a server whose certificate is not verified (tls.insecure_skip_verify)');
  return reasons;
}

/**
 * Merges a PATCH's `config` into the stored one and validates the result for the connector's
 * kind. `null` removes a key; `********` keeps a stored secret. When the stored secrets cannot be
 * decrypted, the merge starts from the plain config: the secrets the PATCH sends replace the
 * unreadable ones (none of them is decrypted), and every secret field of the kind must be sent
 * (null for the ones the connector does not use), so none is dropped unnoticed.
 * Secrets follow their host: when a URL would send them to a scheme, host or port they were not
 * sent to before, or through a new proxy, or to a server trusted through a new CA or without
 * verifying its certificate, every stored secret must be in the PATCH (a masked value does not
 * count).
 */
export function mergeConfigPatch(args: {
  kind: ConnectorKind;
  storedConfig: Record<string, unknown>;
  storedSecrets: StoredSecretsView;
  patch: Record<string, unknown> | undefined;
}): ConfigPatchOutcome {
  if (args.patch === undefined) return { kind: 'unchanged' };
  const { storedSecrets } = args;
  const changes = Object.fromEntries(Object.entries(args.patch).filter(([, v]) => v !== MASK));
  if (!storedSecrets.readable) {
    const missing = SECRET_FIELDS[args.kind].filter((k) => !(k in changes));
    if (missing.length) return { kind: 'secrets_incomplete', fields: missing, reason: storedSecrets.reason };
  }
  const current = storedSecrets.readable
    ? { ...args.storedConfig, ...storedSecrets.values }
    : args.storedConfig;
  const merged = Object.fromEntries(Object.entries({ ...current, ...changes }).filter(([, v]) => v !== null));
  const parsed = CONFIG_SCHEMAS[args.kind].safeParse(merged);
  if (!parsed.success) {
    const hint = storedSecrets.readable
      ? undefined
      : `the stored secrets cannot be decrypted (${storedSecrets.reason}): send them again (${SECRET_FIELDS[args.kind].join(', ')})`;
    return { kind: 'invalid', error: parsed.error, hint };
  }
  const config = parsed.data as Record<string, unknown>;
  const before = secretDestinations(args.kind, args.storedConfig);
  const newHosts = [...secretDestinations(args.kind, config)].filter((o) => !before.has(o));
  if (storedSecrets.readable)
    newHosts.push(
      ...newTransport({ config: args.storedConfig, proxy: storedSecrets.values.proxy_url }, config),
    );
  if (newHosts.length && storedSecrets.readable) {
    const missing = Object.keys(storedSecrets.values).filter((k) => !(k in changes));
    if (missing.length) return { kind: 'secrets_required', fields: missing.sort(), hosts: newHosts };
  }
  return {
    kind: 'merged',
    config,
    changed: Object.keys(changes),
    secretsReplaced: !storedSecrets.readable,
  };
}
