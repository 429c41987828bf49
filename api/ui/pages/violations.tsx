import type { Hono } from 'hono';
import { EVENT_TYPES } from '../../../domain/event.js';
import { SEVERITIES } from '../../../domain/severity.js';
import { isoFromInput, needed } from '../api-client.js';
import type { DeliveryDetail, Violation, ViolationSummary } from '../api-types.js';
import { Badge, Choice, Fields, Json, Page, Pager, Table, Time } from '../components.js';
import { listPage, type UiDeps, type UiEnv } from '../env.js';
import { AttemptLog, ReplayButton } from './deliveries.js';
import { TicketKey } from './tickets.js';

const STATUSES = ['processing', 'completed', 'partially_failed', 'failed'] as const;
const FILTER = ['q', 'severity', 'status', 'event_type', 'since'] as const;

/** A routing decision as the violation keeps it. */
interface Decision {
  connector_id: string;
  connector_name?: string;
  action: string;
  reason: string;
}

/** The Temporal Web UI's list of runs of this workflow id (the latest run first). */
export function temporalRunUrl(ui: UiDeps['temporalUi'], workflowId: string): string | undefined {
  if (!ui) return undefined;
  const query = encodeURIComponent(`WorkflowId="${workflowId}"`);
  return `${ui.url.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows?query=${query}`;
}

export function registerViolationPages(router: Hono<UiEnv>, deps: UiDeps) {
  router.get('/violations', async (c) => {
    const { filter, page } = await listPage<ViolationSummary, (typeof FILTER)[number]>(
      c,
      '/v1/violations',
      FILTER,
      {
        limit: 50,
        convert: { since: isoFromInput },
      },
    );
    return c.html(
      <Page title="Violations" ctx={c.get('page')}>
        <form class="filters" method="get" action="/ui/violations">
          <label>
            Search
            <input
              type="search"
              name="q"
              value={filter.q ?? ''}
              placeholder="summary, user, event id, policy"
            />
          </label>
          <Choice label="Severity" name="severity" value={filter.severity} options={SEVERITIES} />
          <Choice label="Status" name="status" value={filter.status} options={STATUSES} />
          <Choice label="Type" name="event_type" value={filter.event_type} options={EVENT_TYPES} />
          <label>
            Received since (UTC)
            <input type="date" name="since" value={filter.since ?? ''} />
          </label>
          <button type="submit">Search</button>
        </form>
        <Table
          head={['received', 'severity', 'type', 'summary', 'user', 'policy', 'status']}
          empty="no violation matches"
          rows={page.items.map((v) => [
            <Time iso={v.received_at} />,
            <Badge value={v.severity} />,
            v.event_type,
            <a href={`/ui/violations/${v.event_id}`}>{v.summary ?? v.event_id}</a>,
            v.user_email,
            v.policy_id,
            <Badge value={v.status} />,
          ])}
        />
        <Pager base="/ui/violations" query={filter} next={page.next_cursor} />
      </Page>,
    );
  });

  router.get('/violations/:id', async (c) => {
    const api = c.get('api');
    const v = needed(await api<Violation>('GET', `/v1/violations/${encodeURIComponent(c.req.param('id'))}`));
    const deliveries = await Promise.all(
      v.deliveries.map(async (d) => needed(await api<DeliveryDetail>('GET', `/v1/deliveries/${d.id}`))),
    );
    const payload = v.payload as { summary?: string; event_type?: string; user_email?: string };
    const runUrl = temporalRunUrl(deps.temporalUi, v.workflow_id);
    const csrf = c.get('page').csrf;
    return c.html(
      <Page title={`Violation: ${payload.summary ?? v.event_id}`} ctx={c.get('page')}>
        <Fields
          rows={[
            ['event id', <code>{v.event_id}</code>],
            ['status', <Badge value={v.status} />],
            ['severity', <Badge value={v.severity} />],
            ['type', payload.event_type],
            ['user', payload.user_email],
            ['received', <Time iso={v.received_at} />],
            ['completed', <Time iso={v.completed_at} />],
            [
              'workflow',
              runUrl ? (
                <a href={runUrl} target="_blank" rel="noreferrer">
                  {v.workflow_id} in the Temporal Web UI ↗
                </a>
              ) : (
                <code>{v.workflow_id}</code>
              ),
            ],
          ]}
        />
        <h2>Decisions</h2>
        <Table
          head={['connector', 'action', 'reason']}
          empty="no decision recorded yet"
          rows={(v.decisions as Decision[]).map((d) => [
            d.connector_name && d.connector_name !== d.connector_id
              ? `${d.connector_name} (${d.connector_id})`
              : d.connector_id,
            <Badge value={d.action} kind="plain" />,
            d.reason,
          ])}
        />
        <h2>Tickets</h2>
        <Table
          head={['key', 'connector', 'status', 'priority', 'SLA due', 'recurrences']}
          empty="no ticket"
          rows={v.tickets.map((t) => [
            <TicketKey ticket={t} />,
            t.connector_id,
            <Badge value={t.status} />,
            t.priority,
            <>
              <Time iso={t.sla_due_at} /> {t.sla_breached ? <Badge value="breached" /> : null}
            </>,
            String(t.recurrence_count),
          ])}
        />
        <h2>Deliveries</h2>
        {deliveries.length === 0 ? <p class="muted">no delivery</p> : null}
        {deliveries.map((d) => (
          <section>
            <h3>
              <a href={`/ui/deliveries/${d.id}`}>{`${d.connector_id} (${d.kind}, ${d.purpose})`}</a>{' '}
              <Badge value={d.status} /> <ReplayButton delivery={d} csrf={csrf} />
            </h3>
            <AttemptLog attempts={d.attempt_log} />
          </section>
        ))}
        <h2>Payload</h2>
        <Json value={v.payload} />
      </Page>,
    );
  });
}
