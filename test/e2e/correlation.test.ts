// biome-ignore-all lint/suspicious/noThenProperty: rules have a `then` field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let jira: FakeJira;

type Ticket = {
  id: string;
  external_id: string;
  status: string;
  recurrence_count: number;
  history: {
    type: string;
    source: string | null;
    to_status: string | null;
    event_id: string | null;
    at: string;
  }[];
};
/** The coach rule's auto-resolve window. */
const COACH_WINDOW_MS = 8000;

type View = {
  status: string;
  tickets: { id: string; external_id: string | null }[];
  deliveries: { status: string }[];
};

beforeAll(async () => {
  [stack, jira] = await Promise.all([startStack(), startFakeJira()]);
  const create = async (body: unknown) => {
    const res = await stack.api('/v1/connectors', { method: 'POST', json: body });
    expect(res.status, await res.clone().text()).toBe(201);
  };
  await create(jiraConnector(jira.url, { id: 'sec', auto_push: true }));
  const rule = await stack.api('/v1/rules', {
    method: 'POST',
    json: {
      id: 'coach-auto-resolve',
      name: 'coach actions resolve themselves',
      order: 1,
      when: { policy_actions: ['coach'] },
      then: {
        targets: ['sec'],
        priority: 'low',
        auto_resolve_after: `${COACH_WINDOW_MS / 1000}s`,
        reopen_within: '1h',
        labels: ['coach'],
      },
      stop: true,
    },
  });
  expect(rule.status, await rule.clone().text()).toBe(201);
});
afterAll(async () => {
  await stack?.close();
  await jira?.close();
});

const view = async (id: string) => (await (await stack.api(`/v1/violations/${id}`)).json()) as View;
const done = (id: string) =>
  eventually(
    async () => ((await view(id)).status !== 'processing' ? view(id) : undefined),
    60_000,
    `violation ${id}`,
  );
const ticket = async (id: string) => (await (await stack.api(`/v1/tickets/${id}`)).json()) as Ticket;

describe('correlation', () => {
  it('50 concurrent events with one key: exactly one ticket and 49 recurrences', async () => {
    const shared = {
      user_email: 'mallory@example.com',
      policy: { id: 'pol-exfil', name: 'Exfiltration', action: 'block' },
    };
    const events = Array.from({ length: 50 }, () => makeEvent(shared));
    const statuses = await Promise.all(
      events.map(async (e) => (await stack.api('/v1/violations', { method: 'POST', json: e })).status),
    );
    expect(statuses.every((s) => s === 202)).toBe(true);
    const views = await Promise.all(events.map((e) => done(e.event_id as string)));
    const ticketIds = new Set(views.flatMap((v) => v.tickets.map((t) => t.id)));
    expect(ticketIds.size).toBe(1);
    expect(views.every((v) => v.status === 'completed')).toBe(true);
    const t = await eventually(
      async () => {
        const x = await ticket([...ticketIds][0]!);
        return x.recurrence_count === 49 ? x : undefined;
      },
      30_000,
      'recurrence count',
    );
    expect(t.history.filter((h) => h.type === 'recurrence')).toHaveLength(49);
    expect(
      [...jira.createsByLabel.entries()].filter(([l]) => l.startsWith('escalate-') && l !== 'escalate'),
    ).toHaveLength([...jira.issues.values()].length);
    expect(
      [...jira.issues.values()].filter((i) => i.fields.summary.includes(events[0]!.summary as string)),
    ).toHaveLength(1);
    // Every recurrence is commented on the ticket ("recurred: …").
    await eventually(
      async () => jira.issues.get(t.external_id)!.comments.length >= 49,
      60_000,
      'recurrence comments',
    );
  });

  it('coach actions auto-resolve after their window; a recurrence restarts the window, a later one reopens', async () => {
    const shared = {
      user_email: 'carol@example.com',
      policy: { id: 'pol-coach', name: 'Coaching', action: 'coach' },
      severity: 'low',
    };
    const first = makeEvent(shared);
    await stack.api('/v1/violations', { method: 'POST', json: first });
    const v1 = await done(first.event_id as string);
    const ticketId = v1.tickets[0]!.id;
    const second = makeEvent(shared);
    await stack.api('/v1/violations', { method: 'POST', json: second });
    const v2 = await done(second.event_id as string);
    expect(v2.tickets[0]!.id).toBe(ticketId);

    const resolved = await eventually(
      async () => {
        const t = await ticket(ticketId);
        return t.status === 'resolved' ? t : undefined;
      },
      60_000,
      'auto-resolve',
    );
    // The recurrence restarted the window: the auto-resolve came a full window after it (the
    // history's clock, not the test's, so a slow machine cannot make this pass or fail by luck).
    const recurred = resolved.history.find((h) => h.type === 'recurrence' && h.event_id === second.event_id);
    const autoResolved = resolved.history.find((h) => h.type === 'transition' && h.source === 'auto-resolve');
    expect(recurred && autoResolved, JSON.stringify(resolved.history)).toBeTruthy();
    expect(Date.parse(autoResolved!.at) - Date.parse(recurred!.at)).toBeGreaterThanOrEqual(COACH_WINDOW_MS);
    await eventually(
      async () => jira.issues.get(resolved.external_id)!.status.category === 'done',
      30_000,
      'pushed to Jira',
    );

    // Within reopen_within: the next occurrence reopens the same ticket.
    const third = makeEvent(shared);
    await stack.api('/v1/violations', { method: 'POST', json: third });
    const v3 = await done(third.event_id as string);
    expect(v3.tickets[0]!.id).toBe(ticketId);
    // Reopened (it may auto-resolve again a window later: read the history, not the status).
    await eventually(
      async () =>
        (await ticket(ticketId)).history.some((h) => h.source === 'recurrence' && h.to_status === 'open'),
      60_000,
      'reopen',
    );
  }, 180_000);
});
