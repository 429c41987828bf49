/**
 * Shapes a rendered custom-field value (always a string) into what Jira accepts for the field's
 * schema, as the create metadata describes it: number → JSON number, option → `{value}`, arrays
 * (options, strings, labels, users, components, versions, groups) from a comma-separated
 * rendering or a JSON array, user → `{accountId}` (Cloud) / `{name}` (Data Center), date →
 * `YYYY-MM-DD`, datetime → `YYYY-MM-DDTHH:mm:ss.SSS+0000`, multi-line text → ADF on Cloud.
 * Pure: a value that cannot be shaped comes back as a problem to report, naming the field.
 */
import { MAX_DESCRIPTION, safeLabel, truncate } from '../domain/ticket.js';
import { textToAdf } from './jira-format.js';

/** One field of `GET …/issue/createmeta/{project}/issuetypes/{id}`. */
export interface JiraFieldMeta {
  fieldId: string;
  name: string;
  required?: boolean;
  schema?: { type?: string; items?: string; custom?: string; system?: string };
  allowedValues?: unknown[];
}

export type ShapeResult = { value: unknown } | { omit: true } | { problem: string };

/** Jira's single-line text fields hold at most 255 characters. */
const MAX_TEXT_FIELD = 255;

const customType = (meta: JiraFieldMeta): string => meta.schema?.custom?.split(':').pop() ?? '';

/** "Risk Score" (number), "Classifications" (array of option)… for messages. */
export function describeField(meta: JiraFieldMeta): string {
  const s = meta.schema ?? {};
  const type = s.type === 'array' ? `array of ${s.items ?? 'unknown'}` : (s.type ?? 'unknown type');
  return `${meta.fieldId} ("${meta.name}", ${type})`;
}

/** A JSON array rendering (`["a","b"]`) or a comma-separated one (`a, b`); blanks dropped. */
function listOf(rendered: string): string[] | { problem: string } {
  const text = rendered.trim();
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return {
        problem: `${JSON.stringify(excerpt(text))} is neither a JSON array nor a comma-separated list`,
      };
    }
    if (!Array.isArray(parsed)) return { problem: 'expected a list' };
    const items: string[] = [];
    for (const item of parsed) {
      if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean')
        items.push(String(item).trim());
      else return { problem: `list items must be strings or numbers, got ${JSON.stringify(item)}` };
    }
    return items.filter(Boolean);
  }
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const excerpt = (text: string): string => (text.length > 60 ? `${text.slice(0, 59)}…` : text);

/** An option as Jira lists it (`{value}` for custom fields, `{name}` for some system ones). */
function optionLabel(option: unknown): string | undefined {
  if (!option || typeof option !== 'object') return undefined;
  const o = option as { value?: unknown; name?: unknown };
  if (typeof o.value === 'string') return o.value;
  return typeof o.name === 'string' ? o.name : undefined;
}

/** The allowed option matching `wanted` (exactly, else ignoring case), or a problem listing them. */
function matchOption(meta: JiraFieldMeta, wanted: string): { value: string } | { problem: string } {
  const allowed = (meta.allowedValues ?? []).map(optionLabel).filter((v): v is string => v !== undefined);
  if (!allowed.length) return { value: wanted };
  const exact =
    allowed.find((v) => v === wanted) ?? allowed.find((v) => v.toLowerCase() === wanted.toLowerCase());
  if (exact !== undefined) return { value: exact };
  const shown = allowed.slice(0, 20).map((v) => JSON.stringify(v));
  return {
    problem: `${JSON.stringify(excerpt(wanted))} is not an allowed option (allowed: ${shown.join(', ')}${allowed.length > 20 ? ', …' : ''})`,
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function parseInstant(text: string): Date | undefined {
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : new Date(at);
}

const isoDate = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
/** Jira's datetime format (`yyyy-MM-dd'T'HH:mm:ss.SSSZ`), in UTC. */
const jiraDateTime = (d: Date) =>
  `${isoDate(d)}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}+0000`;

type Api = 'cloud' | 'datacenter';

/** One element of a scalar or array field, by its (item) type. */
function shapeItem(
  meta: JiraFieldMeta,
  type: string,
  text: string,
  api: Api,
): { value: unknown } | { problem: string } {
  switch (type) {
    case 'string':
    case 'any':
      return { value: text };
    case 'number': {
      const n = Number(text);
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) && Number.isFinite(n)
        ? { value: n }
        : { problem: `${JSON.stringify(excerpt(text))} is not a number` };
    }
    case 'option': {
      const option = matchOption(meta, text);
      return 'problem' in option ? option : { value: { value: option.value } };
    }
    case 'user':
      return { value: api === 'cloud' ? { accountId: text } : { name: text } };
    case 'group':
    case 'version':
    case 'component':
    case 'priority':
      return { value: { name: text } };
    case 'date': {
      const d = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : parseInstant(text);
      return d && !Number.isNaN(d.getTime())
        ? { value: isoDate(d) }
        : { problem: `${JSON.stringify(excerpt(text))} is not a date` };
    }
    case 'datetime': {
      const d = parseInstant(text);
      return d
        ? { value: jiraDateTime(d) }
        : { problem: `${JSON.stringify(excerpt(text))} is not a date-time` };
    }
    default:
      return { problem: `field type "${type}" is not supported by escalate` };
  }
}

const SCALAR_TYPES = new Set([
  'string',
  'any',
  'number',
  'option',
  'user',
  'group',
  'version',
  'component',
  'priority',
  'date',
  'datetime',
]);

/** Why escalate cannot fill the field at all (whatever the value), or undefined when it can. */
export function unfillableReason(meta: JiraFieldMeta): string | undefined {
  const type = meta.schema?.type ?? 'string';
  if (type === 'array') {
    const items = meta.schema?.items ?? 'string';
    return SCALAR_TYPES.has(items) ? undefined : `lists of "${items}" are not supported by escalate`;
  }
  return SCALAR_TYPES.has(type) ? undefined : `field type "${type}" is not supported by escalate`;
}

/** Shapes `rendered` for the field; an empty rendering leaves the field out. */
export function shapeJiraFieldValue(meta: JiraFieldMeta, rendered: string, api: Api): ShapeResult {
  const type = meta.schema?.type ?? 'string';
  const text = rendered.trim();
  if (!text) return { omit: true };
  if (type === 'array') {
    const items = listOf(text);
    if (!Array.isArray(items)) return items;
    const itemType = meta.schema?.items ?? 'string';
    const labels = meta.schema?.system === 'labels' || customType(meta) === 'labels';
    const values: unknown[] = [];
    for (const item of items) {
      if (labels) {
        values.push(safeLabel(item));
        continue;
      }
      const shaped = shapeItem(meta, itemType, item, api);
      if ('problem' in shaped) return shaped;
      values.push(shaped.value);
    }
    return { value: values };
  }
  if (type === 'string') {
    // Multi-line text fields take ADF on Cloud (REST v3), like the description.
    if (customType(meta) === 'textarea')
      return {
        value: api === 'cloud' ? textToAdf(truncate(text, MAX_DESCRIPTION)) : truncate(text, MAX_DESCRIPTION),
      };
    return { value: truncate(text, MAX_TEXT_FIELD) };
  }
  return shapeItem(meta, type, text, api);
}
