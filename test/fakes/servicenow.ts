import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsOptions } from './fault.js';
import { FakeOAuth } from './oauth.js';

/**
 * A faithful fake of the ServiceNow Table API (`/api/now/table/{table}`) on 127.0.0.1.
 *
 * Enforced like a real instance: Basic auth, or OAuth bearer tokens from `/oauth_token.do`
 * (client credentials or password grant; expired and revoked tokens refused), 401 with the
 * platform's error body, `Accept:
 * application/json` (406) and `Content-Type: application/json` on writes (415), `Invalid table`
 * 400, unknown columns silently dropped, all values stored as strings, `priority` derived from
 * urgency × impact, journal fields (`work_notes`, `comments`) appended rather than stored, reference
 * fields as `{link, value}` unless `sysparm_exclude_reference_link=true`, encoded queries
 * (`a=b^c!=d^ORDERBYx`; terms on unknown columns are ignored, as instances do by default) and each
 * table's own states and data policy (incident: New 1 … Resolved 6 / Closed 7 need `close_code`
 * and `close_notes`; sn_si_incident: Draft 10 … Review 100, Closed 3 needs them), else 403.
 *
 * Faults are consumed from `faults` in order (first one whose `method` matches): a canned reply,
 * a delay, a hang, a dropped connection, or a write that is applied and then loses its response.
 */

/** Writable columns every task-extended table has here (the real ones are many more). */
export const TASK_FIELDS = [
  'number',
  'short_description',
  'description',
  'state',
  'urgency',
  'impact',
  'priority',
  'active',
  'category',
  'subcategory',
  'caller_id',
  'assignment_group',
  'assigned_to',
  'correlation_id',
  'correlation_display',
  'contact_type',
  'close_code',
  'close_notes',
  'work_notes',
  'comments',
  'opened_by',
  'opened_at',
  'resolved_at',
  'closed_at',
] as const;

const SYSTEM_FIELDS = [
  'sys_id',
  'sys_class_name',
  'sys_created_on',
  'sys_created_by',
  'sys_updated_on',
  'sys_updated_by',
  'sys_mod_count',
];
const JOURNAL_FIELDS = new Set(['work_notes', 'comments']);
/** Columns the platform maintains; values sent for them are ignored. */
const READ_ONLY = new Set([
  ...SYSTEM_FIELDS,
  'number',
  'priority',
  'opened_by',
  'opened_at',
  'resolved_at',
  'closed_at',
]);
const REFERENCES: Record<string, string> = {
  caller_id: 'sys_user',
  assigned_to: 'sys_user',
  opened_by: 'sys_user',
  assignment_group: 'sys_user_group',
};
const PREFIXES: Record<string, string> = {
  incident: 'INC',
  sn_si_incident: 'SIR',
  problem: 'PRB',
  change_request: 'CHG',
};
/** Priority lookup (urgency, impact) of the stock incident table. */
const PRIORITY: Record<string, string> = {
  '11': '1',
  '12': '2',
  '21': '2',
  '13': '3',
  '22': '3',
  '31': '3',
  '23': '4',
  '32': '4',
  '33': '5',
};
const CLOSE_LABELS: [field: string, label: string][] = [
  ['close_code', 'Resolution code'],
  ['close_notes', 'Resolution notes'],
];
const FAKE_USER_SYS_ID = '6816f79cc0a8016401c5a33be04be441';

export interface FakeTableSpec {
  name: string;
  /** Number prefix (INC, SIR...); defaults by table name, else TKT. */
  prefix?: string;
  /** Writable columns, replacing TASK_FIELDS (e.g. a custom table without correlation_id). */
  fields?: readonly string[];
  /** State a new record gets; defaults by table name, else 1. */
  initialState?: string;
  /** States whose data policy needs close_code and close_notes; defaults by table name. */
  closeStates?: readonly string[];
  /** States that end the record (active=false); defaults by table name. */
  finalStates?: readonly string[];
}

