/**
 * `docker compose config`'s checks, offline: variables interpolated as Compose does, then the
 * Compose specification's JSON schema — the copy `docker compose` itself embeds, from the
 * compose-go module fetched through the Go module proxy at a pinned version and cached under
 * `.tools/compose-spec/<version>/`.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';

export const COMPOSE_GO = 'github.com/compose-spec/compose-go/v2';
export const COMPOSE_GO_VERSION = 'v2.16.2';
const ROOT = resolve(import.meta.dirname, '../..');

/** The schema file, downloaded once (`go mod download`, a few hundred kB). */
export function composeSpecSchemaPath(): string {
  const dir = join(ROOT, '.tools/compose-spec', COMPOSE_GO_VERSION);
  const file = join(dir, 'compose-spec.json');
  if (existsSync(file)) return file;
  const out = execFileSync('go', ['mod', 'download', '-json', `${COMPOSE_GO}@${COMPOSE_GO_VERSION}`], {
    encoding: 'utf8',
  });
  const moduleDir = (JSON.parse(out) as { Dir: string }).Dir;
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(moduleDir, 'schema/compose-spec.json'), `${file}.partial`);
  renameSync(`${file}.partial`, file);
  return file;
}

/** A validator with the schema's own formats (compose-go registers `duration` as Go's). */
export function composeSpecValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/);
  return ajv.compile(JSON.parse(readFileSync(composeSpecSchemaPath(), 'utf8')));
}

const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Compose's interpolation of string values: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alternative}`, `${VAR+alternative}`.
 */
export function interpolate(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (match, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (match === '$$') return '$';
      const name = (braced ?? bare)!;
      const v = env[name];
      const unset = v === undefined;
      const empty = unset || v === '';
      switch (op) {
        case ':-':
          return empty ? arg! : v!;
        case '-':
          return unset ? arg! : v!;
        case ':?':
        case '?':
          if (op === ':?' ? empty : unset) throw new Error(`required variable ${name} is missing: ${arg}`);
          return v!;
        case ':+':
          return empty ? '' : arg!;
        case '+':
          return unset ? '' : arg!;
        default:
          return v ?? '';
      }
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}
