// biome-ignore-all lint/suspicious/noThenProperty: rules have a `then` field; it is a plain object.
import { describe, expect, it } from 'vitest';
import { notifyOnOf, retryPolicyFor } from '../../domain/connector.js';
import { connectorInputSchema } from '../../domain/connector-input.js';
import type { CompactEvent } from '../../domain/event.js';
import {
  DEFAULT_NOTIFY_ON,
  failureIsTold,
  type Notice,
  noticeKey,
  publicNotice,
} from '../../domain/notification.js';
import { buildNotificationMessage } from '../../domain/notification-message.js';
import { overallStatus } from '../../domain/plan.js';
import { type PlanningConnector, planEvent } from '../../domain/planning.js';
import { DEFAULT_NOTIFY_RETRY } from '../../domain/retry.js';
import { type Rule, ruleSchema } from '../../domain/rule-schema.js';
import { defaultSettings, settingsSchema } from '../../domain/settings.js';
import { noticesAfter } from '../../workflows/notify.js';

const event = (over: Partial<CompactEvent> = {}): CompactEvent => ({
  event_id: '6f1d3c1e-1b7a-4a43-9a51-3c3f0d1e2a10',
  event_type: 'policy_violation',
  severity: 'high',
  occurred_at: '2026-03-20T14:32:00Z',
  summary: 'High-risk interaction blocked',
  user_email: 'dev@example.com',
  policy: { id: 'pol-1', name: 'Exfiltration', action: 'block' },
  ...over,
});

const connector = (
  id: string,
  kind: PlanningConnector['kind'],
  over: Partial<PlanningConnector> = {},
): PlanningConnector => ({
  id,
  name: id,
  kind,
  enabled: true,
  auto_push: false,
  filters: {},
  notify_on: notifyOnOf(kind, undefined),
  ...over,
});
const rule = (input: Record<string, unknown>, id: string): Rule => ({ ...ruleSchema.parse(input), id });
const settings = { auto_push: { min_severity: 'critical' as const } };

describe('notices', () => {
  it('have one key each: the same notice keeps it, another notice gets another', () => {
    const notices: Notice[] = [
      { type: 'ticket_created', ticketId: 't1' },
      { type: 'sla_breached', ticketId: 't1', previous: 'high', priority: 'critical' },
      { type: 'recurrence', ticketId: 't1', count: 3, since: 1000 },
      { type: 'recurrence', ticketId: 't1', count: 5, since: 2000 },
      { type: 'status_changed', ticketId: 't1', from: 'open', to: 'resolved', source: 'api', at: 1 },
      { type: 'status_changed', ticketId: 't1', from: 'resolved', to: 'open', source: 'itsm', at: 2 },
      { type: 'status_changed', ticketId: 't1', from: 'open', to: 'resolved', source: 'api', at: 3 },
      { type: 'delivery_failed', deliveryId: 'd1', attempts: 5 },
      { type: 'delivery_failed', deliveryId: 'd1', attempts: 8 },
    ];
    const keys = notices.map(noticeKey);
    expect(new Set(keys).size).toBe(notices.length);
    expect(noticeKey({ type: 'recurrence', ticketId: 't1', count: 9, since: 1000 })).toBe(keys[2]);
  });

  it('a failed delivery_failed is the one failure never told again', () => {
    expect(failureIsTold('delivery_failed')).toBe(false);
    for (const type of ['ticket_created', 'recurrence', 'status_changed', 'sla_breached', undefined] as const)
      expect(failureIsTold(type)).toBe(true);
    const target = {
      deliveryId: 'd',
      connectorId: 'c',
      connectorName: 'c',
      kind: 'slack' as const,
      timeoutMs: 1,
    };
    const retry = { maximumAttempts: 1, initialIntervalMs: 1, backoffCoefficient: 1, maximumIntervalMs: 1 };
    const failed = { deliveryId: 'd', connectorId: 'c', purpose: 'notify' as const, ok: false };
    expect(noticesAfter({ ...target, retry, purpose: 'notify', notice: 'delivery_failed' }, failed)).toEqual(
      [],
    );
    expect(noticesAfter({ ...target, retry, purpose: 'notify', notice: 'ticket_created' }, failed)).toEqual([
      { type: 'delivery_failed', deliveryId: 'd' },
    ]);
    const ticket = { ...target, kind: 'jira' as const, retry, purpose: 'ticket' as const };
    expect(noticesAfter(ticket, { ...failed, purpose: 'ticket', ok: true, ticketId: 't' })).toEqual([
      { type: 'ticket_created', ticketId: 't' },
    ]);
    expect(
      noticesAfter(ticket, { ...failed, purpose: 'ticket', ok: true, ticketId: 't', recurrence: true }),
    ).toEqual([]);
  });

  it('show in the API with snake_case keys', () => {
    expect(publicNotice({ type: 'delivery_failed', deliveryId: 'd1', attempts: 2 })).toEqual({
      type: 'delivery_failed',
      delivery_id: 'd1',
      attempts: 2,
    });
  });

  it('a violation’s status counts its tickets and events, never its notifications', () => {
    expect(
      overallStatus([
        { purpose: 'ticket', ok: true },
        { purpose: 'notify', ok: false },
      ]),
    ).toBe('completed');
    expect(overallStatus([{ purpose: 'notify', ok: false }])).toBe('completed');
    expect(
      overallStatus([
        { purpose: 'ticket', ok: false },
        { purpose: 'event', ok: true },
      ]),
    ).toBe('partially_failed');
  });
});

