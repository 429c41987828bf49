import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileTemplate,
  renderTemplate,
  TEMPLATE_FILTERS,
  TemplateError,
  validateTemplate,
} from '../../domain/template.js';

const event = {
  event_id: '7d9f1c2e-3b4a-4c5d-8e6f-708192a3b4c5',
  event_type: 'policy_violation',
  summary: 'Prompt contained a customer credit card number',
  severity: 'critical',
  risk_score: 0.93,
  user_email: 'dana@example.com',
  policy: { id: 'pol-7', name: 'PCI data', action: 'block' },
  classifications: [
    { type: 'credit_card', confidence: 0.99 },
    { type: 'pii', confidence: 0.8 },
  ],
  details: { prompt_excerpt: 'card 4111…', blocked: true, count: 0, nested: { deep: [1, 2, 3] } },
  tags: { team: 'payments', 'cost-center': 'cc-42', 'with space': 'yes' },
  empty: '',
  nothing: null,
  list: [] as unknown[],
};

describe('renderTemplate: paths', () => {
  it('renders plain text unchanged', () => {
    expect(renderTemplate('no tags here { } }} {', event)).toBe('no tags here { } }} {');
    expect(renderTemplate('', event)).toBe('');
  });

  it('renders top-level and nested paths', () => {
    expect(renderTemplate('[escalate] {{event_type}}: {{summary}}', event)).toBe(
      '[escalate] policy_violation: Prompt contained a customer credit card number',
    );
    expect(renderTemplate('{{policy.name}} ({{policy.action}})', event)).toBe('PCI data (block)');
    expect(renderTemplate('{{details.nested.deep[2]}}', event)).toBe('3');
  });

  it('tolerates spaces around paths and filters', () => {
    expect(renderTemplate('{{ tags.team | upper }}', event)).toBe('PAYMENTS');
    expect(renderTemplate('{{tags.team|upper}}', event)).toBe('PAYMENTS');
    expect(renderTemplate('{{\n  tags.team\n  | upper\n}}', event)).toBe('PAYMENTS');
    expect(renderTemplate('{{ summary | truncate( 6 , "." ) }}', event)).toBe('Promp.');
  });

  it('reads array indexes, negative indexes and quoted keys', () => {
    expect(renderTemplate('{{classifications[0].type}}', event)).toBe('credit_card');
    expect(renderTemplate('{{classifications[1].confidence}}', event)).toBe('0.8');
    expect(renderTemplate('{{classifications[-1].type}}', event)).toBe('pii');
    expect(renderTemplate('{{classifications.0.type}}', event)).toBe('credit_card');
    expect(renderTemplate('{{tags.cost-center}}', event)).toBe('cc-42');
    expect(renderTemplate('{{tags["with space"]}}', event)).toBe('yes');
    expect(renderTemplate("{{tags['team']}}", event)).toBe('payments');
    expect(renderTemplate('{{details.nested.deep[ 1 ]}}', event)).toBe('2');
  });

  it('renders missing values as empty strings', () => {
    expect(renderTemplate('[{{nope}}]', event)).toBe('[]');
    expect(renderTemplate('[{{policy.nope.deeper}}]', event)).toBe('[]');
    expect(renderTemplate('[{{classifications[5].type}}]', event)).toBe('[]');
    expect(renderTemplate('[{{classifications[-3]}}]', event)).toBe('[]');
    expect(renderTemplate('[{{summary.length}}]', event)).toBe('[]');
    expect(renderTemplate('[{{classifications.length}}]', event)).toBe('[]');
    expect(renderTemplate('[{{nothing}}]', event)).toBe('[]');
    expect(renderTemplate('[{{summary[0]}}]', event)).toBe('[]');
    expect(renderTemplate('[{{a}}]', undefined)).toBe('[]');
    expect(renderTemplate('[{{a}}]', 'a string')).toBe('[]');
  });

  it('renders scalars as text and objects/arrays as JSON', () => {
    expect(renderTemplate('{{risk_score}}', event)).toBe('0.93');
    expect(renderTemplate('{{details.blocked}}', event)).toBe('true');
    expect(renderTemplate('{{details.count}}', event)).toBe('0');
    expect(renderTemplate('{{policy}}', event)).toBe('{"id":"pol-7","name":"PCI data","action":"block"}');
    expect(renderTemplate('{{details.nested.deep}}', event)).toBe('[1,2,3]');
    expect(renderTemplate('{{at}}', { at: new Date('2025-01-02T03:04:05.000Z') })).toBe(
      '2025-01-02T03:04:05.000Z',
    );
    expect(renderTemplate('{{big}}', { big: 12n })).toBe('12');
  });

  it('keeps newlines in values', () => {
    expect(renderTemplate('{{v}}', { v: 'line 1\nline 2' })).toBe('line 1\nline 2');
  });

  it('keeps CR/LF inside the rendered string and does nothing else with it', () => {
    const summary = 'harmless\r\nX-Injected: 1';
    const out = renderTemplate('[escalate] {{summary}}', { summary });
    expect(out).toBe('[escalate] harmless\r\nX-Injected: 1');
    expect(out.startsWith('[escalate] ')).toBe(true);
    // It is one value among the others: a JSON body carries it escaped, not as a header line.
    const body = JSON.stringify({ fields: { summary: out } });
    expect(body).toContain('harmless\\r\\nX-Injected: 1');
    expect(body).not.toContain('\r\n');
    expect(JSON.parse(body).fields.summary).toBe(out);
    // Titles can flatten it explicitly.
    expect(renderTemplate('{{summary | oneline}}', { summary })).toBe('harmless X-Injected: 1');
  });

  it('does not interpret template syntax inside values', () => {
    expect(renderTemplate('{{a}}', { a: '{{b}}', b: 'leak' })).toBe('{{b}}');
  });
});

