/** ESCALATE_CONFIG as rows: the declared connectors and rules, applied idempotently. */
import { and, eq, notInArray, sql } from 'drizzle-orm';
import type { Rule } from '../../domain/rule-schema.js';
import type { Db } from '../client.js';
import { connectors, rules } from '../schema.js';
import { audit } from './audit.js';
import type { ConnectorRowValues } from './connectors.js';
import { upsertConfigRule } from './rules.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** A declared rule's name is taken by a rule with another id (an API rule, say). */
export class RuleNameTaken extends Error {
  constructor(
    readonly index: number,
    readonly rule: Rule,
  ) {
    super(`a rule named "${rule.name}" with another id exists (not ${rule.id})`);
  }
}

export interface Declaration {
  /** Connector rows to upsert by id (secrets sealed already). */
  connectors: ConnectorRowValues[];
  /** Upserted after the connectors, in order. */
  rules: Rule[];
  /** What an earlier declaration made (origin `config`) and this one no longer names is retired. */
  retireUndeclared: boolean;
}

/**
 * Upserts the declared connectors, then the declared rules, by id, all in one transaction (a
 * declaration refused half-way changes nothing); applying it again changes nothing. Retired:
 * undeclared rules are deleted, undeclared connectors disabled. API-made ones are never touched.
 */
export function applyDeclaration(db: Db, declaration: Declaration): Promise<void> {
  return db.transaction((tx) => applyIn(tx, declaration));
}

async function applyIn(db: Tx, file: Declaration): Promise<void> {
  for (const values of file.connectors) {
    const [row] = await db
      .insert(connectors)
      .values(values)
      .onConflictDoUpdate({
        target: connectors.id,
        set: { ...values, createdAt: sql`${connectors.createdAt}` },
      })
      .returning({ id: connectors.id, inserted: sql<boolean>`(xmax = 0)` });
    if (row?.inserted) {
      await audit(db, {
        actor: 'config',
        action: 'connector.created',
        subjectType: 'connector',
        subjectId: row.id,
        details: { kind: values.kind },
      });
    }
  }
  // Before the upserts: a rule re-declared under a new id may keep the retired one's name.
  if (file.retireUndeclared) await deleteUndeclaredRules(db, file);
  for (const [i, rule] of file.rules.entries()) {
    let outcome: Awaited<ReturnType<typeof upsertConfigRule>>;
    try {
      outcome = await upsertConfigRule(db, rule);
    } catch (err) {
      const pgCode =
        (err as { code?: string; cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
      if (pgCode === '23505') throw new RuleNameTaken(i, rule);
      throw err;
    }
    if (outcome !== 'unchanged') {
      await audit(db, {
        actor: 'config',
        action: outcome === 'created' ? 'rule.created' : 'rule.updated',
        subjectType: 'rule',
        subjectId: rule.id,
        details: { name: rule.name, order: rule.order, targets: rule.then.targets },
      });
    }
  }
  if (file.retireUndeclared) await disableUndeclaredConnectors(db, file);
}

/**
 * A connector removed from the file is disabled, not deleted: its tickets keep their history and
 * their sync (which needs its credentials); delete it through the API when it is no longer wanted.
 */
async function disableUndeclaredConnectors(db: Tx, file: Declaration): Promise<void> {
  const ids = file.connectors.map((c) => c.id);
  const disabled = await db
    .update(connectors)
    .set({ enabled: false, updatedAt: new Date() })
    .where(
      and(
        eq(connectors.origin, 'config'),
        eq(connectors.enabled, true),
        ids.length ? notInArray(connectors.id, ids) : undefined,
      ),
    )
    .returning({ id: connectors.id });
  for (const { id } of disabled)
    await audit(db, {
      actor: 'config',
      action: 'connector.disabled',
      subjectType: 'connector',
      subjectId: id,
      details: { reason: 'no longer declared in ESCALATE_CONFIG' },
    });
}

/** A rule removed from the file is deleted (workflows load rules when they start: none changes). */
async function deleteUndeclaredRules(db: Tx, file: Declaration): Promise<void> {
  const ids = file.rules.map((r) => r.id);
  const deleted = await db
    .delete(rules)
    .where(and(eq(rules.origin, 'config'), ids.length ? notInArray(rules.id, ids) : undefined))
    .returning({ id: rules.id, name: rules.name });
  for (const { id, name } of deleted)
    await audit(db, {
      actor: 'config',
      action: 'rule.deleted',
      subjectType: 'rule',
      subjectId: id,
      details: { name, reason: 'no longer declared in ESCALATE_CONFIG' },
    });
}
