import type { Hono } from 'hono';
import type { AuditEntry } from '../api-types.js';
import { Page, Pager, Table, Time } from '../components.js';
import { listPage, type UiEnv } from '../env.js';

const FILTER = ['actor', 'action', 'subject_type', 'subject_id'] as const;

const SUBJECT_PAGES: Record<string, string> = {
  connector: '/ui/connectors/',
  rule: '/ui/rules/',
  ticket: '/ui/tickets/',
  delivery: '/ui/deliveries/',
  replay: '/ui/replays/',
  violation: '/ui/violations/',
};

export function registerAuditPage(router: Hono<UiEnv>) {
  router.get('/audit', async (c) => {
    const { filter, page } = await listPage<AuditEntry, (typeof FILTER)[number]>(c, '/v1/audit', FILTER, {
      limit: 100,
    });
    return c.html(
      <Page title="Audit log" ctx={c.get('page')}>
        <form class="filters" method="get" action="/ui/audit">
          <label>
            Actor
            <input type="text" name="actor" value={filter.actor ?? ''} placeholder="key…abcd, system" />
          </label>
          <label>
            Action
            <input
              type="text"
              name="action"
              value={filter.action ?? ''}
              placeholder="rule.* or connector.check"
            />
          </label>
          <label>
            Subject type
            <input type="text" name="subject_type" value={filter.subject_type ?? ''} />
          </label>
          <label>
            Subject id
            <input type="text" name="subject_id" value={filter.subject_id ?? ''} />
          </label>
          <button type="submit">Filter</button>
        </form>
        <Table
          head={['at', 'actor', 'action', 'subject', 'details']}
          empty="no entry matches"
          rows={page.items.map((e) => {
            const base = SUBJECT_PAGES[e.subject_type];
            return [
              <Time iso={e.at} />,
              e.actor,
              <code>{e.action}</code>,
              base ? (
                <a
                  href={`${base}${encodeURIComponent(e.subject_id)}`}
                >{`${e.subject_type} ${e.subject_id}`}</a>
              ) : (
                `${e.subject_type} ${e.subject_id}`
              ),
              e.details ? <code class="wrap">{JSON.stringify(e.details)}</code> : null,
            ];
          })}
        />
        <Pager base="/ui/audit" query={filter} next={page.next_cursor} />
      </Page>,
    );
  });
}