describe('renderTemplate: filters', () => {
  it('default(x) replaces missing and empty values only', () => {
    expect(renderTemplate('{{nope | default("n/a")}}', event)).toBe('n/a');
    expect(renderTemplate('{{empty | default("n/a")}}', event)).toBe('n/a');
    expect(renderTemplate('{{nothing | default("n/a")}}', event)).toBe('n/a');
    expect(renderTemplate('{{list | default("none")}}', event)).toBe('none');
    expect(renderTemplate("{{nope | default('single')}}", event)).toBe('single');
    expect(renderTemplate('{{nope | default(0)}}', event)).toBe('0');
    expect(renderTemplate('{{details.count | default(5)}}', event)).toBe('0');
    expect(renderTemplate('{{details.blocked | default("no")}}', event)).toBe('true');
    expect(renderTemplate('{{tags.team | default("n/a")}}', event)).toBe('payments');
  });

  it('truncate(n) cuts to n characters including the ellipsis', () => {
    expect(renderTemplate('{{summary | truncate(10)}}', event)).toBe('Prompt co…');
    expect([...renderTemplate('{{summary | truncate(10)}}', event)]).toHaveLength(10);
    expect(renderTemplate('{{tags.team | truncate(8)}}', event)).toBe('payments');
    expect(renderTemplate('{{tags.team | truncate(0)}}', event)).toBe('');
    expect(renderTemplate('{{tags.team | truncate(1)}}', event)).toBe('…');
    expect(renderTemplate('{{tags.team | truncate(6, "...")}}', event)).toBe('pay...');
    expect(renderTemplate('{{tags.team | truncate(4, "")}}', event)).toBe('paym');
    expect(renderTemplate('{{nope | truncate(3)}}', event)).toBe('');
  });

  it('truncate never splits a surrogate pair', () => {
    const out = renderTemplate('{{v | truncate(3)}}', { v: '😀😀😀😀' });
    expect(out).toBe('😀😀…');
  });

  it('upper, lower, trim, oneline', () => {
    expect(renderTemplate('{{severity | upper}}', event)).toBe('CRITICAL');
    expect(renderTemplate('{{v | lower}}', { v: 'MiXeD' })).toBe('mixed');
    expect(renderTemplate('[{{v | trim}}]', { v: '  padded \n' })).toBe('[padded]');
    expect(renderTemplate('{{v | oneline}}', { v: 'a\r\n  b\n\nc\rd' })).toBe('a b c d');
  });

  it('json serialises values, pretty with an indent, empty when missing', () => {
    expect(renderTemplate('{{summary | json}}', event)).toBe(JSON.stringify(event.summary));
    expect(renderTemplate('{{policy | json}}', event)).toBe(JSON.stringify(event.policy));
    expect(renderTemplate('{{policy | json(2)}}', event)).toBe(JSON.stringify(event.policy, null, 2));
    expect(renderTemplate('{{details.count | json}}', event)).toBe('0');
    expect(renderTemplate('{{nothing | json}}', event)).toBe('null');
    expect(renderTemplate('[{{nope | json}}]', event)).toBe('[]');
    expect(renderTemplate('{{nope | json | default("{}")}}', event)).toBe('{}');
  });

  it('join, replace, length, first, last', () => {
    expect(renderTemplate('{{v | join}}', { v: ['a', 'b', 1] })).toBe('a, b, 1');
    expect(renderTemplate('{{v | join(" / ")}}', { v: ['a', 'b'] })).toBe('a / b');
    expect(renderTemplate('{{v | join("")}}', { v: ['a', null, 'b'] })).toBe('ab');
    expect(renderTemplate('{{tags.team | join("-")}}', event)).toBe('payments');
    expect(renderTemplate('{{v | replace(" ", "-") | lower}}', { v: 'Data Loss Prevention' })).toBe(
      'data-loss-prevention',
    );
    expect(renderTemplate('{{classifications | length}}', event)).toBe('2');
    expect(renderTemplate('{{tags | length}}', event)).toBe('3');
    expect(renderTemplate('{{v | length}}', { v: '😀ab' })).toBe('3');
    expect(renderTemplate('{{nope | length}}', event)).toBe('0');
    expect(renderTemplate('{{classifications | first}}', event)).toBe(
      '{"type":"credit_card","confidence":0.99}',
    );
    expect(renderTemplate('{{details.nested.deep | last}}', event)).toBe('3');
    expect(renderTemplate('[{{list | first}}]', event)).toBe('[]');
  });

  it('map(key) picks a key from each list item (for list-typed custom fields)', () => {
    expect(renderTemplate('{{classifications | map("type") | join(",")}}', event)).toBe(
      event.classifications.map((c: { type: string }) => c.type).join(','),
    );
    expect(renderTemplate('{{classifications | map("type") | json}}', event)).toBe(
      JSON.stringify(event.classifications.map((c: { type: string }) => c.type)),
    );
    expect(renderTemplate('{{classifications | map("constructor") | json}}', event)).toMatch(
      /^\[(null,?)*\]$/,
    );
    expect(renderTemplate('{{summary | map("x")}}', event)).toBe(event.summary);
    expect(validateTemplate('{{ list | map("") }}')).toContain('non-empty key');
  });

  it('chains filters left to right', () => {
    expect(renderTemplate('{{nope | default("  hello world ") | trim | upper | truncate(8)}}', event)).toBe(
      'HELLO W…',
    );
  });

  it('accepts a quoted literal instead of a path', () => {
    expect(renderTemplate('{{ "abc" | upper }}', {})).toBe('ABC');
    expect(renderTemplate('{{ "a \\"quoted\\" }} string" }}', {})).toBe('a "quoted" }} string');
    expect(renderTemplate("{{ 'tab\\there' }}", {})).toBe('tab\there');
  });

  it('lists its filters', () => {
    expect(Object.keys(TEMPLATE_FILTERS)).toEqual(
      expect.arrayContaining(['default', 'truncate', 'upper', 'lower', 'json', 'join', 'trim']),
    );
  });
});

