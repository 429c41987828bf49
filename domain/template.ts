/**
 * A small, safe template language for ticket titles, descriptions and custom fields.
 *
 *   {{ path }}                       dotted path with optional [n] / ["key"] steps: policy.name, classifications[0].type
 *   {{ path | filter | filter(arg) }} filters take literal arguments: "strings", 'strings', numbers
 *   {{ "literal" | upper }}          a quoted string can stand in for the path
 *   \{{                               a literal "{{" (so is {{ "{{" }})
 *
 * Only own, enumerable data properties of plain objects and arrays are readable; `__proto__`,
 * `prototype` and `constructor` never resolve; getters are never called; nothing is evaluated.
 * Anything that cannot be read renders as an empty string. Syntax errors and unknown filters are
 * found when the template is parsed (validation time), never when it renders: a template that
 * validates renders any data without throwing.
 *
 * Pure (no Node imports, no I/O): the activities render with it, the API validates with it.
 */

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  /** 0-based offset into the template. */
  readonly position: number;
  readonly line: number;
  readonly column: number;

  constructor(message: string, template: string, position: number) {
    const { line, column } = lineColumn(template, position);
    super(`${message} at position ${position} (line ${line}, column ${column})`);
    this.position = position;
    this.line = line;
    this.column = column;
  }
}

function lineColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}

type Literal = string | number;
type Step = string | number;

interface FilterCall {
  name: string;
  args: Literal[];
  apply: (value: unknown, args: readonly Literal[]) => unknown;
}

interface Tag {
  /** A path to look up, or a quoted literal. */
  head: { path: Step[] } | { literal: string };
  filters: FilterCall[];
}

type Part = string | Tag;

/** Path steps that never resolve, even when the data has them as own properties. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

// ---------------------------------------------------------------------------------------------
// Reading values

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  // Object.prototype of any realm (its own prototype is null), or a null-prototype object.
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** An own, enumerable, data (not accessor) property; undefined otherwise. */
function readOwn(target: object, key: string): unknown {
  if (!Object.hasOwn(target, key)) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (!descriptor?.enumerable || !('value' in descriptor)) return undefined;
  return descriptor.value;
}

const INDEX = /^(?:0|[1-9]\d*)$/;

function step(value: unknown, key: Step): unknown {
  if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) return undefined;
  if (Array.isArray(value)) {
    let index: number;
    if (typeof key === 'number') index = key;
    else if (INDEX.test(key)) index = Number(key);
    else return undefined;
    if (index < 0) index += value.length;
    if (!Number.isSafeInteger(index) || index < 0 || index >= value.length) return undefined;
    return readOwn(value, String(index));
  }
  if (isPlainObject(value)) return readOwn(value, String(key));
  return undefined;
}

function lookup(data: unknown, path: readonly Step[]): unknown {
  let value = data;
  for (const key of path) {
    value = step(value, key);
    if (value === undefined) return undefined;
  }
  return value;
}

function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

function dateText(value: Date): string | undefined {
  const time = Date.prototype.getTime.call(value);
  return Number.isFinite(time) ? new Date(time).toISOString() : undefined;
}

const MAX_JSON_DEPTH = 64;

/**
 * A JSON-safe copy that only holds own enumerable data properties of plain objects and arrays,
 * so serialising it cannot call getters or toJSON, cannot loop and cannot reach a prototype.
 */
function toJsonSafe(value: unknown, seen: Set<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined; // undefined, functions, symbols
  }
  if (value === null) return null;
  if (isDate(value)) return dateText(value) ?? null;
  const isArray = Array.isArray(value);
  if (!isArray && !isPlainObject(value)) return undefined;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_JSON_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (isArray) {
      const out: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        out.push(toJsonSafe(readOwn(value, String(i)), seen, depth + 1) ?? null);
      }
      return out;
    }
    // A null prototype: a "__proto__" key in the data stays a plain own key here.
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value)) {
      const item = toJsonSafe(readOwn(value, key), seen, depth + 1);
      if (item !== undefined) out[key] = item;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function toJson(value: unknown, indent = 0): string {
  const safe = toJsonSafe(value, new Set(), 0);
  if (safe === undefined) return '';
  return JSON.stringify(safe, null, indent) ?? '';
}

/** How a value renders: strings as is, scalars via String, objects and arrays as JSON. */
function toText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      if (value === null) return '';
      if (isDate(value)) return dateText(value) ?? '';
      return toJson(value);
    default:
      return '';
  }
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.keys(value).length === 0;
  return false;
}

