import { and, asc, eq, isNotNull } from 'drizzle-orm';
import {
  type Connector,
  type ConnectorFilters,
  type ConnectorKind,
  NOTIFY_ON_DEFAULTS,
  notifyOnOf,
  SECRET_FIELDS,
} from '../../domain/connector.js';
import { MASK } from '../../domain/connector-patch.js';
import type { NoticeType } from '../../domain/notification.js';
import type { PlanningConnector } from '../../domain/planning.js';
import type { RetrySpec } from '../../domain/retry.js';
import { SecretsUnreadableError, UNREADABLE_REMEDY } from '../../domain/secrets.js';
import type { SecretBox } from '../../infra/secret-box.js';
import type { Db } from '../client.js';
import { connectors } from '../schema.js';
import { audit } from './audit.js';

export type ConnectorRow = typeof connectors.$inferSelect;

export { MASK } from '../../domain/connector-patch.js';

/** Splits a validated config into the plain part and the secret part (sealed as one blob). */
export function splitSecrets(kind: ConnectorKind, config: Record<string, unknown>) {
  const plain: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (SECRET_FIELDS[kind].includes(k)) secrets[k] = v;
    else plain[k] = v;
  }
  return { config: plain, secrets };
}

/** Seals a connector's secrets under the current key, bound to its id. */
export const sealSecrets = (id: string, secrets: Record<string, unknown>, box: SecretBox): string | null =>
  Object.keys(secrets).length ? box.seal(JSON.stringify(secrets), id) : null;

export type StoredSecrets =
  | { readable: true; values: Record<string, unknown> }
  | { readable: false; reason: string };

/** The stored secrets, or why they cannot be read (a key that is not configured, an altered row). */
export function readSecrets(row: Pick<ConnectorRow, 'id' | 'secrets'>, box: SecretBox): StoredSecrets {
  if (!row.secrets) return { readable: true, values: {} };
  try {
    return { readable: true, values: JSON.parse(box.open(row.secrets, row.id)) as Record<string, unknown> };
  } catch (err) {
    if (!(err instanceof SecretsUnreadableError)) throw err;
    return { readable: false, reason: err.message };
  }
}

/**
 * Refuses (SecretsUnreadableError, answered 409 `secrets_undecryptable`) an action that would need
 * secrets no configured key opens: a test, a preview, a push or a replay on that connector.
 */
export function requireReadableSecrets(row: Pick<ConnectorRow, 'id' | 'secrets'>, box: SecretBox): void {
  const stored = readSecrets(row, box);
  if (!stored.readable)
    throw new SecretsUnreadableError(`connector ${row.id}: ${stored.reason}; ${UNREADABLE_REMEDY}`);
}

/** The stored secrets; throws SecretsUnreadableError when no configured key opens them. */
export function openSecrets(
  row: Pick<ConnectorRow, 'id' | 'secrets'>,
  box: SecretBox,
): Record<string, unknown> {
  return row.secrets ? (JSON.parse(box.open(row.secrets, row.id)) as Record<string, unknown>) : {};
}

const connectorFields = (row: ConnectorRow) => ({
  id: row.id,
  name: row.name,
  kind: row.kind as ConnectorKind,
  enabled: row.enabled,
  auto_push: row.autoPush,
  filters: row.filters as ConnectorFilters,
  retry: (row.retry as RetrySpec | null) ?? null,
  notify_on: storedNotifyOn(row),
});

export function toConnector(row: ConnectorRow, box: SecretBox): Connector {
  return {
    ...connectorFields(row),
    config: { ...row.config, ...openSecrets(row, box) } as Connector['config'],
  };
}

/** The connector's `notify_on`, its kind's default when none is stored. */
export const storedNotifyOn = (row: Pick<ConnectorRow, 'kind' | 'notifyOn'>): NoticeType[] =>
  notifyOnOf(row.kind as ConnectorKind, row.notifyOn as NoticeType[] | null);