describe('renderTemplate: escaping and syntax errors', () => {
  it('\\{{ renders a literal {{ and so does a quoted literal', () => {
    expect(renderTemplate('\\{{summary}}', event)).toBe('{{summary}}');
    expect(renderTemplate('use \\{{ path }} for {{severity}}', event)).toBe('use {{ path }} for critical');
    expect(renderTemplate('{{ "{{" }}x}}', event)).toBe('{{x}}');
    expect(renderTemplate('a \\ b', event)).toBe('a \\ b');
  });

  it('reports an unterminated tag with its position', () => {
    const error = validateTemplate('Title {{ summary');
    expect(error).toMatch(/unterminated "\{\{"/);
    expect(error).toContain('position 6');
    expect(() => renderTemplate('Title {{ summary', event)).toThrow(TemplateError);
    try {
      renderTemplate('line 1\nx {{ a | upper', event);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TemplateError);
      const e = err as TemplateError;
      expect(e.position).toBe(9);
      expect(e.line).toBe(2);
      expect(e.column).toBe(3);
      expect(e.message).toContain('line 2, column 3');
    }
  });

  it('reports unknown filters with their position', () => {
    const message = validateTemplate('{{ summary | shout }}');
    expect(message).toMatch(/unknown filter "shout"/);
    expect(message).toContain('position 13');
    expect(validateTemplate('{{ summary | toString }}')).toMatch(/unknown filter "toString"/);
    expect(validateTemplate('{{ summary | constructor }}')).toMatch(/unknown filter "constructor"/);
    expect(validateTemplate('{{ summary | __proto__ }}')).toMatch(/unknown filter "__proto__"/);
  });

  it.each([
    ['{{}}', /empty/],
    ['{{   }}', /empty/],
    ['{{ a b }}', /unexpected "b"/],
    ['{{ a. }}', /expected a key after "\."/],
    ['{{ a..b }}', /expected a key after "\."/],
    ['{{ a[ }}', /expected an index/],
    ['{{ a[x] }}', /expected an index/],
    ['{{ a[1 }}', /expected "\]"/],
    ['{{ a | }}', /expected a filter name/],
    ['{{ a | upper( }}', /expected a quoted string or a number/],
    ['{{ a | default("x" }}', /expected "," or "\)"/],
    ['{{ a | default }}', /needs 1 argument/],
    ['{{ a | truncate("5") }}', /must be a number/],
    ['{{ a | truncate(-1) }}', /whole number/],
    ['{{ a | truncate(2.5) }}', /whole number/],
    ['{{ a | upper(1) }}', /too many arguments/],
    ['{{ a | json(11) }}', /between 0 and 10/],
    ['{{ a | replace("", "x") }}', /non-empty search/],
    ['{{ a | default(x) }}', /expected a quoted string or a number/],
    ['{{ "abc }}', /unterminated string/],
    ['{{ "a\\q" }}', /unknown escape/],
    ['{{ a }', /unexpected "}"/],
    ['{{ a {{ b }}', /unexpected "\{"/],
    ['{{ process.env | json }} {{ a | eval("1") }}', /unknown filter "eval"/],
  ])('%s is invalid', (template, pattern) => {
    const message = validateTemplate(template);
    expect(message).toMatch(pattern);
    expect(message).toMatch(/at position \d+/);
    expect(() => renderTemplate(template, event)).toThrow(TemplateError);
  });

  it('accepts valid templates', () => {
    for (const template of [
      '',
      'plain',
      '{{a}}',
      '{{ a.b[0]["c d"] | default("x") | truncate(10, "..") | upper }}',
      '}} {',
    ]) {
      expect(validateTemplate(template)).toBeUndefined();
    }
  });

  it('compileTemplate parses once and renders many', () => {
    const render = compileTemplate('{{severity | upper}}: {{summary | truncate(5)}}');
    expect(render(event)).toBe('CRITICAL: Prom…');
    expect(render({ severity: 'low', summary: 'ok' })).toBe('LOW: ok');
    expect(() => compileTemplate('{{')).toThrow(TemplateError);
  });
});

