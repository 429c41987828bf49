import type { Hono } from 'hono';
import { SEVERITIES } from '../../../domain/severity.js';
import { TICKET_STATUSES } from '../../../domain/ticket-status.js';
import { describeApiError, needed } from '../api-client.js';
import type { Ticket, TicketDetail } from '../api-types.js';
import { Badge, Choice, Csrf, Fields, Page, Pager, Select, Table, Time } from '../components.js';
import { done, field, listPage, type UiDeps, type UiEnv } from '../env.js';

const FILTER = ['status', 'connector_id', 'severity', 'sla_breached'] as const;

/** The ticket's key, linking to it in Jira / ServiceNow. */
export const TicketKey = (props: { ticket: Pick<Ticket, 'external_id' | 'external_url' | 'id'> }) =>
  props.ticket.external_url ? (
    <a href={props.ticket.external_url} target="_blank" rel="noreferrer">
      {props.ticket.external_id ?? props.ticket.id} ↗
    </a>
  ) : (
    <span>{props.ticket.external_id ?? 'being created'}</span>
  );

const Sla = (props: { ticket: Pick<Ticket, 'sla_due_at' | 'sla_breached'> }) => (
  <>
    <Time iso={props.ticket.sla_due_at} /> {props.ticket.sla_breached ? <Badge value="breached" /> : null}
  </>
);

export function registerTicketPages(router: Hono<UiEnv>, deps: UiDeps) {
  router.get('/tickets', async (c) => {
    const { filter, page } = await listPage<Ticket, (typeof FILTER)[number]>(c, '/v1/tickets', FILTER, {
      limit: 50,
    });
    return c.html(
      <Page title="Tickets" ctx={c.get('page')}>
        <form class="filters" method="get" action="/ui/tickets">
          <Choice label="Status" name="status" value={filter.status} options={TICKET_STATUSES} />
          <Choice label="Severity" name="severity" value={filter.severity} options={SEVERITIES} />
          <label>
            Connector
            <input type="text" name="connector_id" value={filter.connector_id ?? ''} />
          </label>
          <Choice
            label="SLA breached"
            name="sla_breached"
            value={filter.sla_breached}
            options={['true', 'false']}
          />
          <button type="submit">Filter</button>
        </form>
        <Table
          head={[
            'ticket',
            'key',
            'connector',
            'status',
            'severity',
            'priority',
            'SLA due',
            'recurrences',
            'created',
          ]}
          empty="no ticket matches"
          rows={page.items.map((t) => [
            <a href={`/ui/tickets/${t.id}`}>open</a>,
            <TicketKey ticket={t} />,
            t.connector_id,
            <Badge value={t.status} />,
            <Badge value={t.severity} />,
            t.priority,
            <Sla ticket={t} />,
            String(t.recurrence_count),
            <Time iso={t.created_at} />,
          ])}
        />
        <Pager base="/ui/tickets" query={filter} next={page.next_cursor} />
      </Page>,
    );
  });

  router.get('/tickets/:id', async (c) => {
    const t = needed(
      await c.get('api')<TicketDetail>('GET', `/v1/tickets/${encodeURIComponent(c.req.param('id'))}`),
    );
    const csrf = c.get('page').csrf;
    return c.html(
      <Page title={`Ticket ${t.external_id ?? t.id}`} ctx={c.get('page')}>
        <Fields
          rows={[
            ['key', <TicketKey ticket={t} />],
            ['status', <Badge value={t.status} />],
            ['connector', `${t.connector_id} (${t.kind})`],
            ['severity / priority', `${t.severity} / ${t.priority}`],
            ['SLA due', <Sla ticket={t} />],
            ['recurrences', String(t.recurrence_count)],
            ['violation', <a href={`/ui/violations/${t.event_id}`}>{t.event_id}</a>],
            ['created', <Time iso={t.created_at} />],
            ['resolved', <Time iso={t.resolved_at} />],
            ['closed', <Time iso={t.closed_at} />],
            ['workflow', <code>{t.workflow_id}</code>],
          ]}
        />
        <h2>Change status</h2>
        <form class="actions" method="post" action={`/ui/tickets/${t.id}/status`}>
          <Csrf token={csrf} />
          <Select name="status" value={t.status} options={TICKET_STATUSES} />
          <input type="text" name="note" placeholder="note (optional)" size={40} />
          <button type="submit">Change</button>
        </form>
        <h2>Add a comment</h2>
        <form class="stack" method="post" action={`/ui/tickets/${t.id}/comments`}>
          <Csrf token={csrf} />
          <textarea
            name="text"
            required
            placeholder="Sent to the ticket as a Jira comment / ServiceNow work note"
          />
          <div>
            <button type="submit">Comment</button>
          </div>
        </form>
        <h2>History</h2>
        <Table
          head={['at', 'what', 'from → to', 'source', 'by', 'note']}
          empty="nothing happened yet"
          rows={t.history.map((e) => [
            <Time iso={e.at} />,
            e.type,
            e.from_status || e.to_status ? `${e.from_status ?? '-'} → ${e.to_status ?? '-'}` : null,
            e.source,
            e.actor,
            <span class="wrap">{e.note}</span>,
          ])}
        />
      </Page>,
    );
  });

  router.post('/tickets/:id/status', async (c) => {
    const id = c.req.param('id');
    const form = c.get('form');
    const note = field(form, 'note')?.trim();
    const answer = await c.get('api')<{ result: string; status: string }>(
      'POST',
      `/v1/tickets/${encodeURIComponent(id)}/status`,
      { status: field(form, 'status'), ...(note ? { note } : {}) },
    );
    const to = `/ui/tickets/${id}`;
    if (!answer.ok) return done(c, deps, to, 'error', `Refused: ${describeApiError(answer.error)}`);
    const text =
      answer.data.result === 'noop'
        ? `Already ${answer.data.status}.`
        : `Status changed to ${answer.data.status}.`;
    return done(c, deps, to, 'ok', text);
  });

  router.post('/tickets/:id/comments', async (c) => {
    const id = c.req.param('id');
    const answer = await c.get('api')('POST', `/v1/tickets/${encodeURIComponent(id)}/comments`, {
      text: field(c.get('form'), 'text') ?? '',
    });
    const to = `/ui/tickets/${id}`;
    if (!answer.ok) return done(c, deps, to, 'error', describeApiError(answer.error));
    return done(c, deps, to, 'ok', 'Comment queued: the ticket workflow sends it to the ITSM.');
  });
}
