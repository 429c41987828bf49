/**
 * The `_bulk` semantics of the fake Elasticsearch: NDJSON parsing (trailing newline required),
 * `create` / `index` / `delete` actions, index name rules, and per-item results.
 */
import { randomUUID } from 'node:crypto';

export interface StoredDoc {
  source: Record<string, unknown>;
  version: number;
  seqNo: number;
}

/** index → _id → document */
export type EsStore = Map<string, Map<string, StoredDoc>>;

export interface BulkItem {
  index: string;
  id: string;
  source: Record<string, unknown>;
}

export interface ItemError {
  status: number;
  type: string;
  reason: string;
}

type BulkOutcome =
  | { error: { type: string; reason: string } }
  | { errors: boolean; items: Record<string, unknown>[]; stored: BulkItem[] };

const NEWLINE_REQUIRED = 'The bulk request must be terminated by a newline [\\n]';
const ACTIONS = ['create', 'index', 'delete', 'update'] as const;
export type Action = (typeof ACTIONS)[number];

let seqNo = 0;

/** Elasticsearch's index name rules (lower case, no reserved characters, no leading -_+). */
export function invalidIndexName(name: string): string | undefined {
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (/^[-_+]/.test(name)) return "must not start with '_', '-', or '+'";
  if (/[\\/*?"<>| ,#:]/.test(name))
    return 'must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]';
  if (name === '.' || name === '..') return "must not be '.' or '..'";
  if (Buffer.byteLength(name) > 255) return 'index name is too long';
  return undefined;
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

export function runBulk(
  body: string,
  pathIndex: string | undefined,
  store: EsStore,
  itemFaults: ItemError[],
  /** The user's authorization for an action on an index: an error when not allowed. */
  unauthorized: (action: Action, index: string) => ItemError | undefined = () => undefined,
): BulkOutcome {
  if (body.length === 0)
    return {
      error: {
        type: 'action_request_validation_exception',
        reason: 'Validation Failed: 1: no requests added;',
      },
    };
  if (!body.endsWith('\n'))
    return { error: { type: 'illegal_argument_exception', reason: NEWLINE_REQUIRED } };
  const lines = body.slice(0, -1).split('\n');
  const items: Record<string, unknown>[] = [];
  const stored: BulkItem[] = [];
  let errors = false;
  for (let i = 0; i < lines.length; i++) {
    const meta = parseLine(lines[i]!) as Record<string, Record<string, unknown>> | undefined;
    const action =
      meta && typeof meta === 'object' ? (Object.keys(meta)[0] as Action | undefined) : undefined;
    if (!meta || !action || Object.keys(meta).length !== 1 || !ACTIONS.includes(action)) {
      return {
        error: {
          type: 'illegal_argument_exception',
          reason: `Malformed action/metadata line [${i + 1}], expected a simple value for field [${action ?? '?'}] but found [START_OBJECT]`,
        },
      };
    }
    const params = meta[action] ?? {};
    const index = typeof params['_index'] === 'string' ? params['_index'] : pathIndex;
    if (!index)
      return {
        error: {
          type: 'action_request_validation_exception',
          reason: 'Validation Failed: 1: index is missing;',
        },
      };
    const id = typeof params['_id'] === 'string' ? params['_id'] : undefined;
    let sourceLine: string | undefined;
    if (action !== 'delete') {
      sourceLine = lines[++i];
      if (sourceLine === undefined) {
        return {
          error: {
            type: 'illegal_argument_exception',
            reason: `The bulk request must be terminated by a newline [\\n]`,
          },
        };
      }
    }
    const denied = unauthorized(action, index);
    const result = denied
      ? failure(index, id, denied)
      : applyItem(store, itemFaults, action, index, id, sourceLine);
    if ('error' in result) errors = true;
    else if (result.stored) stored.push(result.stored);
    items.push({ [action]: result.item });
  }
  return { errors, items, stored };
}

function failure(index: string, id: string | undefined, e: ItemError) {
  return {
    error: true as const,
    item: {
      _index: index,
      _id: id ?? null,
      status: e.status,
      error: { type: e.type, reason: e.reason, index },
    },
  };
}

function applyItem(
  store: EsStore,
  itemFaults: ItemError[],
  action: Action,
  index: string,
  id: string | undefined,
  sourceLine: string | undefined,
): { error: true; item: Record<string, unknown> } | { item: Record<string, unknown>; stored?: BulkItem } {
  const badName = invalidIndexName(index);
  if (badName)
    return failure(index, id, {
      status: 400,
      type: 'invalid_index_name_exception',
      reason: `Invalid index name [${index}], ${badName}`,
    });
  const injected = itemFaults.shift();
  if (injected) return failure(index, id, injected);
  const docs = store.get(index) ?? new Map<string, StoredDoc>();
  store.set(index, docs);
  const existing = id === undefined ? undefined : docs.get(id);
  const shards = { total: 2, successful: 1, failed: 0 };
  if (action === 'delete') {
    if (!id || !existing)
      return { item: { _index: index, _id: id ?? null, result: 'not_found', status: 404, _shards: shards } };
    docs.delete(id);
    return {
      item: {
        _index: index,
        _id: id,
        _version: existing.version + 1,
        result: 'deleted',
        status: 200,
        _shards: shards,
      },
    };
  }
  if (action === 'update') {
    return failure(index, id, {
      status: 400,
      type: 'illegal_argument_exception',
      reason: 'update is not supported by this fake',
    });
  }
  const source = parseLine(sourceLine!);
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    return failure(index, id, { status: 400, type: 'mapper_parsing_exception', reason: 'failed to parse' });
  }
  if (action === 'create' && existing) {
    return failure(index, id, {
      status: 409,
      type: 'version_conflict_engine_exception',
      reason: `[${id}]: version conflict, document already exists (current version [${existing.version}])`,
    });
  }
  const docId = id ?? randomUUID().replaceAll('-', '').slice(0, 20);
  const version = (existing?.version ?? 0) + 1;
  seqNo += 1;
  docs.set(docId, { source: source as Record<string, unknown>, version, seqNo });
  const status = existing ? 200 : 201;
  return {
    item: {
      _index: index,
      _id: docId,
      _version: version,
      result: existing ? 'updated' : 'created',
      _shards: shards,
      _seq_no: seqNo,
      _primary_term: 1,
      status,
    },
    stored: { index, id: docId, source: source as Record<string, unknown> },
  };
}
