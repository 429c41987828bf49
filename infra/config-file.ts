import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { toRowValues } from '../db/repos/connectors.js';
import { applyDeclaration, RuleNameTaken } from '../db/repos/declaration.js';
import { RULE_ID_MESSAGE, RULE_ID_PATTERN } from '../db/repos/rules.js';
import { connectorIdSchema, connectorInputSchema } from '../domain/connector-input.js';
import { expandEnvReferences } from '../domain/env-references.js';
import { type Rule, ruleSchema } from '../domain/rule-schema.js';
import { defaultSettings, type Settings, settingsSchema } from '../domain/settings.js';
import type { SecretBox } from './secret-box.js';

/** ESCALATE_CONFIG: settings, connectors and rules (retry policies live in settings and connectors). */
const configFileSchema = z.strictObject({
  settings: settingsSchema.optional(),
  connectors: z.array(z.unknown()).default([]),
  rules: z.array(z.unknown()).default([]),
});

/** A rule in the file: a stable `id` is required, so applying the file again updates, never duplicates. */
const configRuleSchema = z.strictObject({
  id: z
    .string({ error: 'id is required (a stable id keeps the file idempotent)' })
    .regex(RULE_ID_PATTERN, RULE_ID_MESSAGE),
  ...ruleSchema.shape,
});

export interface ConfigFile {
  settings: Settings;
  connectors: z.output<typeof connectorInputSchema>[];
  /** Applied after the connectors, in file order. */
  rules: Rule[];
  /**
   * True for a file that was read: it is the whole declaration, so connectors and rules it once
   * declared (origin `config`) and no longer does are retired. False when no file is configured.
   */
  declarative?: boolean;
}

/** `rules[0].then.targets[1]`: the field an admin has to fix. */
const fieldPath = (prefix: string, path: readonly PropertyKey[]) => {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
};

const describe = (issues: z.core.$ZodIssue[], prefix: string) =>
  issues.map((i) => `${fieldPath(prefix, i.path)}: ${i.message}`).join('; ');

const invalid = (message: string) => new Error(`ESCALATE_CONFIG is invalid: ${message}`);

export function parseConfigFile(text: string, env: NodeJS.ProcessEnv = process.env): ConfigFile {
  const doc = expandEnvReferences(parse(text) ?? {}, env, 'ESCALATE_CONFIG');
  const top = configFileSchema.safeParse(doc);
  if (!top.success) throw new Error(`ESCALATE_CONFIG is invalid: ${describe(top.error.issues, '')}`);
  const parsedConnectors = top.data.connectors.map((raw, i) => {
    const c = connectorInputSchema.safeParse(raw);
    if (!c.success)
      throw new Error(`ESCALATE_CONFIG is invalid: ${describe(c.error.issues, `connectors[${i}]`)}`);
    if (!c.data.id || !connectorIdSchema.safeParse(c.data.id).success) {
      throw new Error(
        `ESCALATE_CONFIG is invalid: connectors[${i}].id is required (a stable id keeps the file idempotent)`,
      );
    }
    return c.data;
  });
  const ruleIds = new Map<string, number>();
  const ruleNames = new Map<string, number>();
  const parsedRules = top.data.rules.map((raw, i): Rule => {
    const r = configRuleSchema.safeParse(raw);
    if (!r.success) throw invalid(describe(r.error.issues, `rules[${i}]`));
    const sameId = ruleIds.get(r.data.id);
    if (sameId !== undefined)
      throw invalid(`rules[${i}].id: ${r.data.id} is also the id of rules[${sameId}]`);
    const sameName = ruleNames.get(r.data.name);
    if (sameName !== undefined)
      throw invalid(`rules[${i}].name: "${r.data.name}" is also the name of rules[${sameName}]`);
    ruleIds.set(r.data.id, i);
    ruleNames.set(r.data.name, i);
    return r.data;
  });
  return {
    settings: top.data.settings ?? defaultSettings(),
    connectors: parsedConnectors,
    rules: parsedRules,
    declarative: true,
  };
}

export function loadConfigFile(path: string | undefined): ConfigFile {
  if (!path) return { settings: defaultSettings(), connectors: [], rules: [] };
  return parseConfigFile(readFileSync(path, 'utf8'));
}

/**
 * Upserts the declared connectors, then the declared rules, by id; running it again changes
 * nothing. What an earlier file declared and this one no longer does is retired: its rules are
 * deleted, its connectors disabled. Connectors and rules made through the API are never touched.
 */
export async function applyConfigFile(db: Db, box: SecretBox, file: ConfigFile): Promise<void> {
  try {
    await applyDeclaration(db, {
      connectors: file.connectors.map((c) =>
        toRowValues({ ...c, id: c.id!, retry: c.retry ?? null }, box, 'config'),
      ),
      rules: file.rules,
      retireUndeclared: file.declarative === true,
    });
  } catch (err) {
    if (err instanceof RuleNameTaken)
      throw invalid(
        `rules[${err.index}].name: a rule named "${err.rule.name}" with another id exists (not ${err.rule.id})`,
      );
    throw err;
  }
}
