/** The request/response commands: send, violations, tickets, deliveries, connectors, rules. */
import { formatDuration } from '../domain/duration.js';
import { expandEnvReferences } from '../domain/env-references.js';
import { isRecord } from './client.js';
import type { Ctx, ExitCode } from './context.js';
import { cell, detailLines, fields, plural, table, truncate } from './format.js';
import { readJsonInput, readYamlInput } from './io.js';
import { toTimestamp } from './time.js';
import type {
  Accepted,
  BatchItem,
  Connector,
  ConnectorCheck,
  ConnectorTest,
  Decision,
  Delivery,
  DeliveryDetail,
  DryRun,
  Rule,
  SecretsReencrypted,
  Ticket,
  Violation,
} from './types.js';

const path = (template: string, ...ids: string[]) =>
  ids.reduce((p, id) => p.replace('%s', encodeURIComponent(id)), template);

// ---------------------------------------------------------------------------------------------
// send

export async function send(ctx: Ctx, source: string): Promise<ExitCode> {
  const input = await readJsonInput(source, ctx.io.stdin);
  if (Array.isArray(input)) return sendBatch(ctx, input);
  if (!isRecord(input)) throw new Error('expected a JSON object (one event) or an array of events');
  const res = await ctx.client.post<Accepted & { status?: string }>('/v1/violations', input);
  if (ctx.json) {
    ctx.printJson(res);
    return 0;
  }
  // 202 is a new event; 200 answers a repeat of one already accepted (same body, same event_id).
  ctx.out(`accepted ${res.event_id}`);
  ctx.out(
    fields([
      ['workflow', res.workflow_id],
      ['status', res.status_url],
    ]),
  );
  return 0;
}

/** The most events `POST /v1/violations:batch` takes at once; longer arrays go in several calls. */
export const MAX_BATCH_EVENTS = 500;

async function sendBatch(ctx: Ctx, events: unknown[]): Promise<ExitCode> {
  if (events.length === 0) throw new Error('the array holds no events');
  const items: BatchItem[] = [];
  for (let start = 0; start < events.length; start += MAX_BATCH_EVENTS) {
    const chunk = events.slice(start, start + MAX_BATCH_EVENTS);
    const res = await ctx.client.post<{ items: BatchItem[] }>('/v1/violations:batch', { events: chunk });
    items.push(...(res.items ?? []));
  }
  const res = { items };
  const bad = items.filter((i) => i.status !== 'accepted' && i.status !== 'duplicate');
  if (ctx.json) {
    ctx.printJson(res);
    return bad.length > 0 ? 1 : 0;
  }
  ctx.out(
    table(
      ['#', 'event_id', 'status', 'http', 'workflow / error'],
      items.map((item, index) => [
        index,
        item.event_id,
        item.status,
        item.http_status,
        item.error ? batchError(item.error) : item.workflow_id,
      ]),
    ),
  );
  const count = (s: string) => items.filter((i) => i.status === s).length;
  ctx.out(
    `${count('accepted')} accepted, ${count('duplicate')} duplicate, ${count('conflict')} conflict, ${count('invalid')} invalid`,
  );
  return bad.length > 0 ? 1 : 0;
}

