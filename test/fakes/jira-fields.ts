/**
 * Custom fields of the fake Jira: what `createmeta` lists for a project's issue type, and how a
 * create request's value for each is checked — the way Jira refuses a string in a number field,
 * an unknown option, a non-array for a multi-select, a label with spaces, a user in the wrong
 * shape, a badly formatted date, or a field that is not on the create screen.
 */
import { adfProblem } from './jira-adf.js';

export interface FakeJiraField {
  id: string;
  name: string;
  /** Jira schema type: string, number, option, array, user, date, datetime… */
  type: string;
  /** Item type of an array (option, string, user…). */
  items?: string;
  /** Custom field type key suffix (`float`, `select`, `multiselect`, `labels`, `textarea`…). */
  custom?: string;
  required?: boolean;
  /** Option values (select fields). */
  options?: string[];
}

/** The createmeta `fields` entry Jira returns for the field. */
export function fieldMeta(f: FakeJiraField) {
  return {
    fieldId: f.id,
    key: f.id,
    name: f.name,
    required: f.required ?? false,
    operations: ['set'],
    schema: {
      type: f.type,
      ...(f.items ? { items: f.items } : {}),
      custom: `com.atlassian.jira.plugin.system.customfieldtypes:${f.custom ?? f.type}`,
      customId: Number(f.id.replace('customfield_', '')),
    },
    ...(f.options
      ? { allowedValues: f.options.map((value, i) => ({ self: '', value, id: String(10_100 + i) })) }
      : {}),
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Jira's message for one element of the field's (item) type, or undefined when it is acceptable. */
function itemProblem(f: FakeJiraField, type: string, value: unknown, api: 2 | 3): string | undefined {
  switch (type) {
    case 'number':
      return typeof value === 'number' ? undefined : 'Operation value must be a number';
    case 'string':
      if (f.custom === 'textarea' && api === 3) {
        const problem = adfProblem(value);
        return problem ? `Operation value must be an Atlassian Document (${problem})` : undefined;
      }
      if (typeof value !== 'string') return 'Operation value must be a string';
      if (f.custom !== 'textarea' && value.length > 255)
        return 'The entered text is too long. It exceeds the allowed limit of 255 characters.';
      if (f.custom === 'labels' && /\s/.test(value))
        return `The label '${value}' contains spaces which is invalid.`;
      return undefined;
    case 'option': {
      const v = isPlainObject(value) ? value.value : undefined;
      if (typeof v !== 'string') return `Specify a valid 'id' or 'name' for ${f.name}`;
      return f.options && !f.options.includes(v) ? `Option value '${v}' is not valid` : undefined;
    }
    case 'user': {
      const key = api === 3 ? 'accountId' : 'name';
      return isPlainObject(value) && typeof value[key] === 'string' && value[key]
        ? undefined
        : `Specify a valid value for ${f.name}`;
    }
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)
        ? undefined
        : `Error parsing date string: ${String(value)}`;
    case 'datetime':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$/.test(value)
        ? undefined
        : `Error parsing date string: ${String(value)}`;
    default:
      return undefined;
  }
}

/** Field errors (by field id) for the custom fields of a create request. */
export function customFieldErrors(
  fields: Record<string, unknown>,
  onScreen: readonly FakeJiraField[],
  api: 2 | 3,
): Record<string, string> {
  const errors: Record<string, string> = {};
  const byId = new Map(onScreen.map((f) => [f.id, f]));
  for (const [id, value] of Object.entries(fields)) {
    if (!id.startsWith('customfield_')) continue;
    const f = byId.get(id);
    if (!f) {
      errors[id] = `Field '${id}' cannot be set. It is not on the appropriate screen, or unknown.`;
      continue;
    }
    if (f.type === 'array') {
      if (!Array.isArray(value)) {
        errors[id] = 'data was not an array';
        continue;
      }
      const itemType = f.items ?? 'string';
      const problem = value
        .map((v) => itemProblem({ ...f, custom: f.custom }, itemType, v, api))
        .find(Boolean);
      if (problem) errors[id] = problem;
      continue;
    }
    const problem = itemProblem(f, f.type, value, api);
    if (problem) errors[id] = problem;
  }
  for (const f of onScreen)
    if (f.required && (fields[f.id] === undefined || fields[f.id] === null))
      errors[f.id] = `${f.name} is required.`;
  return errors;
}
