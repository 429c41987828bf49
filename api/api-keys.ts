/** API keys from ESCALATE_API_KEYS: `key` or `key:scope`, scopes `admin` | `ingest`. */
export type ApiScope = 'admin' | 'ingest';

export interface ApiKey {
  key: string;
  scope: ApiScope;
  /** Safe to log and audit: a short fingerprint, never the key. */
  label: string;
}

export function parseApiKeys(raw: string | undefined): ApiKey[] {
  if (!raw) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const idx = entry.lastIndexOf(':');
      const scope = idx > 0 ? entry.slice(idx + 1) : '';
      if (scope === 'admin' || scope === 'ingest') {
        const key = entry.slice(0, idx);
        return { key, scope, label: keyLabel(key) };
      }
      return { key: entry, scope: 'admin' as const, label: keyLabel(entry) };
    });
}

export const keyLabel = (key: string): string => `key…${key.slice(-4)}`;
