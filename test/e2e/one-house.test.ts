// biome-ignore-all lint/suspicious/noThenProperty: rules have a `then` field; plain data.
/**
 * What the single homes guarantee: the rules dry-run explains exactly what the workflow's plan
 * does (one planning function), and a ticket workflow shows the same search attributes and
 * summary whether a violation or a status change started it (one start spec).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { compactEvent, type ViolationEvent } from '../../domain/event.js';
import { EscalateSeverity } from '../../domain/search-attributes.js';
import { defaultSettings } from '../../domain/settings.js';
import { createLogger } from '../../infra/logger.js';
import { ticketStart, ticketWorkflowId } from '../../workflows/contract.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let jira: FakeJira;

beforeAll(async () => {
  [stack, jira] = await Promise.all([startStack(), startFakeJira()]);
  const created = await Promise.all([
    stack.api('/v1/connectors', { method: 'POST', json: jiraConnector(jira.url, { id: 'jira-sec' }) }),
    stack.api('/v1/connectors', {
      method: 'POST',
      json: jiraConnector(jira.url, { id: 'jira-ciso', name: 'Jira CISO', auto_push: false }),
    }),
    stack.api('/v1/connectors', {
      method: 'POST',
      json: {
        id: 'splunk',
        name: 'splunk',
        kind: 'splunk',
        config: { hec_url: 'http://127.0.0.1:9', hec_token: 't' },
        filters: { min_severity: 'high' },
      },
    }),
    stack.api('/v1/rules', {
      method: 'POST',
      json: {
        id: 'ciso',
        name: 'risky → CISO',
        order: 1,
        when: { min_risk_score: 0.9 },
        then: {
          targets: ['jira-ciso'],
          priority: 'critical',
          labels: ['ciso'],
          assignee: 'ciso-bot',
          sla: '2h',
          correlate_by: ['user_email', 'tags.team'],
          reopen_within: '1d',
        },
      },
    }),
    stack.api('/v1/rules', {
      method: 'POST',
      json: {
        id: 'never',
        name: 'lockouts',
        order: 2,
        when: { event_types: ['lockout'] },
        then: { targets: ['jira-sec'] },
      },
    }),
  ]);
  for (const r of created) expect(r.status).toBe(201);
});
afterAll(async () => {
  await stack?.close();
  await jira?.close();
});

describe('the rules dry-run and the plan', () => {
  it.each([
    ['a rule matches', { risk_score: 0.95, severity: undefined }],
    ['no rule matches: default routing', { severity: 'critical' }],
    ['nothing goes anywhere', { severity: 'low' }],
  ])('%s: the dry-run explains what the plan decides', async (_, over) => {
    const raw = makeEvent(over) as unknown as ViolationEvent;
    const dry = await stack.api('/v1/rules/dry-run', { method: 'POST', json: { event: raw } });
    expect(dry.status).toBe(200);
    const explained = (await dry.json()) as {
      decisions: unknown[];
      tickets: Record<string, unknown>[];
      siem: string[];
    };

    const activities = createActivities({
      db: stack.database.db,
      workflows: { client: stack.client, taskQueue: stack.taskQueue },
      box: stack.box,
      settings: defaultSettings(),
      logger: createLogger({ level: 'silent' }),
    });
    const plan = await activities.planViolation(compactEvent(raw, raw.occurred_at!), 'test');

    expect(plan.decisions).toEqual(explained.decisions);
    expect(plan.targets.filter((t) => t.purpose === 'event').map((t) => t.connectorId)).toEqual(
      explained.siem,
    );
    const planned = plan.targets
      .filter((t) => t.purpose === 'ticket')
      .map((t) => ({
        connector_id: t.connectorId,
        rule_id: t.ticket?.ruleId ?? null,
        priority: t.priority,
        correlation_key: t.ticket?.correlationKey,
        correlate_by: t.ticket?.correlateBy,
        labels: t.ticket?.labels,
        assignee: t.ticket?.assignee ?? null,
        sla_ms: t.ticket?.slaMs ?? null,
        reopen_within_ms: t.ticket?.reopenWithinMs ?? null,
      }));
    expect(planned).toEqual(
      explained.tickets.map((t) => ({
        connector_id: t.connector_id,
        rule_id: t.rule_id,
        priority: t.priority,
        correlation_key: t.correlation_key,
        correlate_by: t.correlate_by,
        labels: t.labels,
        assignee: t.assignee,
        sla_ms: t.sla_ms,
        reopen_within_ms: t.reopen_within_ms,
      })),
    );
    // The cases really differ, so the comparison covers rules, defaults and SIEM filters.
    expect(explained.tickets.length + explained.siem.length + explained.decisions.length).toBeGreaterThan(0);
  });
});

describe('a ticket workflow', () => {
  async function started(workflowId: string) {
    const handle = stack.client.workflow.getHandle(workflowId);
    const d = await eventually(async () => handle.describe().catch(() => undefined), 30_000, workflowId);
    return {
      severity: d.typedSearchAttributes.get(EscalateSeverity),
      summary: await d.staticSummary(),
    };
  }

  it('shows the same search attributes and summary whether a violation or a status change starts it', async () => {
    const event = makeEvent({ severity: 'critical' });
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    const byViolation = await eventually(async () => {
      const v = (await (await stack.api(`/v1/violations/${event.event_id}`)).json()) as {
        tickets: { id: string; external_id: string | null }[];
      };
      return v.tickets.find((t) => t.external_id);
    });
    const [row] = await stack.database.sql<
      {
        id: string;
        event_id: string;
        kind: string;
        severity: string;
        priority: string;
        external_id: string;
      }[]
    >`select id, event_id, kind, severity, priority, external_id from tickets where id = ${byViolation.id}`;

    // A ticket nobody has started a workflow for yet (as after a restore, or a lost start).
    const id = randomUUID();
    await stack.database.sql`
      insert into tickets (id, connector_id, kind, event_id, idempotency_key, external_id, external_url,
                           severity, priority, sla_ms, sla_due_at)
      values (${id}, 'jira-sec', 'jira', ${row!.event_id}, ${`test-${id}`}, 'SEC-9999',
              ${`${jira.url}/browse/SEC-9999`}, 'critical', 'critical', 3600000, now() + interval '1 hour')`;
    const change = await stack.api(`/v1/tickets/${id}/status`, {
      method: 'POST',
      json: { status: 'in_progress' },
    });
    expect(change.status).toBe(200);

    const viaViolation = await started(ticketWorkflowId(row!.id));
    const viaStatusChange = await started(ticketWorkflowId(id));
    const facts = (t: { id: string; eventId: string; externalId: string }) =>
      ticketStart({ ...t, kind: 'jira', severity: 'critical', priority: 'critical', status: 'open' }).options
        .staticSummary;
    expect(viaViolation).toEqual({
      severity: 'critical',
      summary: facts({ id: row!.id, eventId: row!.event_id, externalId: row!.external_id }),
    });
    expect(viaStatusChange).toEqual({
      severity: 'critical',
      summary: facts({ id, eventId: row!.event_id, externalId: 'SEC-9999' }),
    });
  });
});