describe('renderTemplate: safety', () => {
  it('never reaches Object.prototype, constructors or prototypes', () => {
    expect(renderTemplate('[{{constructor.constructor}}]', event)).toBe('[]');
    expect(renderTemplate('[{{constructor}}]', event)).toBe('[]');
    expect(renderTemplate('[{{__proto__}}]', event)).toBe('[]');
    expect(renderTemplate('[{{__proto__.toString}}]', event)).toBe('[]');
    expect(renderTemplate('[{{details.toString}}]', event)).toBe('[]');
    expect(renderTemplate('[{{details.hasOwnProperty}}]', event)).toBe('[]');
    expect(renderTemplate('[{{summary.constructor.name}}]', event)).toBe('[]');
    expect(renderTemplate('[{{classifications.map}}]', event)).toBe('[]');
    expect(renderTemplate('[{{classifications.prototype}}]', event)).toBe('[]');
    expect(renderTemplate('[{{details["constructor"]["prototype"]}}]', event)).toBe('[]');
    expect(renderTemplate('[{{ constructor.constructor | json }}]', event)).toBe('[]');
  });

  it('ignores __proto__/constructor/prototype even as own keys of the data', () => {
    const data = JSON.parse('{"__proto__": {"x": "own"}, "constructor": "c", "a": {"prototype": "p"}}');
    expect(renderTemplate('[{{__proto__.x}}|{{constructor}}|{{a.prototype}}]', data)).toBe('[||]');
  });

  it('does not see inherited properties, even a polluted Object.prototype', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.pollutedForTest = 'polluted';
    try {
      expect(renderTemplate('[{{pollutedForTest}}|{{details.pollutedForTest}}]', event)).toBe('[|]');
      expect(renderTemplate('{{details.nested | json}}', event)).toBe('{"deep":[1,2,3]}');
    } finally {
      delete proto.pollutedForTest;
    }
    const child = Object.create({ inherited: 'parent' });
    expect(renderTemplate('[{{c.inherited}}]', { c: child })).toBe('[]');
  });

  it('does not call getters, toJSON or methods, and does not read class instances', () => {
    let calls = 0;
    const data: Record<string, unknown> = { plain: 'ok' };
    Object.defineProperty(data, 'secret', {
      enumerable: true,
      get() {
        calls++;
        return 'from getter';
      },
    });
    Object.defineProperty(data, 'hidden', { enumerable: false, value: 'not enumerable' });
    const withToJson = {
      a: 1,
      toJSON() {
        calls++;
        return 'replaced';
      },
    };
    class Secretive {
      token = 'instance field';
    }
    expect(renderTemplate('[{{secret}}|{{hidden}}|{{plain}}]', data)).toBe('[||ok]');
    expect(renderTemplate('{{x}}', { x: data })).toBe('{"plain":"ok"}');
    expect(renderTemplate('{{x | json}}', { x: withToJson })).toBe('{"a":1}');
    expect(renderTemplate('[{{x.token}}|{{x}}]', { x: new Secretive() })).toBe('[|]');
    expect(renderTemplate('[{{m}}]', { m: new Map([['k', 'v']]) })).toBe('[]');
    expect(renderTemplate('[{{f}}]', { f: () => 'called' })).toBe('[]');
    expect(calls).toBe(0);
  });

  it('has no access to globals or the environment', () => {
    for (const template of [
      '{{process.env}}',
      '{{globalThis}}',
      '{{this}}',
      '{{global.process}}',
      '{{window}}',
      '{{require}}',
    ]) {
      expect(renderTemplate(template, event)).toBe('');
    }
  });

  it('serialises cycles and null-prototype objects safely', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(renderTemplate('{{c}}', { c: cyclic })).toBe('{"name":"loop","self":"[Circular]"}');
    const bare = Object.assign(Object.create(null), { k: 'v' });
    expect(renderTemplate('{{b.k}} {{b}}', { b: bare })).toBe('v {"k":"v"}');
    expect(renderTemplate('{{x}}', { x: [undefined, () => 1, Number.NaN] })).toBe('[null,null,null]');
  });

  it('renders nothing for a revoked proxy instead of throwing', () => {
    const { proxy, revoke } = Proxy.revocable({ a: 1 }, {});
    revoke();
    expect(renderTemplate('[{{p.a}}|{{p | json}}]', { p: proxy })).toBe('[|]');
  });
});