describe('production defaults', () => {
  it('recurrences are summarised every 15 minutes; Slack and Teams retry 5 times from 1 s, ×2, capped at 1 min', () => {
    expect(defaultSettings().notifications).toEqual({ recurrence_window: '15m' });
    expect(defaultSettings().public_url).toBeUndefined();
    expect(DEFAULT_NOTIFY_RETRY).toEqual({
      maximumAttempts: 5,
      initialIntervalMs: 1_000,
      backoffCoefficient: 2,
      maximumIntervalMs: 60_000,
    });
    expect(retryPolicyFor('slack', null)).toEqual(DEFAULT_NOTIFY_RETRY);
    expect(retryPolicyFor('teams', null, { maximum_attempts: 2 })).toMatchObject({ maximumAttempts: 2 });
    expect(settingsSchema.safeParse({ notifications: { recurrence_window: 'soon' } }).success).toBe(false);
    expect(settingsSchema.parse({ public_url: 'https://escalate.example.com/' }).public_url).toBe(
      'https://escalate.example.com',
    );
  });
});

describe('notification connectors as input', () => {
  const slack = {
    name: 's',
    kind: 'slack',
    config: { webhook_url: 'https://hooks.slack.com/services/T/B/x' },
  };
  it('default notify_on is left to the kind; a given one is checked', () => {
    expect(connectorInputSchema.parse(slack)).not.toHaveProperty('notify_on');
    expect(notifyOnOf('slack', undefined)).toEqual(DEFAULT_NOTIFY_ON);
    expect(notifyOnOf('webhook', null)).toEqual(['delivery_failed']);
    expect(notifyOnOf('jira', ['ticket_created'])).toEqual([]);
    expect(connectorInputSchema.safeParse({ ...slack, notify_on: ['recurrence'] }).success).toBe(true);
    expect(connectorInputSchema.safeParse({ ...slack, notify_on: ['exploded'] }).success).toBe(false);
    expect(
      connectorInputSchema.safeParse({ ...slack, notify_on: ['recurrence', 'recurrence'] }).success,
    ).toBe(false);
  });

  it('webhooks may only turn delivery_failed off; ITSM and SIEM kinds take no notify_on', () => {
    const hook = { name: 'h', kind: 'webhook', config: { url: 'https://example.com/h' } };
    expect(connectorInputSchema.safeParse({ ...hook, notify_on: [] }).success).toBe(true);
    expect(connectorInputSchema.safeParse({ ...hook, notify_on: ['ticket_created'] }).success).toBe(false);
    const splunk = { name: 'x', kind: 'splunk', config: { hec_url: 'https://s', hec_token: 't' } };
    expect(connectorInputSchema.safeParse({ ...splunk, notify_on: [] }).success).toBe(false);
  });

  it('a Teams Workflows URL keeps its query (sig) and must be http(s) without credentials', () => {
    const teams = (webhook_url: string) =>
      connectorInputSchema.safeParse({ name: 't', kind: 'teams', config: { webhook_url } });
    const url =
      'https://prod-1.westus.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sv=1.0&sig=abc';
    const parsed = teams(url);
    expect(parsed.success && parsed.data.config).toEqual({ webhook_url: url });
    expect(teams('https://user:pw@example.com/x').success).toBe(false);
    expect(teams('\u0000').success).toBe(false); // refused, not thrown
    expect(teams('ftp://example.com/x').success).toBe(false);
  });
});

