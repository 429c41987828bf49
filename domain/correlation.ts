/**
 * Correlation: the key that makes an event a recurrence of an active ticket instead of a new one.
 * Pure and deterministic; callers scope the key per connector.
 */
import type { CompactEvent } from './event.js';

const lower = (s: string) => s.toLowerCase();

/** Top-level event fields a correlation key may use (besides `policy.*` and `tags.<key>`). */
export const CORRELATABLE_FIELDS = [
  'event_type',
  'severity',
  'risk_score',
  'summary',
  'source',
  'user_email',
  'model',
  'provider',
  'platform_id',
  'classifications',
  'policy.id',
  'policy.name',
  'policy.action',
] as const;

export const DEFAULT_CORRELATE_BY: readonly string[] = ['event_type', 'policy.id', 'user_email'];

/** `tags.<key>` (the key may itself contain dots) or one of CORRELATABLE_FIELDS. */
export function isCorrelatableField(path: string): boolean {
  if (path.startsWith('tags.')) return path.length > 'tags.'.length;
  return (CORRELATABLE_FIELDS as readonly string[]).includes(path);
}

/** `%`, `|` and `=` are escaped so distinct field values can never produce the same key. */
const escapeKeyPart = (s: string) => s.replace(/%/g, '%25').replace(/\|/g, '%7C').replace(/=/g, '%3D');

function fieldValue(event: CompactEvent, path: string): string {
  if (path.startsWith('tags.')) {
    const key = path.slice('tags.'.length);
    const tags = event.tags ?? {};
    return Object.hasOwn(tags, key) ? (tags[key] ?? '') : '';
  }
  switch (path) {
    case 'policy.id':
      return event.policy?.id ?? '';
    case 'policy.name':
      return event.policy?.name ?? '';
    case 'policy.action':
      return lower(event.policy?.action ?? '');
    case 'user_email':
      // Mailbox names are case-insensitive in practice: Alice@x and alice@x are one person.
      return lower(event.user_email ?? '');
    case 'classifications':
      return [...new Set((event.classifications ?? []).map((c) => c.type.toUpperCase()))].sort().join(',');
    case 'risk_score':
      return event.risk_score === undefined ? '' : String(event.risk_score);
    case 'event_type':
    case 'severity':
    case 'summary':
    case 'source':
    case 'model':
    case 'provider':
    case 'platform_id': {
      const v = event[path];
      return v === undefined ? '' : String(v);
    }
    default:
      return '';
  }
}

/**
 * The key a ticket is correlated by, e.g. `event_type=policy_violation|policy.id=p1|user_email=a@x`.
 * Fields are sorted and de-duplicated (so their order in a rule does not matter); missing fields
 * are empty. Deterministic and pure; callers scope it per connector.
 */
export function correlationKey(
  event: CompactEvent,
  fields: readonly string[] = DEFAULT_CORRELATE_BY,
): string {
  const paths = [...new Set(fields.length ? fields : DEFAULT_CORRELATE_BY)].sort();
  return paths.map((p) => `${escapeKeyPart(p)}=${escapeKeyPart(fieldValue(event, p))}`).join('|');
}
