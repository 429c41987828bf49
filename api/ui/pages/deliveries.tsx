import type { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { CONNECTOR_KINDS } from '../../../domain/connector.js';
import { describeApiError, isoFromInput, needed } from '../api-client.js';
import type { Attempt, Delivery, DeliveryDetail, Replay } from '../api-types.js';
import { Action, Badge, Choice, Csrf, Fields, Page, Pager, Select, Table, Time } from '../components.js';
import { done, field, fields, listPage, type UiDeps, type UiEnv } from '../env.js';
import { SKIP_MEANING, skipCounts, skipReason } from '../replay-skips.js';

const STATUSES = ['pending', 'delivered', 'failed'] as const;
const FILTER = ['status', 'connector_id', 'kind', 'since', 'until'] as const;
const replayable = (d: Pick<Delivery, 'status'>) => d.status !== 'delivered';

export function AttemptLog(props: { attempts: Attempt[] }) {
  return (
    <Table
      head={['#', 'outcome', 'started', 'duration', 'HTTP', 'remote code', 'retried?', 'message']}
      numeric={[0, 3, 4]}
      empty="no attempt yet"
      rows={props.attempts.map((a) => [
        String(a.attempt),
        <Badge value={a.outcome} />,
        <Time iso={a.started_at} />,
        a.duration_ms === null ? null : `${a.duration_ms} ms`,
        a.http_status === null ? null : String(a.http_status),
        a.remote_code,
        a.retryable === null ? null : a.retryable ? 'retryable' : 'permanent',
        <span class="wrap">{a.message}</span>,
      ])}
    />
  );
}

export const ReplayButton = (props: { delivery: Pick<Delivery, 'id' | 'status'>; csrf: string }) =>
  replayable(props.delivery) ? (
    <Action
      action={`/ui/deliveries/${props.delivery.id}/replay`}
      csrf={props.csrf}
      label="Replay"
      kind="secondary"
    />
  ) : null;

/** The bulk replay filter from a form: the selected deliveries, or every one matching the filter. */
function replayFilter(form: Record<string, string | string[]>) {
  const status = field(form, 'f_status') === 'pending' ? 'pending' : 'failed';
  if (field(form, 'scope') === 'selected')
    return { status: 'failed', delivery_ids: fields(form, 'delivery_id') };
  return {
    status,
    connector_id: field(form, 'f_connector_id') || undefined,
    kind: field(form, 'f_kind') || undefined,
    since: isoFromInput(field(form, 'f_since')),
    until: isoFromInput(field(form, 'f_until')),
  };
}

/** The replay choice carried from the dry run to the confirmation. */
function CarriedSelection(props: { form: Record<string, string | string[]> }) {
  const keep = ['scope', ...FILTER.map((f) => `f_${f}`)];
  return (
    <>
      {keep.map((name) => {
        const value = field(props.form, name);
        return value ? <input type="hidden" name={name} value={value} /> : null;
      })}
      {fields(props.form, 'delivery_id').map((id) => (
        <input type="hidden" name="delivery_id" value={id} />
      ))}
    </>
  );
}

export function registerDeliveryPages(router: Hono<UiEnv>, deps: UiDeps) {
  router.get('/deliveries', async (c) => {
    const [{ filter, page }, connectors] = await Promise.all([
      listPage<Delivery, (typeof FILTER)[number]>(c, '/v1/deliveries', FILTER, {
        limit: 100,
        convert: { since: isoFromInput, until: isoFromInput },
      }),
      c.get('api')<{ items: { id: string }[] }>('GET', '/v1/connectors?limit=500').then(needed),
    ]);
    const csrf = c.get('page').csrf;
    return c.html(
      <Page title="Deliveries" ctx={c.get('page')}>
        <form class="filters" method="get" action="/ui/deliveries">
          <Choice label="Status" name="status" value={filter.status} options={STATUSES} />
          <label>
            Connector
            <Select
              name="connector_id"
              value={filter.connector_id}
              options={connectors.items.map((x) => x.id)}
              any="any"
            />
          </label>
          <Choice label="Kind" name="kind" value={filter.kind} options={CONNECTOR_KINDS} />
          <label>
            Created since (UTC)
            <input type="datetime-local" name="since" value={filter.since ?? ''} />
          </label>
          <label>
            until
            <input type="datetime-local" name="until" value={filter.until ?? ''} />
          </label>
          <button type="submit">Filter</button>
        </form>
        <form method="post" action="/ui/deliveries/replay/preview">
          <Csrf token={csrf} />
          {FILTER.map((f) => (filter[f] ? <input type="hidden" name={`f_${f}`} value={filter[f]} /> : null))}
          <div class="actions">
            <button type="submit" name="scope" value="selected">
              Dry run: replay the selected failed deliveries
            </button>
            <button type="submit" name="scope" value="filter" class="secondary">
              {`Dry run: replay every ${filter.status === 'pending' ? 'pending' : 'failed'} delivery matching the filter`}
            </button>
          </div>
          <Table
            head={[
              '',
              'created',
              'connector',
              'kind',
              'purpose',
              'event',
              'status',
              'attempts',
              'last error',
              '',
            ]}
            empty="no delivery matches"
            rows={page.items.map((d) => [
              d.status === 'failed' ? (
                <input type="checkbox" name="delivery_id" value={d.id} aria-label={`select ${d.id}`} />
              ) : null,
              <a href={`/ui/deliveries/${d.id}`}>
                <Time iso={d.created_at} />
              </a>,
              d.connector_id,
              d.kind,
              d.purpose,
              <a href={`/ui/violations/${d.event_id}`} class="mono">
                {d.event_id.slice(0, 8)}
              </a>,
              <Badge value={d.status} />,
              String(d.attempts),
              <span class="wrap">{d.last_error}</span>,
              replayable(d) ? (
                <button type="submit" class="secondary" formaction={`/ui/deliveries/${d.id}/replay`}>
                  Replay
                </button>
              ) : null,
            ])}
          />
        </form>
        <Pager base="/ui/deliveries" query={filter} next={page.next_cursor} />
      </Page>,
    );
  });

  router.post('/deliveries/replay/preview', async (c) => {
    const form = c.get('form');
    const filter = replayFilter(form);
    if ('delivery_ids' in filter && !filter.delivery_ids?.length)
      return done(c, deps, '/ui/deliveries?status=failed', 'error', 'Select at least one failed delivery.');
    const answer = await c.get('api')<{ total: number; deliveries: Delivery[] }>(
      'POST',
      '/v1/deliveries:replay',
      {
        filter,
        dry_run: true,
      },
    );
    if (!answer.ok) return done(c, deps, '/ui/deliveries', 'error', describeApiError(answer.error));
    const { total, deliveries } = answer.data;
    return c.html(
      <Page title="Replay: dry run" ctx={c.get('page')}>
        <p>
          {`${total} ${total === 1 ? 'delivery' : 'deliveries'} would be replayed through Temporal (same idempotency keys; any that has succeeded since is skipped). Nothing has been sent yet.`}
        </p>
        <form method="post" action="/ui/deliveries/replay" class="actions">
          <Csrf token={c.get('page').csrf} />
          <CarriedSelection form={form} />
          <button type="submit" disabled={total === 0}>{`Replay ${total} now`}</button>
          <a class="button secondary" href="/ui/deliveries">
            Cancel
          </a>
        </form>
        <Table
          head={['created', 'connector', 'event', 'status', 'attempts', 'last error']}
          rows={deliveries.map((d) => [
            <Time iso={d.created_at} />,
            d.connector_id,
            <span class="mono">{d.event_id}</span>,
            <Badge value={d.status} />,
            String(d.attempts),
            <span class="wrap">{d.last_error}</span>,
          ])}
        />
      </Page>,
    );
  });

  router.post('/deliveries/replay', async (c) => {
    const answer = await c.get('api')<{ replay_id: string; total: number }>('POST', '/v1/deliveries:replay', {
      filter: replayFilter(c.get('form')),
      dry_run: false,
    });
    if (!answer.ok) return done(c, deps, '/ui/deliveries', 'error', describeApiError(answer.error));
    return done(
      c,
      deps,
      `/ui/replays/${answer.data.replay_id}`,
      'ok',
      `Replay of ${answer.data.total} started.`,
    );
  });

  router.get('/replays/:id', async (c) => {
    const r = needed(
      await c.get('api')<Replay>('GET', `/v1/replays/${encodeURIComponent(c.req.param('id'))}`),
    );
    const running = r.status === 'running';
    return c.html(
      <Page title="Replay" ctx={c.get('page')} refreshSeconds={running ? 2 : undefined}>
        <p>
          <progress value={r.done} max={Math.max(r.total, 1)} /> {`${r.done} of ${r.total} done`}{' '}
          <Badge value={r.status} />
        </p>
        <Fields
          rows={[
            ['delivered', String(r.succeeded)],
            ['failed again', String(r.failed)],
            ['skipped', String(r.skipped)],
            ...skipCounts(r.items).map(([reason, n]): [string, Child] => [
              `skipped: ${reason}`,
              `${n} (${SKIP_MEANING[reason]})`,
            ]),
            ['requested by', r.requested_by],
            ['started', <Time iso={r.created_at} />],
            ['completed', <Time iso={r.completed_at} />],
          ]}
        />
        <Table
          head={['delivery', 'connector', 'event', 'outcome', 'error']}
          rows={r.items.map((i) => [
            <a href={`/ui/deliveries/${i.delivery_id}`} class="mono">
              {i.delivery_id.slice(0, 8)}
            </a>,
            i.connector_id,
            <a href={`/ui/violations/${i.event_id}`} class="mono">
              {i.event_id.slice(0, 8)}
            </a>,
            i.outcome === 'skipped' ? (
              <>
                <Badge value="skipped" /> {skipReason(i.error)}
              </>
            ) : (
              <Badge value={i.outcome} />
            ),
            <span class="wrap">{i.error}</span>,
          ])}
        />
      </Page>,
    );
  });

  router.post('/deliveries/:id/replay', async (c) => {
    const id = c.req.param('id');
    const answer = await c.get('api')<{ skipped: boolean }>(
      'POST',
      `/v1/deliveries/${encodeURIComponent(id)}/replay`,
    );
    if (!answer.ok) return done(c, deps, `/ui/deliveries/${id}`, 'error', describeApiError(answer.error));
    const text = answer.data.skipped ? 'Already delivered: nothing to replay.' : 'Replay started.';
    return done(c, deps, `/ui/deliveries/${id}`, 'ok', text);
  });

  router.get('/deliveries/:id', async (c) => {
    const d = needed(
      await c.get('api')<DeliveryDetail>('GET', `/v1/deliveries/${encodeURIComponent(c.req.param('id'))}`),
    );
    return c.html(
      <Page
        title={`Delivery to ${d.connector_id}`}
        ctx={c.get('page')}
        refreshSeconds={d.status === 'pending' ? 2 : undefined}
      >
        <Fields
          rows={[
            ['status', <Badge value={d.status} />],
            ['connector', `${d.connector_id} (${d.kind})`],
            ['purpose', d.purpose],
            ['violation', <a href={`/ui/violations/${d.event_id}`}>{d.event_id}</a>],
            ['ticket', d.ticket_id ? <a href={`/ui/tickets/${d.ticket_id}`}>{d.ticket_id}</a> : null],
            ['attempts', String(d.attempts)],
            ['last error', d.last_error],
            ['created', <Time iso={d.created_at} />],
          ]}
        />
        <div class="actions">
          <ReplayButton delivery={d} csrf={c.get('page').csrf} />
        </div>
        <h2>Attempts</h2>
        <AttemptLog attempts={d.attempt_log} />
      </Page>,
    );
  });
}
