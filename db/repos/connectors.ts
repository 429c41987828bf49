import { asc, eq } from 'drizzle-orm';
import {
  type Connector,
  type ConnectorFilters,
  type ConnectorKind,
  SECRET_FIELDS,
} from '../../domain/connector.js';
import type { RetrySpec } from '../../domain/retry.js';
import type { SecretBox } from '../../infra/secret-box.js';
import type { Db } from '../client.js';
import { connectors } from '../schema.js';

export type ConnectorRow = typeof connectors.$inferSelect;

export const MASK = '********';

/** Splits a validated config into the plain part and the secret part (sealed as one blob). */
export function splitSecrets(kind: ConnectorKind, config: Record<string, unknown>, box: SecretBox) {
  const plain: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (SECRET_FIELDS[kind].includes(k)) secrets[k] = v;
    else plain[k] = v;
  }
  return { config: plain, secrets: Object.keys(secrets).length ? box.seal(JSON.stringify(secrets)) : null };
}

export function openSecrets(row: Pick<ConnectorRow, 'secrets'>, box: SecretBox): Record<string, unknown> {
  return row.secrets ? (JSON.parse(box.open(row.secrets)) as Record<string, unknown>) : {};
}

export function toConnector(row: ConnectorRow, box: SecretBox): Connector {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as ConnectorKind,
    enabled: row.enabled,
    auto_push: row.autoPush,
    config: { ...row.config, ...openSecrets(row, box) } as Connector['config'],
    filters: row.filters as ConnectorFilters,
    retry: (row.retry as RetrySpec | null) ?? null,
  };
}

/** What the API returns: secrets masked, status fields added. */
export function toPublicConnector(row: ConnectorRow, box: SecretBox) {
  const secretNames = Object.keys(openSecrets(row, box));
  const masked = Object.fromEntries(secretNames.map((k) => [k, MASK]));
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as ConnectorKind,
    enabled: row.enabled,
    auto_push: row.autoPush,
    config: { ...row.config, ...masked },
    filters: row.filters,
    retry: row.retry ?? null,
    origin: row.origin,
    status: {
      configured: true,
      enabled: row.enabled,
      last_test_at: row.lastTestAt?.toISOString() ?? null,
      last_test_ok: row.lastTestOk ?? null,
      last_test_result: row.lastTestResult ?? null,
      last_check_at: row.lastCheckAt?.toISOString() ?? null,
      last_check_ok: row.lastCheckOk ?? null,
      last_check: row.lastCheck ?? null,
    },
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export const listConnectorRows = (db: Db) =>
  db.select().from(connectors).orderBy(asc(connectors.createdAt), asc(connectors.id));

export async function getConnectorRow(db: Db, id: string): Promise<ConnectorRow | undefined> {
  const [row] = await db.select().from(connectors).where(eq(connectors.id, id));
  return row;
}

export interface ConnectorValues {
  id: string;
  name: string;
  kind: ConnectorKind;
  enabled: boolean;
  auto_push: boolean;
  config: Record<string, unknown>;
  filters: ConnectorFilters;
  retry: RetrySpec | null;
}

export function toRowValues(v: ConnectorValues, box: SecretBox, origin: 'api' | 'config') {
  const { config, secrets } = splitSecrets(v.kind, v.config, box);
  return {
    id: v.id,
    name: v.name,
    kind: v.kind,
    enabled: v.enabled,
    autoPush: v.auto_push,
    config,
    secrets,
    filters: v.filters as Record<string, unknown>,
    retry: (v.retry ?? null) as Record<string, unknown> | null,
    origin,
    updatedAt: new Date(),
  };
}

/** Keeps the verdict of the last read-only check for the connector's health view. */
export async function recordConnectorCheck(
  db: Pick<Db, 'update'>,
  id: string,
  report: { ok: boolean; checks: { name: string; ok: boolean; message: string }[] },
): Promise<void> {
  await db
    .update(connectors)
    .set({ lastCheckAt: new Date(), lastCheckOk: report.ok, lastCheck: report.checks })
    .where(eq(connectors.id, id));
}
