/**
 * Connector forms drawn from the config schemas themselves (domain/connector.ts): a text input per
 * plain field, a select per enum, a password input per secret (write-only: empty keeps the stored
 * one, a ticked "remove" box removes it), a textarea per template, and YAML for the structured fields (maps, lists). The API still
 * validates everything; this only turns form fields into the JSON it takes.
 */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { CONFIG_SCHEMAS, type ConnectorKind, SECRET_FIELDS } from '../../domain/connector.js';

export type FieldKind = 'text' | 'secret' | 'select' | 'number' | 'template' | 'yaml';

export interface FormField {
  name: string;
  kind: FieldKind;
  required: boolean;
  options?: string[];
  /** The schema's default, shown as a placeholder. */
  placeholder?: string;
}

interface Def {
  type: string;
  innerType?: { def: Def };
  defaultValue?: unknown;
  entries?: Record<string, string>;
  options?: readonly { def: Def }[];
}

/** Durations are `"60s"` or milliseconds: one text input. */
const isDuration = (def: Def) =>
  def.type === 'union' && (def.options ?? []).every((o) => ['string', 'number'].includes(o.def.type));

export function configFields(kind: ConnectorKind): FormField[] {
  const shape = CONFIG_SCHEMAS[kind].shape as unknown as Record<string, { def: Def }>;
  return Object.entries(shape).map(([name, schema]) => {
    let def = schema.def;
    let required = true;
    let placeholder: string | undefined;
    while (def.type === 'optional' || def.type === 'default') {
      required = false;
      if (def.type === 'default') placeholder = String(def.defaultValue);
      def = def.innerType!.def;
    }
    const field = (k: FieldKind, extra: Partial<FormField> = {}): FormField => ({
      name,
      kind: k,
      required,
      placeholder,
      ...extra,
    });
    if (SECRET_FIELDS[kind].includes(name)) return field('secret');
    if (name.endsWith('_template')) return field('template');
    if (def.type === 'enum') return field('select', { options: Object.values(def.entries ?? {}) });
    if (def.type === 'number') return field('number');
    if (def.type === 'string' || def.type === 'pipe' || isDuration(def)) return field('text');
    return field('yaml');
  });
}

/** The value a field shows when editing (secrets never). */
export function shownValue(field: FormField, value: unknown): string {
  if (value === undefined || value === null || field.kind === 'secret') return '';
  if (field.kind === 'yaml') return stringifyYaml(value).trimEnd();
  return String(value);
}

/** A YAML field: empty is "not given"; otherwise the parsed value or an error naming the field. */
export function yamlValue(text: string | undefined, path: string, errors: string[]): unknown {
  if (!text?.trim()) return undefined;
  try {
    return parseYaml(text);
  } catch (err) {
    errors.push(`${path}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

/** The form field whose ticked box removes a stored secret. */
export const removeFieldName = (name: string) => `remove.config.${name}`;

/**
 * The config a form describes. On create, empty fields are left out; on edit, an emptied field
 * that is stored becomes null (the API removes it), an empty secret keeps the stored one and a
 * secret whose "remove" box is ticked becomes null.
 */
export function configFromForm(
  kind: ConnectorKind,
  form: (name: string) => string | undefined,
  current?: Record<string, unknown>,
): { config: Record<string, unknown>; errors: string[] } {
  const config: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const f of configFields(kind)) {
    const raw = form(`config.${f.name}`);
    const empty = raw === undefined || raw.trim() === '';
    if (f.kind === 'secret' && form(removeFieldName(f.name)) === 'true') {
      if (!empty) errors.push(`config.${f.name}: enter a new value or tick "remove", not both`);
      else if (current?.[f.name] !== undefined) config[f.name] = null;
      continue;
    }
    if (empty) {
      if (current && f.kind !== 'secret' && current[f.name] !== undefined) config[f.name] = null;
      continue;
    }
    if (f.kind === 'yaml') config[f.name] = yamlValue(raw, `config.${f.name}`, errors);
    else if (f.kind === 'number' || (f.name === 'timeout' && /^\d+$/.test(raw.trim())))
      config[f.name] = Number(raw.trim());
    else config[f.name] = f.kind === 'template' ? raw : raw.trim();
  }
  return { config, errors };
}

/**
 * An edit of a connector whose stored secrets cannot be decrypted: nothing stored can be kept, so
 * the PATCH names every secret field of the kind, the ones left empty as null (removed).
 */
export function withEverySecret(
  kind: ConnectorKind,
  config: Record<string, unknown>,
): Record<string, unknown> {
  return { ...Object.fromEntries(SECRET_FIELDS[kind].map((name) => [name, null])), ...config };
}
