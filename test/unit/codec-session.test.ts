import { describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/api-keys.js';
import { CODEC_SESSION_SECONDS, issueCodecSession, verifyCodecSession } from '../../api/codec-session.js';

const keys = parseApiKeys(
  'admin-key-0123456789:admin,other-admin-9876543210:admin,ingest-key-0123456789:ingest',
);
const [admin, otherAdmin, ingest] = keys as [(typeof keys)[0], (typeof keys)[0], (typeof keys)[0]];

describe('codec browser sessions', () => {
  it('name the admin key that signed in, without carrying it', () => {
    const token = issueCodecSession(admin);
    expect(token).toMatch(/^v1\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(token).not.toContain(admin.key);
    expect(verifyCodecSession(keys, token)).toBe(admin);
    expect(verifyCodecSession(keys, issueCodecSession(otherAdmin))).toBe(otherAdmin);
  });

  it('end at their expiry', () => {
    const now = Date.now();
    const token = issueCodecSession(admin, now);
    expect(verifyCodecSession(keys, token, now + (CODEC_SESSION_SECONDS - 60) * 1000)).toBe(admin);
    expect(verifyCodecSession(keys, token, now + (CODEC_SESSION_SECONDS + 1) * 1000)).toBeUndefined();
  });

  it('end when their key is removed from ESCALATE_API_KEYS', () => {
    const token = issueCodecSession(admin);
    expect(verifyCodecSession([otherAdmin, ingest], token)).toBeUndefined();
  });

  it('are never granted to ingest keys, and refuse edited or foreign tokens', () => {
    expect(verifyCodecSession(keys, issueCodecSession(ingest))).toBeUndefined();
    const token = issueCodecSession(admin);
    const [v, expiry, mac] = token.split('.') as [string, string, string];
    // A later expiry with the old MAC.
    expect(verifyCodecSession(keys, `${v}.${Number(expiry) + 3600}.${mac}`)).toBeUndefined();
    expect(verifyCodecSession(keys, `${v}.${expiry}.${mac.slice(0, -2)}AA`)).toBeUndefined();
    for (const junk of ['', 'v1', 'v1..', `v2.${expiry}.${mac}`, admin.key])
      expect(verifyCodecSession(keys, junk), junk).toBeUndefined();
  });
});
