/**
 * Secrets follow their host (domain/connector-patch.ts): a PATCH that would lead stored secrets
 * anywhere new (another host, a new proxy, a server trusted through a new CA or not verified at
 * all) must send every stored secret again; the rest merges.
 */
import { describe, expect, it } from 'vitest';
import { MASK, mergeConfigPatch } from '../../domain/connector-patch.js';

const storedConfig = {
  base_url: 'https://acme.atlassian.net',
  api: 'cloud',
  email: 'bot@acme.com',
  project_key: 'SEC',
  issue_type: 'Task',
};
const readable = (values: Record<string, unknown>) => ({ readable: true as const, values });

const merge = (patch: Record<string, unknown>, secrets: Record<string, unknown> = { api_token: 'tok' }) =>
  mergeConfigPatch({ kind: 'jira', storedConfig, storedSecrets: readable(secrets), patch });

describe('secrets follow their host', () => {
  it('a new host needs the secrets again', () => {
    expect(merge({ base_url: 'https://evil.example' })).toMatchObject({
      kind: 'secrets_required',
      fields: ['api_token'],
      hosts: ['https://evil.example'],
    });
  });

  it('a new proxy needs the other secrets again, naming the proxy', () => {
    expect(merge({ proxy_url: 'http://user:pw@evil.example:3128' })).toMatchObject({
      kind: 'secrets_required',
      fields: ['api_token'],
      hosts: ['the proxy http://evil.example:3128'],
    });
    expect(
      merge({ proxy_url: 'http://evil.example:3128' }, { api_token: 'tok', proxy_url: 'http://corp:3128' }),
    ).toMatchObject({ kind: 'secrets_required', fields: ['api_token'] });
  });

  it('certificate checks turned off or a new CA need the secrets again', () => {
    expect(merge({ tls: { insecure_skip_verify: true } })).toMatchObject({
      kind: 'secrets_required',
      hosts: ['a server whose certificate is not verified (tls.insecure_skip_verify)'],
    });
    expect(
      merge({ tls: { ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' } }),
    ).toMatchObject({
      kind: 'secrets_required',
      hosts: ['a server trusted through a new tls.ca'],
    });
  });

  it('merges when the secrets are sent again, the proxy is kept (masked) or removed, or nothing moves', () => {
    expect(merge({ proxy_url: 'http://evil.example:3128', api_token: 'new' })).toMatchObject({
      kind: 'merged',
    });
    const withProxy = { api_token: 'tok', proxy_url: 'http://corp:3128' };
    expect(merge({ proxy_url: MASK, issue_type: 'Bug' }, withProxy)).toMatchObject({ kind: 'merged' });
    expect(merge({ proxy_url: null }, withProxy)).toMatchObject({ kind: 'merged' });
    expect(merge({ issue_type: 'Bug' })).toMatchObject({ kind: 'merged', changed: ['issue_type'] });
  });
});