// ---------------------------------------------------------------------------------------------
// Property-based

const PROTO_NAMES = [
  ...new Set([
    ...Object.getOwnPropertyNames(Object.prototype),
    ...Object.getOwnPropertyNames(Array.prototype),
    ...Object.getOwnPropertyNames(String.prototype),
    ...Object.getOwnPropertyNames(Function.prototype),
    'prototype',
    'constructor',
    '__proto__',
  ]),
].filter((name) => /^[A-Za-z0-9_$-]+$/.test(name));

const DATA_KEYS = ['a', 'b', 'summary', 'tags', 'team', 'items', 'x-y', '0', '1'];

const pathKey = fc.oneof(
  fc.constantFrom(...DATA_KEYS),
  fc.constantFrom(...PROTO_NAMES),
  fc.stringMatching(/^[A-Za-z0-9_$-]{1,8}$/),
);
const pathStep = fc.oneof(
  pathKey.map((k) => `.${k}`),
  fc.integer({ min: -3, max: 3 }).map((i) => `[${i}]`),
  pathKey.map((k) => `[${JSON.stringify(k)}]`),
);
const pathArb = fc
  .tuple(pathKey, fc.array(pathStep, { maxLength: 4 }))
  .map(([head, steps]) => head + steps.join(''));

const filterArb = fc.constantFrom(
  'upper',
  'lower',
  'trim',
  'oneline',
  'json',
  'json(2)',
  'join',
  'join(" / ")',
  'truncate(0)',
  'truncate(5)',
  'truncate(3, "...")',
  'default("n/a")',
  'default(0)',
  'replace(" ", "-")',
  'length',
  'first',
  'last',
);
const space = fc.constantFrom('', ' ', '  ', '\n');
const tagArb = fc
  .tuple(space, pathArb, fc.array(fc.tuple(space, filterArb, space), { maxLength: 3 }), space)
  .map(
    ([s1, path, filters, s2]) =>
      `{{${s1}${path}${filters.map(([a, f, b]) => `${a}|${b}${f}`).join('')}${s2}}}`,
  );
