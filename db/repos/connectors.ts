import { asc, eq } from 'drizzle-orm';
import {
  type Connector,
  type ConnectorFilters,
  type ConnectorKind,
  SECRET_FIELDS,
} from '../../domain/connector.js';
import type { PlanningConnector } from '../../domain/planning.js';
import type { RetrySpec } from '../../domain/retry.js';
import type { SecretBox } from '../../infra/secret-box.js';
import type { Db } from '../client.js';
import { connectors } from '../schema.js';
import { audit } from './audit.js';

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

/**
 * A connector test, check or template install: its verdict on the connector (the last test, the
 * last check with every step, for the health view) and in the audit trail.
 */
export async function recordConnectorAction(
  db: Db,
  input: {
    connectorId: string;
    action: string;
    requestedBy: string;
    result: {
      ok: boolean;
      message: string;
      external_id?: string;
      event_id?: string;
      checks?: { name: string; ok: boolean; message: string }[];
    };
  },
): Promise<void> {
  const { result } = input;
  const now = new Date();
  await db.transaction(async (tx) => {
    if (input.action === 'test') {
      await tx
        .update(connectors)
        .set({ lastTestAt: now, lastTestOk: result.ok, lastTestResult: result.message.slice(0, 2000) })
        .where(eq(connectors.id, input.connectorId));
    }
    if (input.action === 'check') {
      await tx
        .update(connectors)
        .set({ lastCheckAt: now, lastCheckOk: result.ok, lastCheck: result.checks ?? [] })
        .where(eq(connectors.id, input.connectorId));
    }
    await audit(tx, {
      actor: input.requestedBy,
      action: `connector.${input.action}`,
      subjectType: 'connector',
      subjectId: input.connectorId,
      details: {
        ok: result.ok,
        message: result.message,
        external_id: result.external_id,
        event_id: result.event_id,
        failed: result.checks?.filter((c) => !c.ok).map((c) => c.name),
      },
    });
  });
}

/** What planning reads of a connector: no config, no secrets (nothing to decrypt). */
export const toPlanningConnector = (row: ConnectorRow): PlanningConnector => ({
  id: row.id,
  name: row.name,
  kind: row.kind as ConnectorKind,
  enabled: row.enabled,
  auto_push: row.autoPush,
  filters: row.filters as ConnectorFilters,
});

export type ConnectorRowValues = ReturnType<typeof toRowValues>;

/** A new connector and its audit entry. A taken id or name is PostgreSQL's unique violation. */
export function createConnector(db: Db, values: ConnectorRowValues, actor: string): Promise<ConnectorRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(connectors).values(values).returning();
    await audit(tx, {
      actor,
      action: 'connector.created',
      subjectType: 'connector',
      subjectId: row!.id,
      details: { kind: row!.kind, name: row!.name },
    });
    return row!;
  });
}

/** The whole row replaced by `values`, audited with the names of the fields that changed. */
export function updateConnector(
  db: Db,
  id: string,
  values: ConnectorRowValues,
  audited: { actor: string; changed: string[] },
): Promise<ConnectorRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.update(connectors).set(values).where(eq(connectors.id, id)).returning();
    if (!row) return undefined;
    await audit(tx, {
      actor: audited.actor,
      action: 'connector.updated',
      subjectType: 'connector',
      subjectId: id,
      details: { changed: audited.changed },
    });
    return row;
  });
}

/** Deletes the connector (its tickets and deliveries stay); false when there was none. */
export function deleteConnector(db: Db, id: string, actor: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [deleted] = await tx
      .delete(connectors)
      .where(eq(connectors.id, id))
      .returning({ id: connectors.id });
    if (!deleted) return false;
    await audit(tx, { actor, action: 'connector.deleted', subjectType: 'connector', subjectId: id });
    return true;
  });
}
