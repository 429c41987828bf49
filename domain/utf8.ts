/**
 * Sizes in the bytes a server counts, not in JavaScript characters: a CJK character is one
 * UTF-16 unit but three UTF-8 bytes. Pure (no Buffer): workflow code may use it.
 */

/** UTF-8 bytes of one code point inside a JSON string (escapes included). */
function jsonCodePointBytes(cp: number): number {
  if (cp === 0x22 || cp === 0x5c) return 2; // \" and \\
  if (cp === 0x08 || cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d) return 2; // \b \t \n \f \r
  if (cp < 0x20) return 6; // \u00XX
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp >= 0xd800 && cp <= 0xdfff) return 6; // a lone surrogate is escaped as \uDXXX
  return cp < 0x10000 ? 3 : 4;
}

/** Bytes of `text` serialised as a JSON string, quotes included (what a JSON payload carries). */
export function jsonStringBytes(text: string): number {
  let bytes = 2;
  for (const ch of text) bytes += jsonCodePointBytes(ch.codePointAt(0)!);
  return bytes;
}

/**
 * `text` cut to at most `maxBytes` as a JSON string, on a code point boundary, ending with "…"
 * when cut. Linear in the length of the text.
 */
export function fitJsonBytes(text: string, maxBytes: number): string {
  if (jsonStringBytes(text) <= maxBytes) return text;
  const budget = maxBytes - 2 - 3; // quotes, and "…" (3 bytes)
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const size = jsonCodePointBytes(ch.codePointAt(0)!);
    if (used + size > budget) break;
    used += size;
    end += ch.length;
  }
  return `${text.slice(0, end)}…`;
}
