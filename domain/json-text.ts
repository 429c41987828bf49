/**
 * The size of a text once it is a JSON string, in the unit the receiver counts: UTF-8 bytes (a
 * Temporal payload) or UTF-16 characters (Jira's field limits, counted on the JSON it stores). A
 * CJK character is one UTF-16 unit but three UTF-8 bytes; a quote is one character but two once
 * escaped. Pure (no Buffer): workflow code may use it.
 */

type Unit = 'utf8' | 'utf16';

/** Size of one code point inside a JSON string (escapes included). */
function jsonCodePointSize(cp: number, unit: Unit): number {
  if (cp === 0x22 || cp === 0x5c) return 2; // \" and \\
  if (cp === 0x08 || cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d) return 2; // \b \t \n \f \r
  if (cp < 0x20) return 6; // \u00XX
  if (cp >= 0xd800 && cp <= 0xdfff) return 6; // a lone surrogate is escaped as \uDXXX
  if (unit === 'utf16') return cp < 0x10000 ? 1 : 2;
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  return cp < 0x10000 ? 3 : 4;
}

function jsonSize(text: string, unit: Unit): number {
  let size = 2;
  for (const ch of text) size += jsonCodePointSize(ch.codePointAt(0)!, unit);
  return size;
}

function cutToFit(text: string, max: number, unit: Unit, marker: string): string {
  if (jsonSize(text, unit) <= max) return text;
  const budget = max - jsonSize(marker, unit); // the marker's quotes stand for the text's
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const size = jsonCodePointSize(ch.codePointAt(0)!, unit);
    if (used + size > budget) break;
    used += size;
    end += ch.length;
  }
  return `${text.slice(0, end)}${marker}`;
}

/** Bytes of `text` serialised as a JSON string, quotes included (what a JSON payload carries). */
export const jsonStringBytes = (text: string): number => jsonSize(text, 'utf8');

/** UTF-16 characters of `text` serialised as a JSON string, quotes included. */
export const jsonStringLength = (text: string): number => jsonSize(text, 'utf16');

/**
 * `text` cut to at most `maxBytes` as a JSON string, on a code point boundary, ending with
 * `marker` (default "…") when cut. Linear in the length of the text.
 */
export const fitJsonBytes = (text: string, maxBytes: number, marker = '…'): string =>
  cutToFit(text, maxBytes, 'utf8', marker);

/** The same, counted in UTF-16 characters. */
export const fitJsonLength = (text: string, maxChars: number, marker = '…'): string =>
  cutToFit(text, maxChars, 'utf16', marker);