// Text without braces or backslashes, so parts cannot merge into an accidental tag or escape.
const textArb = fc.string({ maxLength: 20 }).map((s) => s.replace(/[{\\]/g, '('));
const validTemplateArb = fc.array(fc.oneof(textArb, tagArb), { maxLength: 6 }).map((parts) => parts.join(''));

const anyKey = fc.oneof(fc.constantFrom(...DATA_KEYS, ...PROTO_NAMES), fc.string({ maxLength: 6 }));
const anythingArb = fc.anything({
  key: anyKey,
  maxDepth: 4,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
});

/** JSON data whose keys never name a prototype member. */
const safeKey = fc.oneof(
  fc.constantFrom(...DATA_KEYS),
  fc.string({ maxLength: 6 }).filter((k) => !PROTO_NAMES.includes(k)),
);
const jsonDataArb = fc.dictionary(
  safeKey,
  fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(safeKey, tie('value'), { maxKeys: 3 }),
    ),
  })).value,
);

describe('renderTemplate: properties', () => {
  it('valid templates validate and render any data without throwing', () => {
    fc.assert(
      fc.property(validTemplateArb, anythingArb, (template, data) => {
        expect(validateTemplate(template)).toBeUndefined();
        expect(typeof renderTemplate(template, data)).toBe('string');
        expect(typeof renderTemplate(template, { a: data, items: [data, data], tags: data })).toBe('string');
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary strings either validate or raise TemplateError, consistently', () => {
    const templateish = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .array(
          fc.constantFrom(
            '{{',
            '}}',
            '\\',
            '|',
            '(',
            ')',
            '"',
            "'",
            '[',
            ']',
            '.',
            'a',
            '1',
            ' ',
            'upper',
            ',',
          ),
          {
            maxLength: 20,
          },
        )
        .map((p) => p.join('')),
      validTemplateArb,
    );
    fc.assert(
      fc.property(templateish, anythingArb, (template, data) => {
        const message = validateTemplate(template);
        if (message === undefined) {
          expect(typeof renderTemplate(template, data)).toBe('string');
        } else {
          expect(message).toMatch(/at position \d+ \(line \d+, column \d+\)/);
          expect(() => renderTemplate(template, data)).toThrow(TemplateError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('a path ending in a prototype member never renders anything', () => {
    fc.assert(
      fc.property(
        fc.array(pathStep, { maxLength: 3 }),
        fc.constantFrom(...PROTO_NAMES),
        jsonDataArb,
        (steps, member, data) => {
          const path = `a${steps.join('')}.${member}`;
          expect(renderTemplate(`{{${path}}}`, { a: data })).toBe('');
          expect(renderTemplate(`{{${path} | json}}`, { a: data })).toBe('');
          expect(renderTemplate(`{{a${steps.join('')}[${JSON.stringify(member)}]}}`, { a: data })).toBe('');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('output never contains code or prototype content', () => {
    fc.assert(
      fc.property(validTemplateArb, jsonDataArb, (template, data) => {
        const out = renderTemplate(template, data);
        expect(out).not.toContain('[native code]');
        expect(out).not.toContain('[object ');
        expect(out).not.toMatch(/function\s*\w*\s*\(/);
      }),
      { numRuns: 500 },
    );
  });

  it('json output of any value is empty or parseable JSON', () => {
    fc.assert(
      fc.property(anythingArb, (value) => {
        const out = renderTemplate('{{v | json}}', { v: value });
        if (out !== '') expect(() => JSON.parse(out)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('truncate(n) never exceeds n characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.nat(70), (value, n) => {
        const out = renderTemplate(`{{v | truncate(${n})}}`, { v: value });
        expect([...out].length).toBeLessThanOrEqual(n);
        if ([...value].length <= n) expect(out).toBe(value);
      }),
    );
  });
});