describe('planning: who hears of an event', () => {
  const connectors = [
    connector('jira', 'jira', { auto_push: true }),
    connector('slack', 'slack'),
    connector('teams-crit', 'teams', { filters: { min_severity: 'critical' } }),
    connector('slack-off', 'slack', { enabled: false }),
    connector('slack-mute', 'slack', { notify_on: [] }),
    connector('hook', 'webhook'),
    connector('hook-low', 'webhook', { filters: { event_types: ['lockout'] } }),
  ];

  it('notification connectors whose filters pass, and webhooks for failures; each decision explained', () => {
    const plan = planEvent(event(), connectors, [], settings);
    expect(plan.listeners).toEqual([
      { connectorId: 'slack', notifyOn: DEFAULT_NOTIFY_ON },
      { connectorId: 'hook', notifyOn: ['delivery_failed'] },
    ]);
    const decision = (id: string) => plan.decisions.find((d) => d.connector_id === id);
    expect(decision('slack')).toMatchObject({
      action: 'notify',
      reason: expect.stringContaining('filters pass'),
    });
    expect(decision('teams-crit')).toMatchObject({
      action: 'skip',
      reason: 'filters exclude policy_violation/high',
    });
    expect(decision('slack-off')).toMatchObject({ action: 'skip', reason: 'connector disabled' });
    expect(decision('slack-mute')).toMatchObject({
      action: 'skip',
      reason: 'notify_on is empty: told of nothing',
    });
    expect(decision('hook')).toMatchObject({ action: 'deliver' });
  });

  it('then.notify adds a connector its own filters exclude; a non-notification id is explained', () => {
    const rules = [
      rule(
        {
          name: 'tell the CISO',
          when: { min_severity: 'high' },
          then: { targets: ['jira'], notify: ['teams-crit', 'jira', 'nope'] },
        },
        'r1',
      ),
    ];
    const plan = planEvent(event(), connectors, rules, settings);
    expect(plan.listeners.map((l) => l.connectorId)).toEqual(['slack', 'teams-crit', 'hook']);
    expect(plan.decisions.find((d) => d.connector_id === 'teams-crit')).toMatchObject({
      action: 'notify',
      reason: expect.stringContaining("named by rule 'tell the CISO'"),
    });
    expect(plan.explanations[0]!.notify.map((n) => n.outcome)).toEqual([
      'notified',
      'not_notification',
      'unknown_connector',
    ]);
    expect(plan.explanations[0]!.summary).toContain('1 of 3 notification connector(s) told');
  });

  it('then.notify repeats no connector', () => {
    expect(ruleSchema.safeParse({ name: 'x', then: { targets: ['a'], notify: ['s', 's'] } }).success).toBe(
      false,
    );
  });
});

describe('what a notification says', () => {
  const ticket = {
    id: 't-1',
    kind: 'jira',
    externalId: 'SEC-7',
    externalUrl: 'https://jira.example.com/browse/SEC-7',
    status: 'open',
    priority: 'high',
  };

  it('names the ticket, the violation and its people, with links', () => {
    const m = buildNotificationMessage({
      notice: { type: 'ticket_created', ticketId: 't-1' },
      event: event(),
      ticket,
      publicUrl: 'https://escalate.example.com',
    });
    expect(m.title).toBe('Jira SEC-7 opened: high policy_violation');
    expect(m.facts).toEqual(
      expect.arrayContaining([
        { label: 'User', value: 'dev@example.com' },
        { label: 'Policy', value: 'Exfiltration (block)' },
        { label: 'Ticket', value: 'Jira SEC-7 (open)' },
      ]),
    );
    expect(m.links).toEqual([
      { label: 'Open SEC-7 in Jira', url: ticket.externalUrl },
      { label: 'View violation', url: `https://escalate.example.com/ui/violations/${event().event_id}` },
    ]);
  });

  it('a recurrence summary counts; a failure says the error and how to replay', () => {
    const recur = buildNotificationMessage({
      notice: { type: 'recurrence', ticketId: 't-1', count: 20, since: Date.UTC(2026, 0, 1) },
      event: event(),
      ticket,
    });
    expect(recur.title).toBe('Jira SEC-7: 20 recurrences');
    expect(recur.notes).toEqual(['20 more violations joined Jira SEC-7 since 2026-01-01T00:00:00.000Z']);
    const failed = buildNotificationMessage({
      notice: { type: 'delivery_failed', deliveryId: 'd-9', attempts: 3 },
      event: event(),
      failure: {
        deliveryId: 'd-9',
        connectorId: 'splunk',
        connectorName: 'Splunk prod',
        kind: 'splunk',
        purpose: 'event',
        attempts: 3,
        lastError: 'HTTP 503: Server is busy',
      },
    });
    expect(failed.title).toBe('Delivery to Splunk prod failed for good');
    expect(failed.notes).toEqual([
      'event delivery to Splunk prod (splunk) failed after 3 attempts',
      'last error: HTTP 503: Server is busy',
      'replay: POST /v1/deliveries/d-9/replay, or npx escalate replay --status failed --connector splunk',
    ]);
    expect(failed.links).toEqual([]);
    expect(failed.data).toMatchObject({
      notice: 'delivery_failed',
      details: { delivery_id: 'd-9', attempts: 3 },
      failed_delivery: { connector_name: 'Splunk prod', last_error: 'HTTP 503: Server is busy' },
    });
  });
});
