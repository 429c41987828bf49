/**
 * The subset of Atlassian Document Format validation Jira Cloud applies to `description` and
 * comment bodies: a `doc` of version 1 whose nodes are known types with the right children.
 * Returns the first problem found, or undefined when the document is valid.
 */
const BLOCK = new Set([
  'paragraph',
  'heading',
  'bulletList',
  'orderedList',
  'codeBlock',
  'blockquote',
  'rule',
  'panel',
  'table',
]);
const MARKS = new Set(['strong', 'em', 'code', 'link', 'strike', 'underline', 'subsup', 'textColor']);

type Node = {
  type?: unknown;
  content?: unknown;
  text?: unknown;
  marks?: unknown;
  attrs?: unknown;
  version?: unknown;
};

function checkInline(node: Node, where: string, inCode: boolean): string | undefined {
  if (node.type === 'hardBreak' && !inCode) return undefined;
  if (node.type !== 'text') return `${where}: inline node type ${String(node.type)} not allowed here`;
  if (typeof node.text !== 'string' || node.text.length === 0)
    return `${where}: text nodes need non-empty text`;
  if (node.marks !== undefined) {
    if (inCode) return `${where}: codeBlock text cannot have marks`;
    if (!Array.isArray(node.marks)) return `${where}: marks must be an array`;
    for (const m of node.marks as Node[])
      if (!MARKS.has(String(m?.type))) return `${where}: unknown mark ${String(m?.type)}`;
  }
  return undefined;
}

function checkBlock(node: Node, where: string): string | undefined {
  if (!node || typeof node !== 'object') return `${where}: not a node`;
  const content = node.content === undefined ? [] : node.content;
  if (!Array.isArray(content)) return `${where}: content must be an array`;
  const children = content as Node[];
  switch (node.type) {
    case 'paragraph':
      return children.map((c, i) => checkInline(c, `${where}.content[${i}]`, false)).find(Boolean);
    case 'heading': {
      const level = (node.attrs as { level?: unknown } | undefined)?.level;
      if (typeof level !== 'number' || level < 1 || level > 6)
        return `${where}: heading needs attrs.level 1-6`;
      return children.map((c, i) => checkInline(c, `${where}.content[${i}]`, false)).find(Boolean);
    }
    case 'codeBlock':
      return children.map((c, i) => checkInline(c, `${where}.content[${i}]`, true)).find(Boolean);
    case 'bulletList':
    case 'orderedList':
      if (!children.length) return `${where}: lists need at least one listItem`;
      return children
        .map((c, i) =>
          c?.type === 'listItem'
            ? checkBlocks(c.content, `${where}.content[${i}]`)
            : `${where}.content[${i}]: lists hold listItem nodes`,
        )
        .find(Boolean);
    case 'blockquote':
    case 'panel':
      return checkBlocks(children, where);
    case 'rule':
    case 'table':
      return undefined;
    default:
      return `${where}: unknown block type ${String(node.type)}`;
  }
}

function checkBlocks(content: unknown, where: string): string | undefined {
  if (!Array.isArray(content) || content.length === 0) return `${where}: content must be a non-empty array`;
  return (content as Node[])
    .map((c, i) =>
      BLOCK.has(String(c?.type))
        ? checkBlock(c, `${where}.content[${i}]`)
        : `${where}.content[${i}]: ${String(c?.type)} is not a block node`,
    )
    .find(Boolean);
}

export function adfProblem(doc: unknown): string | undefined {
  const d = doc as Node;
  if (!d || typeof d !== 'object' || d.type !== 'doc' || d.version !== 1)
    return 'not an Atlassian Document (type doc, version 1)';
  if (!Array.isArray(d.content)) return 'doc.content must be an array';
  return (d.content as Node[]).map((c, i) => checkBlock(c, `doc.content[${i}]`)).find(Boolean);
}

/** Plain text of a document, for assertions. */
export function adfText(doc: unknown): string {
  const walk = (n: Node): string =>
    typeof n?.text === 'string'
      ? n.text
      : Array.isArray(n?.content)
        ? (n.content as Node[]).map(walk).join('\n')
        : '';
  return walk(doc as Node);
}
