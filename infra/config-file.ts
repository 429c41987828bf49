import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { audit } from '../db/repos/audit.js';
import { toRowValues } from '../db/repos/connectors.js';
import { connectors } from '../db/schema.js';
import { connectorIdSchema, connectorInputSchema } from '../domain/connector-input.js';
import { defaultSettings, type Settings, settingsSchema } from '../domain/settings.js';
import type { SecretBox } from './secret-box.js';

/** ESCALATE_CONFIG: settings, connectors (rules and retry policies follow the same pattern). */
const configFileSchema = z.strictObject({
  settings: settingsSchema.optional(),
  connectors: z.array(z.unknown()).default([]),
  rules: z.array(z.unknown()).optional(),
});

export interface ConfigFile {
  settings: Settings;
  connectors: z.output<typeof connectorInputSchema>[];
}

/** `${VAR}` anywhere in a string value is replaced from the environment; a missing one is an error. */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, path = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined)
        throw new Error(`ESCALATE_CONFIG ${path || '(root)'}: environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, path ? `${path}.${k}` : k)]),
    );
  }
  return value;
}

const describe = (issues: z.core.$ZodIssue[], prefix: string) =>
  issues.map((i) => `${prefix}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`).join('; ');

export function parseConfigFile(text: string, env: NodeJS.ProcessEnv = process.env): ConfigFile {
  const doc = expandEnv(parse(text) ?? {}, env);
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
  return { settings: top.data.settings ?? defaultSettings(), connectors: parsedConnectors };
}

export function loadConfigFile(path: string | undefined): ConfigFile {
  if (!path) return { settings: defaultSettings(), connectors: [] };
  return parseConfigFile(readFileSync(path, 'utf8'));
}

/** Upserts the declared connectors by id; running it again changes nothing. */
export async function applyConfigFile(db: Db, box: SecretBox, file: ConfigFile): Promise<void> {
  for (const c of file.connectors) {
    const values = toRowValues({ ...c, id: c.id!, retry: c.retry ?? null }, box, 'config');
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
        details: { kind: c.kind },
      });
    }
  }
}
