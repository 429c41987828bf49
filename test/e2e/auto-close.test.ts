/**
 * `auto_close_after`: a ticket left resolved that long is closed by its workflow (pushed to the
 * ITSM, and the workflow ends); one reopened in between is not.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stateQuery } from '../../workflows/contract.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

const AUTO_CLOSE_MS = 4000;
let stack: Stack;
let jira: FakeJira;

type Ticket = {
  id: string;
  external_id: string;
  status: string;
  workflow_id: string;
  history: { type: string; source: string | null; to_status: string | null; at: string }[];
};

beforeAll(async () => {
  [stack, jira] = await Promise.all([
    startStack({ settings: { auto_close_after: `${AUTO_CLOSE_MS}ms` } }),
    startFakeJira(),
  ]);
  expect((await stack.api('/v1/connectors', { method: 'POST', json: jiraConnector(jira.url) })).status).toBe(
    201,
  );
});
afterAll(async () => {
  await stack?.close();
  await jira?.close();
});

const ticket = async (id: string) => (await (await stack.api(`/v1/tickets/${id}`)).json()) as Ticket;

async function openTicket(): Promise<Ticket> {
  const event = makeEvent({ severity: 'critical' });
  expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
  const id = await eventually(
    async () => {
      const v = (await (await stack.api(`/v1/violations/${event.event_id}`)).json()) as {
        tickets: { id: string; external_id: string | null }[];
      };
      return v.tickets.find((t) => t.external_id)?.id;
    },
    60_000,
    'ticket',
  );
  return ticket(id);
}

const setStatus = async (id: string, status: string) =>
  (await (await stack.api(`/v1/tickets/${id}/status`, { method: 'POST', json: { status } })).json()) as {
    result: string;
    status: string;
  };

it('closes a ticket left resolved for auto_close_after, in the ITSM too, and its workflow ends', async () => {
  const t = await openTicket();
  expect(await setStatus(t.id, 'resolved')).toEqual({ result: 'applied', status: 'resolved' });
  const closed = await eventually(
    async () => {
      const x = await ticket(t.id);
      return x.status === 'closed' ? x : undefined;
    },
    60_000,
    'auto-close',
  );
  const auto = closed.history.find((h) => h.to_status === 'closed');
  expect(auto?.source).toBe('auto-close');
  const handle = stack.client.workflow.getHandle(closed.workflow_id);
  await eventually(
    async () => (await handle.describe()).status.name === 'COMPLETED',
    60_000,
    'ticket workflow to end',
  );
  // Both moments on the workflow's own clock (the history rows are written later, by an activity,
  // whenever a busy machine gets to it): the period was waited in full.
  const { transitions } = await handle.query(stateQuery);
  const at = (to: string) => Date.parse(transitions.find((x) => x.to === to)!.at);
  expect(at('closed') - at('resolved')).toBeGreaterThanOrEqual(AUTO_CLOSE_MS);
  expect(jira.issues.get(t.external_id)!.status.category).toBe('done');
});

it('does not close a ticket reopened before the period ended', async () => {
  const t = await openTicket();
  expect(await setStatus(t.id, 'resolved')).toMatchObject({ result: 'applied' });
  expect(await setStatus(t.id, 'open')).toEqual({ result: 'applied', status: 'open' });
  await new Promise((r) => setTimeout(r, AUTO_CLOSE_MS + 2000));
  const after = await ticket(t.id);
  expect(after.status).toBe('open');
  expect(after.history.some((h) => h.to_status === 'closed')).toBe(false);
  expect((await stack.client.workflow.getHandle(after.workflow_id).describe()).status.name).toBe('RUNNING');
});