/** Code points, so truncation never splits a surrogate pair. */
const codePoints = (text: string): string[] => Array.from(text);

// ---------------------------------------------------------------------------------------------
// Filters

type ParamType = 'string' | 'number' | 'any';

interface FilterDef {
  params: readonly ParamType[];
  required: number;
  /** Extra checks on the literal arguments, at parse time. */
  check?: (args: readonly Literal[]) => string | undefined;
  apply: (value: unknown, args: readonly Literal[]) => unknown;
  doc: string;
}

const str = (arg: Literal | undefined, fallback: string): string =>
  typeof arg === 'string' ? arg : fallback;
const num = (arg: Literal | undefined, fallback: number): number =>
  typeof arg === 'number' ? arg : fallback;

const FILTERS: Readonly<Record<string, FilterDef>> = {
  default: {
    params: ['any'],
    required: 1,
    apply: (value, [fallback]) => (isEmpty(value) ? fallback : value),
    doc: 'default(x): x when the value is missing, null, "" or an empty list/object',
  },
  truncate: {
    params: ['number', 'string'],
    required: 1,
    check: ([max]) =>
      Number.isInteger(max) && (max as number) >= 0 && (max as number) <= 1_000_000
        ? undefined
        : 'truncate(n) needs a whole number between 0 and 1000000',
    apply: (value, [max, ellipsis]) => {
      const chars = codePoints(toText(value));
      const limit = num(max, 0);
      if (chars.length <= limit) return chars.join('');
      const tail = codePoints(str(ellipsis, '…'));
      if (tail.length >= limit) return tail.slice(0, limit).join('');
      return chars.slice(0, limit - tail.length).join('') + tail.join('');
    },
    doc: 'truncate(n[, ellipsis]): at most n characters, ending with "…" when cut',
  },
  upper: { params: [], required: 0, apply: (value) => toText(value).toUpperCase(), doc: 'upper-case' },
  lower: { params: [], required: 0, apply: (value) => toText(value).toLowerCase(), doc: 'lower-case' },
  trim: {
    params: [],
    required: 0,
    apply: (value) => toText(value).trim(),
    doc: 'strip surrounding whitespace',
  },
  oneline: {
    params: [],
    required: 0,
    // Split, trim, join: linear (a regex with \s* around the break backtracks on long runs of spaces).
    apply: (value) =>
      toText(value)
        .split(/[\r\n]+/)
        .map((line) => line.trim())
        .filter((line) => line !== '')
        .join(' '),
    doc: 'line breaks (and the spaces around them) become one space',
  },
  json: {
    params: ['number'],
    required: 0,
    check: ([indent]) =>
      indent === undefined ||
      (Number.isInteger(indent) && (indent as number) >= 0 && (indent as number) <= 10)
        ? undefined
        : 'json(indent) needs a whole number between 0 and 10',
    apply: (value, [indent]) => toJson(value, num(indent, 0)),
    doc: 'json[(indent)]: the value as JSON ("" when missing)',
  },
  join: {
    params: ['string'],
    required: 0,
    apply: (value, [separator]) =>
      Array.isArray(value)
        ? Array.from({ length: value.length }, (_, i) => toText(readOwn(value, String(i)))).join(
            str(separator, ', '),
          )
        : value,
    doc: 'join[(separator)]: list items as text, separated by ", " or the separator',
  },
  map: {
    params: ['string'],
    required: 1,
    check: ([key]) => (key === '' ? 'map(key) needs a non-empty key' : undefined),
    apply: (value, [key]) =>
      Array.isArray(value)
        ? Array.from({ length: value.length }, (_, i) => step(readOwn(value, String(i)), str(key, '')))
        : value,
    doc: 'map(key): each list item\'s key, e.g. classifications | map("type") | join(",")',
  },
  replace: {
    params: ['string', 'string'],
    required: 2,
    check: ([search]) =>
      search === '' ? 'replace(search, replacement) needs a non-empty search' : undefined,
    apply: (value, [search, replacement]) => toText(value).split(str(search, '')).join(str(replacement, '')),
    doc: 'replace(search, replacement): every occurrence, literally',
  },
  length: {
    params: [],
    required: 0,
    apply: (value) => {
      if (Array.isArray(value)) return value.length;
      if (typeof value === 'string') return codePoints(value).length;
      if (isPlainObject(value)) return Object.keys(value).length;
      return 0;
    },
    doc: 'number of list items, characters or object keys',
  },
  first: {
    params: [],
    required: 0,
    apply: (value) => (Array.isArray(value) ? step(value, 0) : value),
    doc: 'first list item',
  },
  last: {
    params: [],
    required: 0,
    apply: (value) => (Array.isArray(value) ? step(value, -1) : value),
    doc: 'last list item',
  },
};

