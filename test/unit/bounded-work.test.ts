/**
 * Work per request is bounded by the input's size, never worse: the JSON body walk stops early,
 * the `oneline` filter and URL normalisation are linear. (No timings: inputs that a quadratic
 * implementation would take hours on finish here, and the walk reports where it stopped.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countJsonValues, storageIssues } from '../../api/json-body.js';
import { httpUrl } from '../../domain/connector.js';
import { renderTemplate } from '../../domain/template.js';

describe('JSON bodies', () => {
  const zeros = (bytes: number) => {
    const n = Math.floor((bytes - 12) / 2);
    return Buffer.from(`{"events":[${'0,'.repeat(n - 1)}0]}`);
  };

  it('the value count stops as soon as the limit is passed, long before the end of the body', () => {
    const body = zeros(8 * 1024 * 1024 - 1);
    const counted = countJsonValues(body, 500_000);
    expect(counted.exceeded).toBe(true);
    expect(counted.stoppedAt).toBeLessThan(body.length / 4);
    expect(countJsonValues(Buffer.from('{"a":[1,2,{"b":"x,y[z{"}],"c":null}'), 100)).toEqual({
      exceeded: false,
      values: 7,
      stoppedAt: 35,
    });
  });

  it('counts no structure inside strings (escaped quotes included)', () => {
    const text = JSON.stringify({ s: '[[[,,,{{{"\\\\', t: ['a', 'b'] });
    expect(countJsonValues(Buffer.from(text), 100)).toMatchObject({ exceeded: false, values: 5 });
  });

  it('never undercounts the values JSON.parse builds', () => {
    const countParsed = (v: unknown): number =>
      v !== null && typeof v === 'object'
        ? 1 + Object.values(v).reduce((n: number, x) => n + countParsed(x), 0)
        : 1;
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value) ?? 'null';
        expect(countJsonValues(Buffer.from(text), 1e9).values).toBeGreaterThanOrEqual(countParsed(value));
      }),
    );
  });

  it('the storage walk visits at most its node budget', () => {
    const issues = storageIssues(new Array(1_000_000).fill(0), 1000);
    expect(issues).toEqual([{ path: '(body)', message: 'more than 1000 values' }]);
  });
});

describe('the oneline filter', () => {
  /** What it did before: right, but quadratic on long runs of spaces without a line break. */
  const reference = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ').trim();

  it('gives the same result as the regex it replaces', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ a\r\n\t\u00a0\u2028b]{0,40}$/), (s) => {
        expect(renderTemplate('{{v | oneline}}', { v: s })).toBe(reference(s));
      }),
    );
  });

  it('is linear: a million spaces without a line break', () => {
    const text = `a${' '.repeat(1_000_000)}b`;
    expect(renderTemplate('{{v | oneline}}', { v: text })).toBe(text);
    expect(renderTemplate('{{v | oneline}}', { v: `a${' '.repeat(1_000_000)}\nb` })).toBe('a b');
  });
});

describe('connector URLs', () => {
  it('trailing slashes are trimmed in linear time; URLs are at most 2048 characters', () => {
    expect(httpUrl.parse('https://jira.example.com/base///')).toBe('https://jira.example.com/base');
    const slashes = `https://a.example.com/${'/'.repeat(200_000)}x`;
    const long = httpUrl.safeParse(slashes);
    expect(long.success).toBe(false);
    expect(long.error?.issues.map((i) => i.message)).toContain('URLs are at most 2048 characters');
    const within = `https://a.example.com/${'/'.repeat(2000)}x`;
    expect(httpUrl.parse(within)).toBe(within);
  });
});