/** What the stock tables do with `state`. */
const TABLE_STATES: Record<
  string,
  Required<Pick<FakeTableSpec, 'initialState' | 'closeStates' | 'finalStates'>>
> = {
  incident: { initialState: '1', closeStates: ['6', '7'], finalStates: ['7', '8'] },
  sn_si_incident: { initialState: '10', closeStates: ['3'], finalStates: ['3', '7'] },
};
/** Columns a table has beyond the task ones. */
const EXTRA_FIELDS: Record<string, readonly string[]> = { sn_si_incident: ['severity'] };

export interface JournalEntry {
  element: 'work_notes' | 'comments';
  value: string;
  created_on: string;
  created_by: string;
}

export interface FakeSnRecord {
  fields: Record<string, string>;
  journal: JournalEntry[];
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type FakeServiceNowFault = { method?: Method; times?: number } & (
  | { action: 'reply'; status: number; body?: unknown; retryAfter?: string }
  /** Handle normally, after a delay. */
  | { action: 'delay'; ms: number }
  /** Never answer (until close). */
  | { action: 'hang' }
  /** Destroy the connection before the request is handled: nothing changes. */
  | { action: 'drop' }
  /** Apply the request (the record is created or updated), then destroy the connection: the lost response. */
  | { action: 'drop_after_apply' }
);

export interface FakeRequestLog {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface FakeServiceNow {
  url: string;
  /** The OAuth server (token requests counted), when `oauth` was given. */
  oauth?: FakeOAuth;
  /** Records by table name. */
  records: Map<string, FakeSnRecord[]>;
  /** Inserts per correlation_id (a retried create that adopts adds nothing). */
  creates: Map<string, number>;
  faults: FakeServiceNowFault[];
  requests: FakeRequestLog[];
  list(table?: string): FakeSnRecord[];
  find(table: string, sysId: string): FakeSnRecord | undefined;
  close(): Promise<void>;
}

export interface FakeServiceNowOptions {
  username: string;
  password: string;
  /** OAuth client (`/oauth_token.do`): client credentials, and the password grant for `username`. */
  oauth?: { clientId: string; clientSecret: string; ttlSeconds?: number };
  /** Serve HTTPS with this key and certificate. */
  tls?: TlsOptions;
  /** Tables that exist; default `incident` and `sn_si_incident`. */
  tables?: (string | FakeTableSpec)[];
  /** Custom `u_*` columns added to every table. */
  customFields?: string[];
  /** Names of the `sys_user_group` records (assignment groups). */
  groups?: string[];
  /** Tables the user has no read/write ACL on: every request to them answers 403. */
  deniedTables?: string[];
}

interface Table {
  name: string;
  prefix: string;
  fields: Set<string>;
  seq: number;
  initialState: string;
  closeStates: readonly string[];
  finalStates: readonly string[];
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const failure = (status: number, message: string, detail: string | null = null): Reply => ({
  status,
  body: { error: { message, detail }, status: 'failure' },
});

const glideNow = (): string => new Date().toISOString().replace('T', ' ').slice(0, 19);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function toGlideValue(value: unknown): string | undefined {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export async function startFakeServiceNow(opts: FakeServiceNowOptions): Promise<FakeServiceNow> {
  const expectedAuth = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
  const tables = new Map<string, Table>();
  const records = new Map<string, FakeSnRecord[]>();
  for (const spec of opts.tables ?? ['incident', 'sn_si_incident']) {
    const s: FakeTableSpec = typeof spec === 'string' ? { name: spec } : spec;
    const fields = new Set([
      ...(s.fields ?? [...TASK_FIELDS, ...(EXTRA_FIELDS[s.name] ?? [])]),
      ...(opts.customFields ?? []),
    ]);
    const states = TABLE_STATES[s.name] ?? TABLE_STATES.incident!;
    tables.set(s.name, {
      name: s.name,
      prefix: s.prefix ?? PREFIXES[s.name] ?? 'TKT',
      fields,
      seq: 10_000,
      initialState: s.initialState ?? states.initialState,
      closeStates: s.closeStates ?? states.closeStates,
      finalStates: s.finalStates ?? states.finalStates,
    });
    records.set(s.name, []);
  }
  const oauth = opts.oauth
    ? new FakeOAuth({ ...opts.oauth, audience: 'servicenow', users: { [opts.username]: opts.password } })
    : undefined;
  // The platform tables escalate reads: the user itself and the assignment groups.
  const seed = (name: string, fields: string[], rows: Record<string, string>[]) => {
    tables.set(name, {
      name,
      prefix: '',
      fields: new Set(fields),
      seq: 0,
      initialState: '',
      closeStates: [],
      finalStates: [],
    });
    records.set(
      name,
      rows.map((r) => ({
        fields: { sys_id: randomBytes(16).toString('hex'), sys_class_name: name, ...r },
        journal: [],
      })),
    );
  };
  seed(
    'sys_user',
    ['user_name', 'name', 'email', 'active'],
    [
      {
        user_name: opts.username,
        name: 'escalate integration',
        email: `${opts.username}@example.com`,
        active: 'true',
      },
    ],
  );
  seed(
    'sys_user_group',
    ['name', 'description', 'active'],
    (opts.groups ?? []).map((name) => ({ name, active: 'true' })),
  );
  const denied = new Set(opts.deniedTables ?? []);
  const creates = new Map<string, number>();
  const faults: FakeServiceNowFault[] = [];
  const requests: FakeRequestLog[] = [];
  let baseUrl = '';

  const find = (table: string, sysId: string) => records.get(table)?.find((r) => r.fields.sys_id === sysId);

  function render(table: Table, rec: FakeSnRecord, query: URLSearchParams): Record<string, unknown> {
    const wanted = query
      .get('sysparm_fields')
      ?.split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    const excludeLinks = query.get('sysparm_exclude_reference_link') === 'true';
    const out: Record<string, unknown> = {};
    for (const field of wanted ?? [...SYSTEM_FIELDS, ...table.fields]) {
      if (!(field in rec.fields) && !JOURNAL_FIELDS.has(field)) continue;
      const value = JOURNAL_FIELDS.has(field) ? '' : (rec.fields[field] ?? '');
      const refTable = REFERENCES[field];
      out[field] =
        refTable && value && !excludeLinks
          ? { link: `${baseUrl}/api/now/table/${refTable}/${value}`, value }
          : value;
    }
    return out;
  }

  /** Applies writable columns; journal entries are appended. Returns the data-policy failure, if any. */
  function applyWrite(table: Table, rec: FakeSnRecord, input: Record<string, unknown>): Reply | undefined {
    const next = { ...rec.fields };
    const notes: JournalEntry[] = [];
    for (const [field, raw] of Object.entries(input)) {
      if (!table.fields.has(field) || READ_ONLY.has(field)) continue;
      const value = toGlideValue(raw);
      if (value === undefined) continue;
      if (JOURNAL_FIELDS.has(field)) {
        if (value.trim()) {
          notes.push({
            element: field as JournalEntry['element'],
            value,
            created_on: glideNow(),
            created_by: opts.username,
          });
        }
      } else {
        next[field] = value;
      }
    }
    if (table.closeStates.includes(next.state ?? '') && table.fields.has('close_code')) {
      const missing = CLOSE_LABELS.filter(([f]) => !next[f]?.trim()).map(([, label]) => label);
      if (missing.length) {
        return failure(
          403,
          'Operation Failed',
          `Data Policy Exception: \n\tThe following fields are mandatory: ${missing.join(', ')}`,
        );
      }
    }
    if (table.fields.has('priority'))
      next.priority = PRIORITY[`${next.urgency}${next.impact}`] ?? next.priority ?? '5';
    if (next.state !== rec.fields.state) {
      if (table.name === 'incident' && next.state === '6') next.resolved_at = glideNow();
      if (table.finalStates.includes(next.state ?? '')) {
        next.closed_at = glideNow();
        next.active = 'false';
      }
    }
    rec.fields = next;
    rec.journal.push(...notes);
    return undefined;
  }

  function insert(table: Table, input: Record<string, unknown>, query: URLSearchParams): Reply {
    const now = glideNow();
    const rec: FakeSnRecord = {
      fields: {
        sys_id: randomBytes(16).toString('hex'),
        sys_class_name: table.name,
        sys_created_on: now,
        sys_created_by: opts.username,
        sys_updated_on: now,
        sys_updated_by: opts.username,
        sys_mod_count: '0',
      },
      journal: [],
    };
    const defaults: Record<string, string> = {
      number: `${table.prefix}${String(table.seq + 1).padStart(7, '0')}`,
      state: table.initialState,
      urgency: '3',
      impact: '3',
      active: 'true',
      opened_by: FAKE_USER_SYS_ID,
      opened_at: now,
    };
    for (const [field, value] of Object.entries(defaults))
      if (table.fields.has(field)) rec.fields[field] = value;
    const refused = applyWrite(table, rec, input);
    if (refused) return refused;
    table.seq += 1;
    records.get(table.name)!.push(rec);
    const key = rec.fields.correlation_id;
    if (key) creates.set(key, (creates.get(key) ?? 0) + 1);
    return {
      status: 201,
      body: { result: render(table, rec, query) },
      headers: { Location: `${baseUrl}/api/now/table/${table.name}/${rec.fields.sys_id}` },
    };
  }

  function select(table: Table, query: URLSearchParams): FakeSnRecord[] {
    let rows = [...records.get(table.name)!];
    const known = (f: string) => SYSTEM_FIELDS.includes(f) || table.fields.has(f);
    const order: { field: string; desc: boolean }[] = [];
    for (const term of (query.get('sysparm_query') ?? '').split('^').filter(Boolean)) {
      const ordering = /^ORDERBY(DESC)?(\w+)$/.exec(term);
      if (ordering) {
        order.push({ field: ordering[2]!, desc: Boolean(ordering[1]) });
        continue;
      }
      const cond = /^(\w+)(!=|=)(.*)$/s.exec(term);
      if (!cond || !known(cond[1]!)) continue; // invalid terms are ignored, like glide.invalid_query.returns_no_rows=false
      const [, field, op, value] = cond as unknown as [string, string, string, string];
      rows = rows.filter((r) => ((r.fields[field] ?? '') === value) === (op === '='));
    }
    for (const { field, desc } of order.reverse()) {
      rows.sort((a, b) => (a.fields[field] ?? '').localeCompare(b.fields[field] ?? '') * (desc ? -1 : 1));
    }
    const offset = Number(query.get('sysparm_offset') ?? 0) || 0;
    const limit = Number(query.get('sysparm_limit') ?? 10_000) || 10_000;
    return rows.slice(offset, offset + limit);
  }

  function parseBody(text: string): { input: Record<string, unknown> } | { refused: Reply } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed)) parsed = parsed[0]; // multiple records: only the first is used
    if (!parsed || typeof parsed !== 'object') {
      return { refused: failure(400, 'Exception while reading request', 'The payload is not valid JSON.') };
    }
    return { input: parsed as Record<string, unknown> };
  }

