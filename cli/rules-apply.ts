// biome-ignore-all lint/suspicious/noThenProperty: SPEC §5 names the rule field `then`; plain data, never a thenable.
/**
 * `escalate rules apply -f rules.yaml`: the rules of a file (the `rules:` list of ESCALATE_CONFIG,
 * or a bare list) against the API's. Validated here first, then the diff is printed (create,
 * update with the fields that change, unchanged, and with --prune the API-made rules the file no
 * longer declares), then applied unless --dry-run.
 */
import { z } from 'zod';
import { canonicalJson } from '../domain/canonical-json.js';
import { RULE_ID_MESSAGE, RULE_ID_PATTERN, ruleSchema } from '../domain/rule-schema.js';
import type { Ctx, ExitCode } from './context.js';
import { cell, plural } from './format.js';
import { readYamlInput } from './io.js';
import type { Rule } from './types.js';

const fileRuleSchema = z.strictObject({
  id: z
    .string({ error: 'id is required (it is how the file names the rule)' })
    .regex(RULE_ID_PATTERN, RULE_ID_MESSAGE),
  ...ruleSchema.shape,
});

const FIELDS = ['name', 'enabled', 'order', 'when', 'then', 'stop'] as const;
type Field = (typeof FIELDS)[number];

export type RuleChange =
  | { kind: 'create'; id: string; input: Record<string, unknown> }
  | {
      kind: 'update';
      id: string;
      input: Record<string, unknown>;
      fields: Field[];
      before: Rule;
      config: boolean;
    }
  | { kind: 'unchanged'; id: string }
  | { kind: 'delete'; id: string; name: string };

/** The file's rules, checked with the API's own schema; throws with every offending path. */
export function parseRulesFile(
  doc: unknown,
  source: string,
): { id: string; input: Record<string, unknown> }[] {
  const list = Array.isArray(doc) ? doc : (doc as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(list))
    throw new Error(`${source}: expected a list of rules, or a document with a "rules:" list`);
  const problems: string[] = [];
  const rules = list.flatMap((raw, i) => {
    const parsed = fileRuleSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push(
          `rules[${i}]${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${issue.message}`,
        );
      return [];
    }
    return [{ id: parsed.data.id, input: raw as Record<string, unknown> }];
  });
  const ids = rules.map((r) => r.id);
  for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i)))
    problems.push(`rule id ${id} appears twice`);
  if (problems.length)
    throw new Error(`${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return rules;
}

/** Both sides through the same schema (defaults filled in), so only real differences show. */
const normalized = (rule: Record<string, unknown>) => {
  const { id: _id, ...fields } = rule;
  return ruleSchema.parse(Object.fromEntries(FIELDS.filter((f) => f in fields).map((f) => [f, fields[f]])));
};

export function diffRules(
  declared: { id: string; input: Record<string, unknown> }[],
  current: Rule[],
  prune: boolean,
): RuleChange[] {
  const byId = new Map(current.map((r) => [r.id, r]));
  const changes: RuleChange[] = declared.map(({ id, input }) => {
    const before = byId.get(id);
    if (!before) return { kind: 'create', id, input };
    const [want, have] = [normalized(input), normalized(before as unknown as Record<string, unknown>)];
    const fields = FIELDS.filter((f) => canonicalJson(want[f]) !== canonicalJson(have[f]));
    if (fields.length === 0) return { kind: 'unchanged', id };
    return { kind: 'update', id, input, fields, before, config: before.origin === 'config' };
  });
  if (prune) {
    const declaredIds = new Set(declared.map((r) => r.id));
    for (const r of current)
      if (!declaredIds.has(r.id) && r.origin !== 'config')
        changes.push({ kind: 'delete', id: r.id, name: r.name });
  }
  return changes;
}

const short = (value: unknown) => {
  const text = value === undefined ? '-' : JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
};

function describeChange(c: RuleChange): string {
  if (c.kind === 'create') return `+ ${c.id}: create "${cell(c.input.name as string)}"`;
  if (c.kind === 'unchanged') return `= ${c.id}: unchanged`;
  if (c.kind === 'delete') return `- ${c.id}: delete "${c.name}" (not in the file; --prune)`;
  const after = normalized(c.input);
  const before = normalized(c.before as unknown as Record<string, unknown>);
  const lines = c.fields.map((f) => `    ${f}: ${short(before[f])} → ${short(after[f])}`);
  const note = c.config ? ' (declared in ESCALATE_CONFIG: the next start of escalate restores it)' : '';
  return [`~ ${c.id}: update ${c.fields.join(', ')}${note}`, ...lines].join('\n');
}

export const describeChanges = (changes: RuleChange[]): string[] => changes.map(describeChange);

export interface RulesApplyOptions {
  file: string;
  dryRun?: boolean;
  prune?: boolean;
}

export async function rulesApply(ctx: Ctx, opts: RulesApplyOptions): Promise<ExitCode> {
  const declared = parseRulesFile(await readYamlInput(opts.file, ctx.io.stdin), opts.file);
  const current = (await ctx.client.list<Rule>('/v1/rules', {}, 100_000)).items;
  const changes = diffRules(declared, current, opts.prune === true);
  const pending = changes.filter((c) => c.kind !== 'unchanged');
  if (ctx.json && opts.dryRun) {
    ctx.printJson({ dry_run: true, changes: changes.map(({ kind, id }) => ({ kind, id })) });
    return 0;
  }
  if (!ctx.json) {
    for (const line of describeChanges(changes)) ctx.out(line);
    if (pending.length === 0) {
      ctx.out('nothing to change');
      return 0;
    }
    if (opts.dryRun) {
      ctx.out(`dry run: ${plural(pending.length, 'change')} not applied`);
      return 0;
    }
  }
  const applied: { kind: string; id: string }[] = [];
  try {
    for (const c of pending) {
      const path = `/v1/rules/${encodeURIComponent(c.id)}`;
      if (c.kind === 'create') await ctx.client.post('/v1/rules', c.input);
      else if (c.kind === 'update')
        await ctx.client.patch(
          path,
          Object.fromEntries(c.fields.map((f) => [f, c.input[f] ?? normalized(c.input)[f]])),
        );
      else if (c.kind === 'delete') await ctx.client.delete(path);
      applied.push({ kind: c.kind, id: c.id });
    }
  } finally {
    const count = (kind: string) => applied.filter((a) => a.kind === kind).length;
    const summary = `applied: ${count('create')} created, ${count('update')} updated, ${count('delete')} deleted`;
    if (ctx.json) ctx.printJson({ dry_run: false, applied });
    else if (applied.length < pending.length) ctx.note(`${summary} before the error below`);
    else ctx.out(summary);
  }
  return 0;
}