/** Filter names and one-line descriptions, for docs and error messages. */
export const TEMPLATE_FILTERS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(FILTERS).map(([name, def]) => [name, def.doc]),
);

// ---------------------------------------------------------------------------------------------
// Parsing

const OPEN = '{{';
const CLOSE = '}}';
const PATH_CHAR = /[A-Za-z0-9_$-]/;
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
const SPACE = /\s/;
const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

class Parser {
  private pos = 0;

  constructor(private readonly src: string) {}

  parse(): Part[] {
    const parts: Part[] = [];
    let text = '';
    while (this.pos < this.src.length) {
      if (this.src.startsWith('\\' + OPEN, this.pos)) {
        text += OPEN;
        this.pos += 1 + OPEN.length;
      } else if (this.src.startsWith(OPEN, this.pos)) {
        if (text) parts.push(text);
        text = '';
        parts.push(this.tag());
      } else {
        text += this.src[this.pos];
        this.pos++;
      }
    }
    if (text) parts.push(text);
    return parts;
  }

  private fail(message: string, at = this.pos): never {
    throw new TemplateError(message, this.src, at);
  }

  private describeHere(): string {
    if (this.pos >= this.src.length) return 'end of template';
    return JSON.stringify(this.src.slice(this.pos, this.pos + 1));
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && SPACE.test(this.src[this.pos]!)) this.pos++;
  }

  private tag(): Tag {
    const start = this.pos;
    this.pos += OPEN.length;
    this.skipSpace();
    if (this.pos >= this.src.length) this.fail('unterminated "{{" (no closing "}}")', start);
    if (this.src.startsWith(CLOSE, this.pos)) this.fail('empty "{{ }}": expected a path or a quoted string');
    const ch = this.src[this.pos]!;
    const head = ch === '"' || ch === "'" ? { literal: this.string() } : { path: this.path() };
    const filters: FilterCall[] = [];
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.src.length) this.fail('unterminated "{{" (no closing "}}")', start);
      if (this.src.startsWith(CLOSE, this.pos)) {
        this.pos += CLOSE.length;
        return { head, filters };
      }
      if (this.src[this.pos] !== '|') {
        this.fail(`unexpected ${this.describeHere()} in "{{ }}": expected "|" or "}}"`);
      }
      this.pos++;
      this.skipSpace();
      filters.push(this.filter());
    }
  }

  private path(): Step[] {
    const steps: Step[] = [this.key('a path')];
    for (;;) {
      const ch = this.src[this.pos];
      if (ch === '.') {
        this.pos++;
        steps.push(this.key('a key after "."'));
      } else if (ch === '[') {
        this.pos++;
        this.skipSpace();
        const inner = this.src[this.pos];
        if (inner === '"' || inner === "'") steps.push(this.string());
        else steps.push(this.index());
        this.skipSpace();
        if (this.src[this.pos] !== ']') this.fail(`expected "]" but found ${this.describeHere()}`);
        this.pos++;
      } else {
        return steps;
      }
    }
  }

  private key(what: string): string {
    const start = this.pos;
    while (this.pos < this.src.length && PATH_CHAR.test(this.src[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail(`expected ${what} but found ${this.describeHere()}`);
    return this.src.slice(start, this.pos);
  }

  private index(): number {
    const start = this.pos;
    if (this.src[this.pos] === '-') this.pos++;
    const digits = this.pos;
    while (this.pos < this.src.length && DIGIT.test(this.src[this.pos]!)) this.pos++;
    if (this.pos === digits)
      this.fail(`expected an index like [0] or ["key"] but found ${this.describeHere()}`);
    const value = Number(this.src.slice(start, this.pos));
    if (!Number.isSafeInteger(value)) this.fail('index out of range', start);
    return value;
  }

  private string(): string {
    const start = this.pos;
    const quote = this.src[this.pos]!;
    this.pos++;
    let out = '';
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos]!;
      if (ch === quote) {
        this.pos++;
        return out;
      }
      if (ch === '\\') {
        const next = this.src[this.pos + 1];
        const escaped = next === undefined ? undefined : ESCAPES[next];
        if (escaped === undefined) this.fail(`unknown escape "\\${next ?? ''}" in string`);
        out += escaped;
        this.pos += 2;
        continue;
      }
      out += ch;
      this.pos++;
    }
    return this.fail('unterminated string', start);
  }

  private number(): number {
    const start = this.pos;
    const match = /^-?\d+(?:\.\d+)?/.exec(this.src.slice(this.pos, this.pos + 40));
    if (!match) return this.fail(`expected a number but found ${this.describeHere()}`);
    this.pos += match[0].length;
    const value = Number(match[0]);
    if (!Number.isFinite(value)) this.fail('number out of range', start);
    return value;
  }

  private literal(): Literal {
    const ch = this.src[this.pos];
    if (ch === '"' || ch === "'") return this.string();
    if (ch === '-' || (ch !== undefined && DIGIT.test(ch))) return this.number();
    return this.fail(`expected a quoted string or a number but found ${this.describeHere()}`);
  }

  private filter(): FilterCall {
    const start = this.pos;
    if (!NAME_START.test(this.src[this.pos] ?? '')) {
      this.fail(`expected a filter name after "|" but found ${this.describeHere()}`);
    }
    while (this.pos < this.src.length && NAME_CHAR.test(this.src[this.pos]!)) this.pos++;
    const name = this.src.slice(start, this.pos);
    const def = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
    if (!def) {
      this.fail(`unknown filter "${name}" (known: ${Object.keys(FILTERS).join(', ')})`, start);
    }
    const args: Literal[] = [];
    this.skipSpace();
    if (this.src[this.pos] === '(') {
      this.pos++;
      this.skipSpace();
      if (this.src[this.pos] !== ')') {
        for (;;) {
          const argStart = this.pos;
          const arg = this.literal();
          const expected = def.params[args.length];
          if (expected === undefined) {
            this.fail(`too many arguments for filter "${name}" (at most ${def.params.length})`, argStart);
          }
          if (expected !== 'any' && typeof arg !== expected) {
            this.fail(`argument ${args.length + 1} of filter "${name}" must be a ${expected}`, argStart);
          }
          args.push(arg);
          this.skipSpace();
          if (this.src[this.pos] === ',') {
            this.pos++;
            this.skipSpace();
            continue;
          }
          if (this.src[this.pos] === ')') break;
          this.fail(`expected "," or ")" in the arguments of "${name}" but found ${this.describeHere()}`);
        }
      }
      this.pos++;
    }
    if (args.length < def.required) {
      this.fail(`filter "${name}" needs ${def.required} argument${def.required === 1 ? '' : 's'}`, start);
    }
    const problem = def.check?.(args);
    if (problem) this.fail(problem, start);
    return { name, args, apply: def.apply };
  }
}

