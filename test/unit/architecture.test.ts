/**
 * The rooms and their arrows (ARCHITECTURE.md), checked two ways: the import graph between the
 * top-level folders, read with TypeScript's parser so type-only imports (erased at runtime) are
 * told apart; and the Biome rules that make `npm run lint` (and so CI) refuse a new wrong arrow.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const ROOMS = ['api', 'activities', 'workflows', 'connectors', 'domain', 'db', 'infra', 'cli'] as const;
/** Entry points and wiring: they may import any room; no room may import them. */
const TOP = '(top)';

interface Edge {
  from: string;
  to: string;
  runtime: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every relative import of a file: `import`, `export … from` and `import()`, type-only or not. */
function importsOf(file: string): { specifier: string; typeOnly: boolean }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier))
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.importClause?.isTypeOnly ?? false });
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    )
      found.push({ specifier: node.arguments[0].text, typeOnly: false });
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found.filter((i) => i.specifier.startsWith('.'));
}

const roomOf = (path: string): string => {
  const first = normalize(relative(ROOT, path)).split('/')[0]!;
  return (ROOMS as readonly string[]).includes(first) ? first : TOP;
};

function roomEdges(): Edge[] {
  const files = [
    ...ROOMS.flatMap((room) => sourceFiles(join(ROOT, room))),
    ...readdirSync(ROOT)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(ROOT, f)),
  ];
  return files.flatMap((file) =>
    importsOf(file).map((i) => ({
      from: roomOf(file),
      to: roomOf(resolve(dirname(file), i.specifier)),
      runtime: !i.typeOnly,
      file: relative(ROOT, file),
    })),
  );
}

/** A cycle among the rooms' runtime arrows, if there is one. */
function findCycle(edges: Edge[]): string[] | undefined {
  const next = new Map<string, Set<string>>();
  for (const e of edges)
    if (e.runtime && e.from !== e.to) next.set(e.from, (next.get(e.from) ?? new Set()).add(e.to));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (room: string): string[] | undefined => {
    if (state.get(room) === 'open') return [...path.slice(path.indexOf(room)), room];
    if (state.get(room) === 'done') return undefined;
    state.set(room, 'open');
    path.push(room);
    for (const to of next.get(room) ?? []) {
      const cycle = visit(to);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(room, 'done');
    return undefined;
  };
  for (const room of next.keys()) {
    const cycle = visit(room);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('the import graph between rooms', () => {
  const edges = roomEdges();
  const runtime = (from: string, to: string) =>
    edges
      .filter((e) => e.runtime && e.from === from && e.to === to)
      .map((e) => (e as Edge & { file: string }).file);

  it('has no runtime cycle', () => {
    expect(findCycle(edges)).toBeUndefined();
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    expect(
      findCycle([
        { from: 'db', to: 'infra', runtime: true },
        { from: 'infra', to: 'db', runtime: true },
      ]),
    ).toEqual(['db', 'infra', 'db']);
    expect(
      findCycle([
        { from: 'db', to: 'infra', runtime: false },
        { from: 'infra', to: 'db', runtime: true },
      ]),
    ).toBeUndefined();
  });

  it('api/ never imports activities/ or connectors/, not even a type', () => {
    expect(edges.filter((e) => e.from === 'api' && (e.to === 'activities' || e.to === 'connectors'))).toEqual(
      [],
    );
  });

  it('domain/ imports no other room; connectors/ only domain/', () => {
    expect(edges.filter((e) => e.from === 'domain' && e.to !== 'domain')).toEqual([]);
    expect(edges.filter((e) => e.from === 'connectors' && !['connectors', 'domain'].includes(e.to))).toEqual(
      [],
    );
  });

  it('workflows/ reach activities/ by type only, and nothing but domain/ at runtime', () => {
    expect(runtime('workflows', 'activities')).toEqual([]);
    const rooms = new Set(edges.filter((e) => e.from === 'workflows' && e.runtime).map((e) => e.to));
    expect([...rooms].sort()).toEqual(['domain', 'workflows']);
  });

  it('no room imports the entry points or the wiring', () => {
    expect(edges.filter((e) => e.to === TOP && e.from !== TOP)).toEqual([]);
  });
});

describe('the linter refuses a new wrong arrow', () => {
  const dir = mkdtempSync(join(tmpdir(), 'escalate-arch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(ROOT, 'biome.json'), join(dir, 'biome.json'));
  const biome = join(ROOT, 'node_modules', '.bin', 'biome');

  /** Lints one probe file placed at `path` under a copy of the project's Biome configuration. */
  const lint = (path: string, source: string): { ok: boolean; output: string } => {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, source);
    try {
      execFileSync(biome, ['lint', '--max-diagnostics=5', path], {
        cwd: dir,
        encoding: 'utf8',
        stdio: 'pipe',
      });
      return { ok: true, output: '' };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    } finally {
      rmSync(file);
    }
  };

  it.each([
    ['api/probe.ts', "import { claimActivities } from '../activities/claims.js';"],
    ['api/probe.ts', "import type { Activities } from '../activities/index.js';"],
    ['api/probe.ts', "import { createJiraIssue } from '../connectors/jira.js';"],
    ['api/probe.ts', "import type { violationWorkflow } from '../workflows/violation.js';"],
    ['domain/probe.ts', "import { getTicket } from '../db/repos/tickets.js';"],
    ['connectors/probe.ts', "import { audit } from '../db/repos/audit.js';"],
    ['connectors/probe.ts', "import { ApplicationFailure } from '@temporalio/activity';"],
    ['db/probe.ts', "import { startViolation } from '../infra/workflow-client.js';"],
    ['workflows/probe.ts', "import { getViolation } from '../db/repos/violations.js';"],
    ['workflows/probe.ts', "import { readFileSync } from 'node:fs';"],
    ['infra/probe.ts', "import { createApp } from '../api/app.js';"],
    ['activities/probe.ts', "import { createApp } from '../api/app.js';"],
  ])('%s: %s', (path, line) => {
    const result = lint(path, `${line}\n`);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('noRestrictedImports');
  });

  it.each([
    ['api/probe.ts', "import { ticketWorkflowId } from '../workflows/contract.js';"],
    ['workflows/probe.ts', "import type { Activities } from '../activities/index.js';"],
    ['db/probe.ts', "import type { SecretBox } from '../infra/secret-box.js';"],
    ['activities/probe.ts', "import { createTicket } from '../connectors/itsm.js';"],
  ])('%s may: %s', (path, line) => {
    expect(lint(path, `${line}\n`)).toEqual({ ok: true, output: '' });
  });
});