  function route(method: string, path: string, query: URLSearchParams, text: string): Reply {
    const m = /^\/api\/now(?:\/v[12])?\/table\/([^/]+)(?:\/([^/]+))?\/?$/.exec(path);
    if (!m) return failure(400, 'Requested URI does not represent any resource', null);
    const table = tables.get(decodeURIComponent(m[1]!));
    if (!table) return failure(400, `Invalid table ${decodeURIComponent(m[1]!)}`, null);
    if (denied.has(table.name)) return failure(403, 'User Not Authorized', 'Failed API level ACL Validation');
    const sysId = m[2] && decodeURIComponent(m[2]);
    if (!sysId) {
      if (method === 'GET')
        return { status: 200, body: { result: select(table, query).map((r) => render(table, r, query)) } };
      if (method !== 'POST')
        return failure(405, 'Method not Supported', `${method} is not supported for this resource`);
      const parsed = parseBody(text);
      return 'refused' in parsed ? parsed.refused : insert(table, parsed.input, query);
    }
    const rec = find(table.name, sysId);
    if (!rec)
      return failure(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
    if (method === 'GET') return { status: 200, body: { result: render(table, rec, query) } };
    if (method === 'DELETE') {
      const rows = records.get(table.name)!;
      rows.splice(rows.indexOf(rec), 1);
      return { status: 204 };
    }
    if (method !== 'PATCH' && method !== 'PUT')
      return failure(405, 'Method not Supported', `${method} is not supported for this resource`);
    const parsed = parseBody(text);
    if ('refused' in parsed) return parsed.refused;
    const refused = applyWrite(table, rec, parsed.input);
    if (refused) return refused;
    rec.fields.sys_updated_on = glideNow();
    rec.fields.sys_updated_by = opts.username;
    rec.fields.sys_mod_count = String(Number(rec.fields.sys_mod_count ?? 0) + 1);
    return { status: 200, body: { result: render(table, rec, query) } };
  }

  /** Platform checks, in the order an instance applies them. */
  function precheck(req: IncomingMessage, method: string): Reply | undefined {
    const bearer = /^Bearer /i.test(req.headers.authorization ?? '');
    const authenticated = bearer
      ? oauth !== undefined && oauth.refusal(req.headers.authorization) === undefined
      : req.headers.authorization === expectedAuth;
    if (!authenticated) {
      const reply = failure(401, 'User Not Authenticated', 'Required to provide Auth information');
      return { ...reply, headers: { 'WWW-Authenticate': 'BASIC realm="Service-now"' } };
    }
    if (!/application\/json/i.test(req.headers.accept ?? '')) {
      return failure(
        406,
        'Requested response format is not supported',
        'Accept: application/json is required',
      );
    }
    const hasBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
    if (hasBody && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
      return failure(
        415,
        'Unsupported Media Type',
        `Content-Type ${req.headers['content-type'] ?? '(none)'} is not supported`,
      );
    }
    return undefined;
  }

  function takeFault(method: string): FakeServiceNowFault | undefined {
    const i = faults.findIndex((f) => !f.method || f.method === method);
    if (i < 0) return undefined;
    const fault = faults[i]!;
    if (fault.times !== undefined && fault.times > 1) faults[i] = { ...fault, times: fault.times - 1 };
    else faults.splice(i, 1);
    return fault;
  }

  function write(res: ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = { ...reply.headers };
    let payload = '';
    if (reply.body !== undefined) {
      payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      headers['Content-Type'] ??= 'application/json;charset=UTF-8';
    }
    res.writeHead(reply.status, headers).end(payload);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', baseUrl);
    requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body: text,
    });

    const fault = takeFault(method);
    if (fault?.action === 'hang') return;
    if (fault?.action === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.action === 'delay') await sleep(fault.ms);
    if (fault?.action === 'reply') {
      const body =
        fault.body ?? failure(fault.status, `Injected ${fault.status}`, 'fault injected by the fake').body;
      write(res, {
        status: fault.status,
        body,
        headers: fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {},
      });
      return;
    }
    if (url.pathname === '/oauth_token.do') {
      if (!oauth || method !== 'POST') return write(res, failure(404, 'Not Found'));
      const token = oauth.token(Object.fromEntries(new URLSearchParams(text)));
      return write(res, { status: token.status, body: token.body });
    }
    const reply = precheck(req, method) ?? route(method, url.pathname, url.searchParams, text);
    if (fault?.action === 'drop_after_apply') {
      req.socket.destroy();
      return;
    }
    write(res, reply);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) write(res, failure(500, 'Internal Server Error', String(err)));
    });
  };
  const server = opts.tls
    ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest)
    : createServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    oauth,
    records,
    creates,
    faults,
    requests,
    list: (table = 'incident') => records.get(table) ?? [],
    find,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
