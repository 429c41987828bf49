import { fitJsonLength, jsonStringLength } from '../domain/json-text.js';
import { MAX_DESCRIPTION, payloadJson, type TicketDraft, truncate } from '../domain/ticket.js';

/** Room always kept for the payload, however long the readable part is. */
const MIN_PAYLOAD = 2_000;
const TEXT_CUT = '… (description truncated)';
const PAYLOAD_CUT = '\n… (payload truncated; full event in escalate)';

/** Atlassian Document Format nodes we emit (a strict subset Jira Cloud accepts). */
export type AdfNode =
  | { type: 'doc'; version: 1; content: AdfNode[] }
  | { type: 'paragraph'; content?: AdfNode[] }
  | { type: 'heading'; attrs: { level: number }; content: AdfNode[] }
  | { type: 'bulletList'; content: AdfNode[] }
  | { type: 'listItem'; content: AdfNode[] }
  | { type: 'codeBlock'; attrs?: { language?: string }; content?: AdfNode[] }
  | { type: 'text'; text: string; marks?: { type: 'strong' | 'code' }[] }
  | { type: 'hardBreak' };

const text = (value: string, marks?: { type: 'strong' | 'code' }[]): AdfNode =>
  marks ? { type: 'text', text: value, marks } : { type: 'text', text: value };

/** ADF text nodes must not be empty. */
const nonEmpty = (value: string): string => (value.length ? value : ' ');

const size = (node: AdfNode) => JSON.stringify(node).length;
const paragraph = (value: string): AdfNode => ({ type: 'paragraph', content: [text(value)] });

/** The readable part: the rendered template's paragraphs, or the facts as a list. */
function readableNodes(draft: TicketDraft): AdfNode[] {
  if (draft.descriptionText === undefined) {
    return [
      { type: 'heading', attrs: { level: 3 }, content: [text('Violation')] },
      {
        type: 'bulletList',
        content: draft.facts.map(([label, value]) => ({
          type: 'listItem',
          content: [
            { type: 'paragraph', content: [text(`${label}: `, [{ type: 'strong' }]), text(nonEmpty(value))] },
          ],
        })),
      },
    ];
  }
  return draft.descriptionText
    .split(/\n{2,}/)
    .filter((para) => para.trim())
    .map(paragraph);
}

/**
 * Atlassian Document Format for Jira Cloud, within MAX_DESCRIPTION characters of the JSON Jira
 * stores (escapes included): the readable part keeps what fits in all but MIN_PAYLOAD of it, the
 * payload what is left, each cut with a visible marker.
 */
export function toAdf(draft: TicketDraft): AdfNode {
  const payloadBlock = (json: string): AdfNode[] => [
    { type: 'heading', attrs: { level: 3 }, content: [text('Event payload')] },
    { type: 'codeBlock', attrs: { language: 'json' }, content: [text(nonEmpty(json))] },
  ];
  const doc = (content: AdfNode[]): AdfNode => ({ type: 'doc', version: 1, content });
  const readable: AdfNode[] = [];
  const readableLimit = MAX_DESCRIPTION - MIN_PAYLOAD - size(doc(payloadBlock('')));
  let used = size(doc([]));
  for (const node of readableNodes(draft)) {
    const cost = size(node) + 1; // and its comma
    if (used + cost <= readableLimit) {
      readable.push(node);
      used += cost;
      continue;
    }
    // The first paragraph that does not fit is cut to what is left; the rest is dropped.
    const room = readableLimit - used - size(paragraph('')) - 1;
    const first = node.type === 'paragraph' ? node.content?.[0] : undefined;
    const cut = first?.type === 'text' ? fitJsonLength(first.text, room + 2, TEXT_CUT) : TEXT_CUT;
    if (room > jsonStringLength(TEXT_CUT)) readable.push(paragraph(cut));
    break;
  }
  const room = MAX_DESCRIPTION - size(doc([...readable, ...payloadBlock('')]));
  const json = JSON.stringify(draft.payload, null, 2);
  const fitted = jsonStringLength(json) - 2 <= room ? json : fitJsonLength(json, room + 2, PAYLOAD_CUT);
  return doc([...readable, ...payloadBlock(fitted)]);
}

/** Jira wiki markup escapes braces and brackets that would start macros or links. */
const wikiEscape = (value: string): string => value.replace(/([{}[\]|*_+^~-])/g, '\\$1');

/** Wiki text for Jira Data Center, within MAX_DESCRIPTION characters. */
export function toWiki(draft: TicketDraft): string {
  const readable = truncate(
    draft.descriptionText ??
      ['h3. Violation', ...draft.facts.map(([k, v]) => `* *${k}:* ${wikiEscape(v)}`)].join('\n'),
    MAX_DESCRIPTION - MIN_PAYLOAD,
  );
  const budget = MAX_DESCRIPTION - readable.length - 40;
  return `${readable}\n\nh3. Event payload\n{code:json}\n${payloadJson(draft.payload, budget)}\n{code}`;
}

/**
 * Plain text as an ADF document: blank lines separate paragraphs, single newlines are hard breaks.
 * Text is never interpreted as markup.
 */
export function textToAdf(text: string): AdfNode {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.replace(/^\n+|\n+$/g, ''))
    .filter((p) => p.trim());
  const content = paragraphs.map((para) => {
    const inline: AdfNode[] = [];
    for (const line of para.split('\n')) {
      if (inline.length) inline.push({ type: 'hardBreak' });
      if (line.length) inline.push({ type: 'text', text: line });
    }
    return { type: 'paragraph' as const, content: inline };
  });
  return { type: 'doc', version: 1, content };
}