function batchError(error: NonNullable<BatchItem['error']>): string {
  if (typeof error === 'string') return error;
  const head = [error.code, error.message].filter(Boolean).join(': ');
  return [head, ...detailLines(error.details).map((l) => `- ${l}`)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// violations get

export async function violationGet(ctx: Ctx, eventId: string): Promise<ExitCode> {
  const v = await ctx.client.get<Violation>(path('/v1/violations/%s', eventId));
  if (ctx.json) {
    ctx.printJson(v);
    return 0;
  }
  const payload = v.payload ?? {};
  const str = (key: string) => (typeof payload[key] === 'string' ? (payload[key] as string) : undefined);
  ctx.out(`Violation ${v.event_id}`);
  ctx.out(
    fields([
      ['status', v.status],
      ['severity', v.severity],
      ['type', str('event_type')],
      ['summary', str('summary')],
      ['user', str('user_email')],
      ['received', v.received_at],
      ['completed', v.completed_at],
      ['workflow', v.workflow_id],
    ]),
  );
  const decisions = v.decisions ?? [];
  ctx.out(`\nDecisions (${decisions.length})`);
  if (decisions.length > 0) ctx.out(decisionTable(decisions));

  const tickets = v.tickets ?? [];
  ctx.out(`\nTickets (${tickets.length})`);
  if (tickets.length > 0) {
    ctx.out(
      table(
        ['key', 'connector', 'status', 'priority', 'recurrences', 'sla due', 'url'],
        tickets.map((t) => [
          t.external_id,
          t.connector_id,
          t.status,
          t.priority,
          t.recurrence_count,
          sla(t),
          t.external_url,
        ]),
      ),
    );
  }

  const deliveries = v.deliveries ?? [];
  ctx.out(`\nDeliveries (${deliveries.length})`);
  if (deliveries.length > 0) {
    ctx.out(
      table(
        ['id', 'connector', 'kind', 'purpose', 'status', 'attempts', 'last error'],
        deliveries.map((d) => [
          d.id,
          d.connector_id,
          d.kind,
          d.purpose,
          d.status,
          d.attempts,
          truncate(d.last_error, 60),
        ]),
      ),
    );
  }
  return 0;
}

const sla = (t: Ticket) => (t.sla_due_at ? `${t.sla_due_at}${t.sla_breached ? ' (breached)' : ''}` : '-');

function decisionTable(decisions: Decision[]): string {
  return table(
    ['connector', 'action', 'reason'],
    decisions.map((d) => [
      d.connector_name && d.connector_name !== d.connector_id
        ? `${d.connector_name} (${d.connector_id})`
        : d.connector_id,
      d.action,
      d.reason,
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// tickets list / deliveries list

export interface TicketListOptions {
  status?: string;
  connector?: string;
  severity?: string;
  since?: string;
  limit: number;
}

export async function ticketsList(ctx: Ctx, opts: TicketListOptions): Promise<ExitCode> {
  const page = await ctx.client.list<Ticket>(
    '/v1/tickets',
    {
      status: opts.status,
      connector_id: opts.connector,
      severity: opts.severity,
      since: opts.since === undefined ? undefined : toTimestamp(opts.since, ctx.now()),
    },
    opts.limit,
  );
  if (ctx.json) {
    ctx.printJson(page);
    return 0;
  }
  if (page.items.length === 0) {
    ctx.out('no tickets');
    return 0;
  }
  ctx.out(
    table(
      ['key', 'connector', 'status', 'severity', 'priority', 'recur.', 'sla due', 'created', 'url'],
      page.items.map((t) => [
        t.external_id,
        t.connector_id,
        t.status,
        t.severity,
        t.priority,
        t.recurrence_count,
        sla(t),
        t.created_at,
        t.external_url,
      ]),
    ),
  );
  ctx.out(moreNote(plural(page.items.length, 'ticket'), page.next_cursor));
  return 0;
}

export interface DeliveryListOptions {
  status?: string;
  connector?: string;
  since?: string;
  until?: string;
  limit: number;
}

export async function deliveriesList(ctx: Ctx, opts: DeliveryListOptions): Promise<ExitCode> {
  const now = ctx.now();
  const page = await ctx.client.list<Delivery>(
    '/v1/deliveries',
    {
      status: opts.status,
      connector_id: opts.connector,
      since: opts.since === undefined ? undefined : toTimestamp(opts.since, now),
      until: opts.until === undefined ? undefined : toTimestamp(opts.until, now),
    },
    opts.limit,
  );
  if (ctx.json) {
    ctx.printJson(page);
    return 0;
  }
  if (page.items.length === 0) {
    ctx.out('no deliveries');
    return 0;
  }
  ctx.out(deliveryTable(page.items, true));
  ctx.out(moreNote(plural(page.items.length, 'delivery', 'deliveries'), page.next_cursor));
  return 0;
}

export function deliveryTable(items: Delivery[], withLastAttempt = false): string {
  return table(
    [
      'id',
      'connector',
      'kind',
      ...(withLastAttempt ? ['purpose'] : []),
      'event_id',
      'status',
      'attempts',
      ...(withLastAttempt ? ['last attempt'] : []),
      'last error',
    ],
    items.map((d) => [
      d.id,
      d.connector_id,
      d.kind,
      ...(withLastAttempt ? [d.purpose] : []),
      d.event_id,
      d.status,
      d.attempts,
      ...(withLastAttempt ? [d.last_attempt_at] : []),
      truncate(d.last_error, 60),
    ]),
  );
}

export async function deliveryGet(ctx: Ctx, id: string): Promise<ExitCode> {
  const d = await ctx.client.get<DeliveryDetail>(path('/v1/deliveries/%s', id));
  if (ctx.json) {
    ctx.printJson(d);
    return 0;
  }
  ctx.out(`Delivery ${d.id}`);
  ctx.out(
    fields([
      ['status', d.status],
      ['connector', `${d.connector_id} (${d.kind})`],
      ['purpose', d.purpose],
      ['event', d.event_id],
      ['ticket', d.ticket_id],
      ['attempts', d.attempts],
      ['last error', d.last_error],
      ['created', d.created_at],
    ]),
  );
  const log = d.attempt_log ?? [];
  ctx.out(`\nAttempts (${log.length})`);
  if (log.length > 0) {
    ctx.out(
      table(
        ['#', 'outcome', 'started', 'duration', 'http', 'remote code', 'retry?', 'message'],
        log.map((a) => [
          a.attempt,
          a.outcome,
          a.started_at,
          a.duration_ms === null ? null : `${a.duration_ms} ms`,
          a.http_status,
          a.remote_code,
          a.retryable === null ? null : a.retryable ? 'yes' : 'no',
          truncate(a.message, 70),
        ]),
      ),
    );
  }
  if (d.status === 'failed')
    ctx.out(`\nreplay it: escalate replay --event-id ${d.event_id} --connector ${d.connector_id}`);
  return 0;
}

const moreNote = (shown: string, nextCursor: string | null) =>
  nextCursor ? `${shown} shown; more exist (raise --limit)` : shown;

// ---------------------------------------------------------------------------------------------
// connectors

export async function connectorsList(ctx: Ctx): Promise<ExitCode> {
  const page = await ctx.client.list<Connector>('/v1/connectors', {}, 10_000);
  if (ctx.json) {
    ctx.printJson(page);
    return 0;
  }
  if (page.items.length === 0) {
    ctx.out('no connectors');
    return 0;
  }
  ctx.out(
    table(
      ['id', 'name', 'kind', 'enabled', 'auto push', 'last check', 'last test'],
      page.items.map((c) => [
        c.id,
        c.name,
        c.kind,
        c.enabled ? 'yes' : 'no',
        c.auto_push === undefined ? '-' : c.auto_push ? 'yes' : 'no',
        lastCheck(c),
        lastTest(c),
      ]),
    ),
  );
  return 0;
}

/** `escalate connectors create -f connector.yaml`: one connector, or a list; `${VAR}` from the environment. */
export async function connectorsCreate(ctx: Ctx, file: string): Promise<ExitCode> {
  const doc = expandEnvReferences(await readYamlInput(file, ctx.io.stdin), ctx.io.env, file);
  const list = Array.isArray(doc) ? doc : [doc];
  const created: Connector[] = [];
  for (const body of list) {
    if (!isRecord(body)) throw new Error(`${file}: expected a connector (a mapping), or a list of them`);
    created.push(await ctx.client.post<Connector>('/v1/connectors', body));
  }
  if (ctx.json) {
    ctx.printJson(Array.isArray(doc) ? created : created[0]);
    return 0;
  }
  for (const c of created) {
    ctx.out(`created ${c.id} (${c.kind}, "${c.name}")`);
    if (c.config)
      ctx.out(
        fields(
          Object.entries(c.config).map(([k, v]) => [
            k,
            typeof v === 'object' ? JSON.stringify(v) : (v as string),
          ]),
        ),
      );
  }
  ctx.out(`\nnext: escalate connectors check ${created.map((c) => c.id).join(' ')}`);
  return 0;
}

export async function connectorCheck(ctx: Ctx, ids: string[]): Promise<ExitCode> {
  const results: ConnectorCheck[] = [];
  for (const id of ids)
    results.push(await ctx.client.post<ConnectorCheck>(path('/v1/connectors/%s/check', id)));
  const code: ExitCode = results.every((r) => r.ok) ? 0 : 1;
  if (ctx.json) {
    ctx.printJson(ids.length === 1 ? results[0] : results);
    return code;
  }
  for (const r of results) {
    ctx.out(`${r.ok ? '✓' : '✗'} ${r.connector_id}: ${r.ok ? 'every check passed' : 'some checks failed'}`);
    for (const step of r.checks) ctx.out(`    ${step.ok ? '✓' : '✗'} ${step.name}: ${step.message}`);
  }
  return code;
}

function lastTest(c: Connector): string {
  const s = c.status;
  if (!s?.last_test_at) return 'never';
  const mark = s.last_test_ok ? '✓' : '✗';
  return `${mark} ${s.last_test_at}${s.last_test_result ? ` ${truncate(s.last_test_result, 50)}` : ''}`;
}

function lastCheck(c: Connector): string {
  const s = c.status;
  if (!s?.last_check_at) return 'never';
  return `${s.last_check_ok ? '✓' : '✗'} ${s.last_check_at}`;
}

export async function connectorTest(ctx: Ctx, id: string): Promise<ExitCode> {
  const res = await ctx.client.post<ConnectorTest>(path('/v1/connectors/%s/test', id));
  const code: ExitCode = res.ok ? 0 : 1;
  if (ctx.json) {
    ctx.printJson(res);
    return code;
  }
  ctx.out(`${res.ok ? '✓' : '✗'} ${res.connector_id ?? id}: ${res.message}`);
  const extra: [string, string | number | undefined][] = [
    ['action', res.action],
    ['event_id', res.event_id],
    ['external id', res.external_id],
    ['url', res.external_url],
    ['http status', res.http_status],
    ['remote code', res.remote_code],
  ];
  const present = extra.filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (present.length > 0) ctx.out(fields(present));
  return code;
}

/** Runs on the API (it holds the keys): the CLI never sees a secret or a key. */
export async function connectorsReencrypt(ctx: Ctx): Promise<ExitCode> {
  const res = await ctx.client.post<SecretsReencrypted>('/v1/connectors:reencrypt');
  const code: ExitCode = res.unreadable.length ? 1 : 0;
  if (ctx.json) {
    ctx.printJson(res);
    return code;
  }
  ctx.out(
    `sealed again under the current key: ${res.reencrypted.length}${res.reencrypted.length ? ` (${res.reencrypted.join(', ')})` : ''}; already current: ${res.current}`,
  );
  for (const u of res.unreadable) ctx.out(`✗ ${u.id}: ${u.reason}`);
  return code;
}

// ---------------------------------------------------------------------------------------------
// rules list / dry-run

/** `when` in one line: `severity ≥ high, actions block|coach`. */
function whenSummary(when: Record<string, unknown>): string {
  const parts = Object.entries(when).map(([k, v]) =>
    Array.isArray(v)
      ? `${k} ${v.join('|')}`
      : isRecord(v)
        ? `${k} ${JSON.stringify(v)}`
        : `${k} ${String(v)}`,
  );
  return parts.length ? parts.join(', ') : 'every event';
}

export async function rulesList(ctx: Ctx): Promise<ExitCode> {
  const page = await ctx.client.list<Rule>('/v1/rules', {}, 100_000);
  if (ctx.json) {
    ctx.printJson(page);
    return 0;
  }
  if (page.items.length === 0) {
    ctx.out('no rules');
    return 0;
  }
  ctx.out(
    table(
      ['order', 'id', 'name', 'enabled', 'when', 'targets', 'stop', 'from'],
      page.items.map((r) => [
        r.order,
        r.id,
        r.name,
        r.enabled ? 'yes' : 'no',
        truncate(whenSummary(r.when), 60),
        Array.isArray(r.then.targets) ? r.then.targets.join(', ') : '-',
        r.stop ? 'yes' : 'no',
        r.origin,
      ]),
    ),
  );
  return 0;
}

export async function rulesDryRun(ctx: Ctx, source: string): Promise<ExitCode> {
  const event = await readJsonInput(source, ctx.io.stdin);
  if (!isRecord(event)) throw new Error('expected a JSON object (one event)');
  const res = await ctx.client.post<DryRun>('/v1/rules/dry-run', { event });
  if (ctx.json) {
    ctx.printJson(res);
    return 0;
  }
  ctx.out(
    `severity: ${cell(res.severity)}` +
      (res.risk_score !== undefined && res.risk_score !== null ? ` (risk score ${res.risk_score})` : ''),
  );
  const explanations = res.explanations ?? [];
  ctx.out(`\nRules (${explanations.length})`);
  if (explanations.length === 0) ctx.out('  no rules');
  for (const rule of explanations) {
    const mark = rule.status === 'matched' ? '✓' : rule.status === 'not_matched' ? '✗' : '-';
    ctx.out(
      `${mark} #${rule.order} ${rule.rule_name ?? rule.ruleName ?? rule.rule_id ?? rule.ruleId} [${rule.status}]`,
    );
    for (const c of rule.conditions ?? []) {
      ctx.out(`    ${c.matched ? '✓' : '✗'} ${c.condition}: ${c.detail}`);
    }
    for (const t of rule.targets ?? []) {
      ctx.out(`    → ${t.connector_id ?? t.connectorId}: ${t.outcome} (${t.detail})`);
    }
    ctx.out(`    ${rule.summary}`);
  }
  if (res.default_routing?.applied) {
    ctx.out(
      `\nNo rule matched: default routing (auto_push connectors, from severity ${res.default_routing.min_severity})`,
    );
  }
  const decisions = res.decisions ?? [];
  ctx.out(`\nDecisions (${decisions.length})`);
  ctx.out(decisions.length > 0 ? decisionTable(decisions) : '  no ITSM connectors');
  if (res.tickets) {
    ctx.out(`\nTickets that would be opened (${res.tickets.length})`);
    if (res.tickets.length > 0) {
      ctx.out(
        table(
          ['connector', 'by', 'priority', 'assign to', 'sla'],
          res.tickets.map((t) => [
            t.connector_name && t.connector_name !== t.connector_id
              ? `${t.connector_name} (${t.connector_id})`
              : t.connector_id,
            t.source === 'default' ? 'default routing' : `rule ${t.rule_name ?? '-'}`,
            t.priority,
            [t.assignee, t.assignment_group, t.project_key].filter(Boolean).join(' / ') || '-',
            t.sla_ms ? formatDuration(t.sla_ms) : '-',
          ]),
        ),
      );
    }
  }
  if (res.siem) ctx.out(`\nSIEM deliveries: ${res.siem.length > 0 ? res.siem.join(', ') : 'none'}`);
  return 0;
}