/** What the API returns: secrets masked, status fields added. */
export function toPublicConnector(row: ConnectorRow, box: SecretBox) {
  const stored = readSecrets(row, box);
  const masked = stored.readable ? Object.fromEntries(Object.keys(stored.values).map((k) => [k, MASK])) : {};
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as ConnectorKind,
    enabled: row.enabled,
    auto_push: row.autoPush,
    config: { ...row.config, ...masked },
    filters: row.filters,
    retry: row.retry ?? null,
    ...(NOTIFY_ON_DEFAULTS[row.kind as ConnectorKind] ? { notify_on: storedNotifyOn(row) } : {}),
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
      /** `undecryptable`: no configured key opens them; the connector is skipped until they are sent again. */
      secrets: (row.secrets ? (stored.readable ? 'sealed' : 'undecryptable') : 'none') as
        | 'none'
        | 'sealed'
        | 'undecryptable',
      secrets_error: stored.readable ? null : `${stored.reason}; ${UNREADABLE_REMEDY}`,
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
  /** Notification kinds only; null or absent: the kind's default. */
  notify_on?: readonly NoticeType[] | null;
}

export function toRowValues(v: ConnectorValues, box: SecretBox, origin: 'api' | 'config') {
  const { config, secrets } = splitSecrets(v.kind, v.config);
  return {
    id: v.id,
    name: v.name,
    kind: v.kind,
    enabled: v.enabled,
    autoPush: v.auto_push,
    config,
    secrets: sealSecrets(v.id, secrets, box),
    filters: v.filters as Record<string, unknown>,
    retry: (v.retry ?? null) as Record<string, unknown> | null,
    notifyOn: v.notify_on ? [...v.notify_on] : null,
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

/**
 * What planning reads of a connector: no config, no secrets (none is needed to decide), and
 * `unavailable` saying why when its secrets cannot be decrypted.
 */
export function toPlanningConnector(row: ConnectorRow, box: SecretBox): PlanningConnector {
  const secrets = readSecrets(row, box);
  return {
    ...connectorFields(row),
    unavailable: secrets.readable ? undefined : `${secrets.reason}; ${UNREADABLE_REMEDY}`,
  };
}

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
  audited: { actor: string; changed: string[]; details?: Record<string, unknown> },
): Promise<ConnectorRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.update(connectors).set(values).where(eq(connectors.id, id)).returning();
    if (!row) return undefined;
    await audit(tx, {
      actor: audited.actor,
      action: 'connector.updated',
      subjectType: 'connector',
      subjectId: id,
      details: { changed: audited.changed, ...audited.details },
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

export interface ReencryptReport {
  /** Sealed again under the current key (v1 rows, rows under a previous key). */
  reencrypted: string[];
  /** Already sealed under the current key. */
  current: number;
  /** Opened by no configured key: left as they are. */
  unreadable: { id: string; reason: string }[];
}

/**
 * Seals every connector's secrets again under the current key, in the current format. Each row is
 * written only if its ciphertext is still the one read, so a concurrent PATCH is never undone.
 */
export async function reencryptAllSecrets(db: Db, box: SecretBox, actor: string): Promise<ReencryptReport> {
  const rows = await db
    .select({ id: connectors.id, secrets: connectors.secrets })
    .from(connectors)
    .where(isNotNull(connectors.secrets))
    .orderBy(asc(connectors.id));
  const report: ReencryptReport = { reencrypted: [], current: 0, unreadable: [] };
  for (const row of rows) {
    const sealed = row.secrets!;
    // Opened even when sealed under the current key: an altered or misplaced row is reported.
    const stored = readSecrets(row, box);
    if (!stored.readable) {
      report.unreadable.push({ id: row.id, reason: stored.reason });
      continue;
    }
    if (box.isCurrent(sealed)) {
      report.current += 1;
      continue;
    }
    const [written] = await db
      .update(connectors)
      .set({ secrets: sealSecrets(row.id, stored.values, box) })
      .where(and(eq(connectors.id, row.id), eq(connectors.secrets, sealed)))
      .returning({ id: connectors.id });
    if (written) report.reencrypted.push(row.id);
    else report.current += 1; // changed meanwhile: whoever wrote it sealed it under the current key
  }
  await audit(db, {
    actor,
    action: 'connector.secrets_reencrypted',
    subjectType: 'connector',
    subjectId: '*',
    details: {
      reencrypted: report.reencrypted,
      current: report.current,
      unreadable: report.unreadable.map((u) => u.id),
    },
  });
  return report;
}
