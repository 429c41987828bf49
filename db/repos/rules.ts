// biome-ignore-all lint/suspicious/noThenProperty: the rule field is named `then`; rows and bodies carry plain data, never a thenable.
import { and, asc, eq, gt, or, sql } from 'drizzle-orm';
import type { Rule } from '../../domain/rule-schema.js';
import type { Db } from '../client.js';
import { rules } from '../schema.js';
import { audit } from './audit.js';

export type RuleRow = typeof rules.$inferSelect;

export const toRule = (row: RuleRow): Rule =>
  ({
    id: row.id,
    name: row.name,
    enabled: row.enabled,
    order: row.order,
    when: row.when,
    then: row.then,
    stop: row.stop,
  }) as Rule;

/** All rules in evaluation order. */
export async function listRules(db: Db): Promise<Rule[]> {
  const rows = await db.select().from(rules).orderBy(asc(rules.order), asc(rules.name));
  return rows.map(toRule);
}

/** What the API returns for a rule. */
export function toPublicRule(row: RuleRow) {
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled,
    order: row.order,
    when: row.when,
    then: row.then,
    stop: row.stop,
    origin: row.origin,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
export type PublicRule = ReturnType<typeof toPublicRule>;

export async function getRuleRow(db: Db, id: string): Promise<RuleRow | undefined> {
  const [row] = await db.select().from(rules).where(eq(rules.id, id));
  return row;
}

/** Evaluation order (order, then name by code point, like `evaluateRules`), keyset-paged. */
const nameC = sql`${rules.name} collate "C"`;

export function encodeRuleCursor(row: Pick<RuleRow, 'order' | 'name'>): string {
  return Buffer.from(JSON.stringify([row.order, row.name])).toString('base64url');
}

/** The `[order, name]` a cursor points after, or undefined when it is not one we issued. */
export function decodeRuleCursor(cursor: string): [number, string] | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && Number.isInteger(v[0]) && typeof v[1] === 'string')
      return [v[0] as number, v[1]];
  } catch {
    // fall through
  }
  return undefined;
}

export async function listRulePage(db: Db, limit: number, after?: [number, string]) {
  const rows = await db
    .select()
    .from(rules)
    .where(
      after
        ? or(gt(rules.order, after[0]), and(eq(rules.order, after[0]), sql`${nameC} > ${after[1]}`))
        : undefined,
    )
    .orderBy(asc(rules.order), asc(nameC))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next_cursor: rows.length > limit && last ? encodeRuleCursor(last) : null };
}

export const toRuleRowValues = (r: Rule, origin: 'api' | 'config') => ({
  id: r.id,
  name: r.name,
  enabled: r.enabled,
  order: r.order,
  when: r.when as Record<string, unknown>,
  then: r.then as Record<string, unknown>,
  stop: r.stop,
  origin,
});

/**
 * Inserts or updates a rule declared in ESCALATE_CONFIG. A row that already holds exactly these
 * values is left alone (its `updated_at` too), so applying the same file again changes nothing.
 */
export async function upsertConfigRule(
  db: Pick<Db, 'insert'>,
  rule: Rule,
): Promise<'created' | 'updated' | 'unchanged'> {
  const values = toRuleRowValues(rule, 'config');
  const [row] = await db
    .insert(rules)
    .values(values)
    .onConflictDoUpdate({
      target: rules.id,
      set: { ...values, updatedAt: new Date() },
      setWhere: sql`(${rules.name}, ${rules.enabled}, ${rules.order}, ${rules.when}, ${rules.then}, ${rules.stop}, ${rules.origin})
        is distinct from (excluded.name, excluded.enabled, excluded."order", excluded."when", excluded."then", excluded.stop, excluded.origin)`,
    })
    .returning({ inserted: sql<boolean>`(xmax = 0)` });
  if (!row) return 'unchanged';
  return row.inserted ? 'created' : 'updated';
}

export { RULE_ID_MESSAGE, RULE_ID_PATTERN } from '../../domain/rule-schema.js';

type RuleRowValues = ReturnType<typeof toRuleRowValues>;

/** A new rule and its audit entry. A taken id or name is PostgreSQL's unique violation. */
export function createRule(
  db: Db,
  values: RuleRowValues,
  audited: { actor: string; details: Record<string, unknown> },
): Promise<RuleRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(rules).values(values).returning();
    await audit(tx, {
      actor: audited.actor,
      action: 'rule.created',
      subjectType: 'rule',
      subjectId: row!.id,
      details: { name: row!.name, order: row!.order, ...audited.details },
    });
    return row!;
  });
}

export function updateRule(
  db: Db,
  id: string,
  values: Omit<RuleRowValues, 'origin'>,
  audited: { actor: string; details: Record<string, unknown> },
): Promise<RuleRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(rules)
      .set({ ...values, updatedAt: new Date() })
      .where(eq(rules.id, id))
      .returning();
    if (!row) return undefined;
    await audit(tx, {
      actor: audited.actor,
      action: 'rule.updated',
      subjectType: 'rule',
      subjectId: id,
      details: { name: row.name, ...audited.details },
    });
    return row;
  });
}

/** Deletes the rule; false when there was none. */
export function deleteRule(db: Db, id: string, actor: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .delete(rules)
      .where(eq(rules.id, id))
      .returning({ id: rules.id, name: rules.name });
    if (!row) return false;
    await audit(tx, {
      actor,
      action: 'rule.deleted',
      subjectType: 'rule',
      subjectId: id,
      details: { name: row.name },
    });
    return true;
  });
}