// ---------------------------------------------------------------------------------------------
// Public API

export type CompiledTemplate = (data: unknown) => string;

const CACHE_LIMIT = 256;
const cache = new Map<string, Part[]>();

function parse(template: string): Part[] {
  const cached = cache.get(template);
  if (cached) return cached;
  const parts = new Parser(template).parse();
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(template, parts);
  return parts;
}

function renderTag(tag: Tag, data: unknown): string {
  try {
    let value: unknown = 'literal' in tag.head ? tag.head.literal : lookup(data, tag.head.path);
    for (const filter of tag.filters) value = filter.apply(value, filter.args);
    return toText(value);
  } catch {
    // Exotic input (a revoked proxy, a hostile getter on a prototype…): render nothing, never throw.
    return '';
  }
}

/** Parses once; throws TemplateError (with the position) on a syntax error or unknown filter. */
export function compileTemplate(template: string): CompiledTemplate {
  const parts = parse(template);
  return (data) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : renderTag(part, data);
    return out;
  };
}

/** Renders `template` over `data`; throws TemplateError only when the template itself is invalid. */
export function renderTemplate(template: string, data: unknown): string {
  return compileTemplate(template)(data);
}

/** The error message (with position) for an invalid template, undefined for a valid one. */
export function validateTemplate(template: string): string | undefined {
  try {
    parse(template);
    return undefined;
  } catch (err) {
    if (err instanceof TemplateError) return err.message;
    throw err;
  }
}
