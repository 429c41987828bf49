import { MAX_DESCRIPTION, payloadJson, type TicketDraft } from '../domain/ticket.js';

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

function readableBudget(draft: TicketDraft): number {
  const facts = draft.descriptionText ?? draft.facts.map(([k, v]) => `${k}: ${v}`).join('\n');
  return MAX_DESCRIPTION - facts.length - 200;
}

export function toAdf(draft: TicketDraft): AdfNode {
  const content: AdfNode[] = [];
  if (draft.descriptionText !== undefined) {
    for (const para of draft.descriptionText.split(/\n{2,}/)) {
      if (para.trim()) content.push({ type: 'paragraph', content: [text(para)] });
    }
  } else {
    content.push({ type: 'heading', attrs: { level: 3 }, content: [text('Violation')] });
    content.push({
      type: 'bulletList',
      content: draft.facts.map(([label, value]) => ({
        type: 'listItem',
        content: [
          { type: 'paragraph', content: [text(`${label}: `, [{ type: 'strong' }]), text(nonEmpty(value))] },
        ],
      })),
    });
  }
  content.push({ type: 'heading', attrs: { level: 3 }, content: [text('Event payload')] });
  content.push({
    type: 'codeBlock',
    attrs: { language: 'json' },
    content: [text(payloadJson(draft.payload, readableBudget(draft)))],
  });
  return { type: 'doc', version: 1, content };
}

/** Jira wiki markup escapes braces and brackets that would start macros or links. */
const wikiEscape = (value: string): string => value.replace(/([{}[\]|*_+^~-])/g, '\\$1');

export function toWiki(draft: TicketDraft): string {
  const readable =
    draft.descriptionText ??
    ['h3. Violation', ...draft.facts.map(([k, v]) => `* *${k}:* ${wikiEscape(v)}`)].join('\n');
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
