import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitJsonBytes, fitJsonLength, jsonStringBytes, jsonStringLength } from '../../domain/json-text.js';

describe('sizes in serialised bytes', () => {
  it('counts what JSON.stringify produces, in UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(jsonStringBytes(s)).toBe(Buffer.byteLength(JSON.stringify(s), 'utf8'));
      }),
    );
    expect(jsonStringBytes('機密')).toBe(8);
    expect(jsonStringBytes('"\n\u0001')).toBe(2 + 2 + 2 + 6);
  });

  it('cuts on a code point boundary to fit, marking the cut', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 8, max: 400 }), (s, max) => {
        const fitted = fitJsonBytes(s, max);
        expect(Buffer.byteLength(JSON.stringify(fitted), 'utf8')).toBeLessThanOrEqual(max);
        if (fitted === s) return;
        expect(fitted.endsWith('…')).toBe(true);
        expect(s.startsWith(fitted.slice(0, -1))).toBe(true);
        // No half of a surrogate pair left at the cut.
        expect(fitted.slice(0, -1)).not.toMatch(/[\ud800-\udbff]$/);
      }),
    );
    expect(fitJsonBytes('機密データ', 13)).toBe('機密…');
  });

  it('counts and cuts in UTF-16 characters too (what Jira counts)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 8, max: 400 }), (s, max) => {
        expect(jsonStringLength(s)).toBe(JSON.stringify(s).length);
        expect(JSON.stringify(fitJsonLength(s, max, '[cut]')).length).toBeLessThanOrEqual(max);
      }),
    );
    expect(fitJsonLength('機密データ', 6)).toBe('機密デ…');
  });
});
