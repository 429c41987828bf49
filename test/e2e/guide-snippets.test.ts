/**
 * The signature-verification snippets of the guides (docs/*.md, code blocks tagged
 * `verify-escalate-signature`), run as printed — Python with python3, JavaScript with node —
 * against a request escalate really sent: they accept it, and refuse a changed body or a wrong
 * secret.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from '../fakes/webhook-receiver.js';
import { eventually } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

const DOCS = new URL('../../docs/', import.meta.url);
const TAG = 'verify-escalate-signature';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface Snippet {
  file: string;
  language: 'python' | 'js';
  code: string;
}

/** Fenced blocks whose info string is `<language> verify-escalate-signature`. */
function snippets(): Snippet[] {
  const found: Snippet[] = [];
  for (const file of readdirSync(DOCS).filter((f) => f.endsWith('.md'))) {
    const text = readFileSync(new URL(file, DOCS), 'utf8');
    for (const m of text.matchAll(/^```(\w+) ([\w-]+)\n([\s\S]*?)^```$/gm)) {
      if (m[2] !== TAG) continue;
      const language = m[1] === 'python' ? 'python' : m[1] === 'js' ? 'js' : undefined;
      if (!language) throw new Error(`${file}: ${TAG} block in unsupported language ${m[1]}`);
      found.push({ file, language, code: m[3]! });
    }
  }
  return found;
}

const HARNESS = {
  python: `
import os, sys
with open(os.environ["BODY_FILE"], "rb") as f:
    body = f.read()
sys.exit(0 if verify_escalate_signature(os.environ["SECRET"], body, os.environ.get("SIGNATURE")) else 1)
`,
  js: `
import { readFileSync } from 'node:fs';
const ok = verifyEscalateSignature(process.env.SECRET, readFileSync(process.env.BODY_FILE), process.env.SIGNATURE);
process.exit(ok ? 0 : 1);
`,
};

let stack: Stack;
let receiver: FakeWebhookReceiver;
let dir: string;
let sent: { body: string; signature: string };

beforeAll(async () => {
  [stack, receiver] = await Promise.all([
    startStack(),
    startFakeWebhookReceiver({ secret: SECRET, escalateSecret: SECRET }),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'escalate-snippets-'));
  const created = await stack.api('/v1/connectors', {
    method: 'POST',
    json: { name: 'receiver', kind: 'webhook', config: { url: receiver.url, secret: SECRET } },
  });
  const { id } = (await created.json()) as { id: string };
  const test = (await (await stack.api(`/v1/connectors/${id}/test`, { method: 'POST' })).json()) as {
    ok: boolean;
  };
  expect(test.ok).toBe(true);
  const request = await eventually(async () => receiver.received[0], 30_000, 'a signed request');
  sent = { body: request.rawBody, signature: request.headers['x-escalate-signature']! };
});
afterAll(async () => {
  await stack?.close();
  await receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(s: Snippet, env: { body: string; secret: string; signature: string }): number {
  const path = join(dir, `${s.file.replace(/\W/g, '_')}.${s.language === 'python' ? 'py' : 'mjs'}`);
  writeFileSync(path, `${s.code}\n${HARNESS[s.language]}`);
  const bodyFile = join(dir, 'body');
  writeFileSync(bodyFile, env.body);
  const result = spawnSync(s.language === 'python' ? 'python3' : process.execPath, [path], {
    env: { PATH: process.env.PATH, BODY_FILE: bodyFile, SECRET: env.secret, SIGNATURE: env.signature },
    encoding: 'utf8',
  });
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`${s.file} (${s.language}): ${result.stderr}`);
  return result.status;
}

describe('the guides verify X-Escalate-Signature as escalate sends it', () => {
  const all = snippets();

  it('have a Python and a Node snippet', () => {
    expect(all.map((s) => s.language).sort()).toEqual(['js', 'python']);
    expect(sent.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it.each(all.map((s) => [`${s.file} ${s.language}`, s] as const))(
    '%s accepts the real request only',
    (_, s) => {
      expect(run(s, { body: sent.body, secret: SECRET, signature: sent.signature })).toBe(0);
      expect(run(s, { body: `${sent.body} `, secret: SECRET, signature: sent.signature })).toBe(1);
      expect(run(s, { body: sent.body, secret: `${SECRET}x`, signature: sent.signature })).toBe(1);
      expect(run(s, { body: sent.body, secret: SECRET, signature: '' })).toBe(1);
    },
  );
});
