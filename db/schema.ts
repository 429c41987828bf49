import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { TicketSpec } from '../domain/plan.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const violations = pgTable(
  'violations',
  {
    eventId: uuid('event_id').primaryKey(),
    /** The body as posted (unknown fields kept); `occurred_at` defaulted at accept. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    /** sha256 of the canonical body: same event_id + same hash → 200, different → 409. */
    bodyHash: text('body_hash').notNull(),
    eventType: text('event_type').notNull(),
    severity: text('severity').notNull(),
    riskScore: doublePrecision('risk_score'),
    platformId: text('platform_id'),
    occurredAt: ts('occurred_at').notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
    workflowId: text('workflow_id').notNull(),
    /** Set once Temporal acknowledged the workflow start. */
    startedAt: ts('started_at'),
    /** Why Temporal refused the start (not an outage): the pending-start sweep skips the row. */
    startError: text('start_error'),
    status: text('status').notNull().default('processing'),
    decisions: jsonb('decisions').$type<unknown[]>(),
    completedAt: ts('completed_at'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('violations_received_idx').on(t.receivedAt),
    index('violations_status_idx').on(t.status, t.receivedAt),
  ],
);

export const connectors = pgTable('connectors', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  kind: text('kind').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  autoPush: boolean('auto_push').notNull().default(true),
  /** Non-secret configuration. */
  config: jsonb('config').$type<Record<string, unknown>>().notNull(),
  /** Secret fields, AES-256-GCM encrypted as one JSON blob. */
  secrets: text('secrets'),
  filters: jsonb('filters').$type<Record<string, unknown>>().notNull().default({}),
  retry: jsonb('retry').$type<Record<string, unknown>>(),
  /** Notification kinds (slack, teams, webhook): what the connector is told about; null = the kind's default. */
  notifyOn: jsonb('notify_on').$type<string[]>(),
  /** `api` or `config` (declared in ESCALATE_CONFIG). */
  origin: text('origin').notNull().default('api'),
  lastTestAt: ts('last_test_at'),
  lastTestOk: boolean('last_test_ok'),
  lastTestResult: text('last_test_result'),
  /** The last `check` (read-only): its time, verdict and every step `{name, ok, message}`. */
  lastCheckAt: ts('last_check_at'),
  lastCheckOk: boolean('last_check_ok'),
  lastCheck: jsonb('last_check').$type<{ name: string; ok: boolean; message: string }[]>(),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const tickets = pgTable(
  'tickets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    connectorId: text('connector_id').notNull(),
    kind: text('kind').notNull(),
    /** The violation that opened it. */
    eventId: uuid('event_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** Null while the remote create is in flight (the row is the correlation claim). */
    externalId: text('external_id'),
    externalUrl: text('external_url'),
    remoteId: text('remote_id'),
    sysId: text('sys_id'),
    status: text('status').notNull().default('open'),
    severity: text('severity').notNull(),
    priority: text('priority').notNull(),
    correlationKey: text('correlation_key'),
    ruleId: text('rule_id'),
    recurrenceCount: integer('recurrence_count').notNull().default(0),
    lastRecurrenceAt: ts('last_recurrence_at'),
    /** Lifecycle settings the ticket was opened with (from the rule). */
    autoResolveAfterMs: bigint('auto_resolve_after_ms', { mode: 'number' }),
    reopenWithinMs: bigint('reopen_within_ms', { mode: 'number' }),
    slaMs: bigint('sla_ms', { mode: 'number' }),
    slaDueAt: ts('sla_due_at'),
    slaBreached: boolean('sla_breached').notNull().default(false),
    resolvedAt: ts('resolved_at'),
    closedAt: ts('closed_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('tickets_idempotency_key_uq').on(t.idempotencyKey),
    index('tickets_event_idx').on(t.eventId),
    index('tickets_connector_external_idx').on(t.connectorId, t.externalId),
    index('tickets_external_idx').on(t.externalId),
    index('tickets_status_idx').on(t.status, t.createdAt),
    index('tickets_correlation_idx').on(t.connectorId, t.correlationKey).where(sql`${t.status} <> 'closed'`),
  ],
);

export const deliveries = pgTable(
  'deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    eventId: uuid('event_id').notNull(),
    connectorId: text('connector_id').notNull(),
    /** Connector kind (jira, servicenow, splunk...). */
    kind: text('kind').notNull(),
    /** `ticket` (ITSM create), `event` (SIEM delivery) or `notify` (a notification). */
    purpose: text('purpose').notNull(),
    /** `notify`: what is told (type and ids: the Notice), read again on every attempt and replay. */
    notice: jsonb('notice').$type<Record<string, unknown>>(),
    /** `notify`: the notice's identity; one delivery per connector and key. */
    noticeKey: text('notice_key'),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    lastAttemptAt: ts('last_attempt_at'),
    ticketId: uuid('ticket_id'),
    /** ITSM: the ticket planning decided (rule labels, priority...), for every later attempt. */
    ticketSpec: jsonb('ticket_spec').$type<TicketSpec>(),
    /** ITSM: the severity word the ticket's priority comes from, as planned. */
    priority: text('priority'),
    /** Who holds the per-delivery lock over lookup + create, until when (a lease: a dead holder's expires). */
    leaseToken: text('lease_token'),
    leaseUntil: ts('lease_until'),
    deliveredAt: ts('delivered_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // One ticket or event delivery per violation and connector; notifications, many, by their key.
    uniqueIndex('deliveries_event_connector_uq')
      .on(t.eventId, t.connectorId)
      .where(sql`${t.noticeKey} is null`),
    uniqueIndex('deliveries_connector_notice_uq')
      .on(t.connectorId, t.noticeKey)
      .where(sql`${t.noticeKey} is not null`),
    index('deliveries_status_idx').on(t.status, t.createdAt),
    index('deliveries_connector_idx').on(t.connectorId, t.createdAt),
  ],
);

export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: uuid('delivery_id').notNull(),
    /** 1-based, counted across replays of the same delivery. */
    attempt: integer('attempt').notNull(),
    /** `running`, `succeeded`, `failed`, `interrupted` (the worker died mid-attempt). */
    outcome: text('outcome').notNull().default('running'),
    startedAt: ts('started_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
    durationMs: integer('duration_ms'),
    httpStatus: integer('http_status'),
    remoteCode: text('remote_code'),
    message: text('message'),
    retryable: boolean('retryable'),
    /** The request may have had its effect though no answer came (timeout, lost response). */
    outcomeUnknown: boolean('outcome_unknown'),
  },
  (t) => [uniqueIndex('delivery_attempts_delivery_attempt_uq').on(t.deliveryId, t.attempt)],
);

export const auditEntries = pgTable(
  'audit_entries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    /** Who: an API key label, `system`, `itsm:<connector>`, `config`. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>(),
  },
  (t) => [index('audit_at_idx').on(t.at), index('audit_subject_idx').on(t.subjectType, t.subjectId)],
);

/** A ticket's story: transitions (with their source), recurrences, comments, escalations. */
export const ticketEvents = pgTable(
  'ticket_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ticketId: uuid('ticket_id').notNull(),
    /** `transition`, `recurrence`, `comment`, `escalation`. */
    type: text('type').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status'),
    /** `itsm`, `api`, `auto-resolve`, `escalation`, `recurrence`, `auto-close`. */
    source: text('source'),
    eventId: uuid('event_id'),
    actor: text('actor'),
    note: text('note'),
    /** The ITSM's id for what this event mirrors (a Jira comment id): one event per remote item. */
    remoteId: text('remote_id'),
    at: ts('at').notNull().defaultNow(),
  },
  (t) => [
    index('ticket_events_ticket_idx').on(t.ticketId, t.at),
    uniqueIndex('ticket_events_remote_idx').on(t.ticketId, t.remoteId),
  ],
);

export const rules = pgTable(
  'rules',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull().unique(),
    enabled: boolean('enabled').notNull().default(true),
    order: integer('order').notNull().default(0),
    when: jsonb('when').$type<Record<string, unknown>>().notNull(),
    // biome-ignore lint/suspicious/noThenProperty: the rule column is named `then`; a plain value, never a thenable.
    then: jsonb('then').$type<Record<string, unknown>>().notNull(),
    stop: boolean('stop').notNull().default(false),
    origin: text('origin').notNull().default('api'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('rules_order_idx').on(t.order, t.name)],
);

/** Bulk replays: who asked, which filter, and each delivery's outcome. */
export const replays = pgTable('replays', {
  id: uuid('id').primaryKey().defaultRandom(),
  requestedBy: text('requested_by').notNull(),
  filter: jsonb('filter').$type<Record<string, unknown>>().notNull(),
  status: text('status').notNull().default('running'),
  total: integer('total').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  completedAt: ts('completed_at'),
});

export const replayItems = pgTable(
  'replay_items',
  {
    replayId: uuid('replay_id').notNull(),
    deliveryId: uuid('delivery_id').notNull(),
    /** `pending`, `delivered`, `failed`, `skipped`. */
    outcome: text('outcome').notNull().default('pending'),
    error: text('error'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('replay_items_pk').on(t.replayId, t.deliveryId)],
);

/** Webhook deliveries already processed (Jira retries with the same X-Atlassian-Webhook-Identifier). */
export const webhookReceipts = pgTable(
  'webhook_receipts',
  {
    source: text('source').notNull(),
    identifier: text('identifier').notNull(),
    at: ts('at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('webhook_receipts_pk').on(t.source, t.identifier),
    index('webhook_receipts_at_idx').on(t.at),
  ],
);

/**
 * Slack threads (bot token): the first message about a ticket on a connector; later notifications
 * about that ticket reply under it (`thread_ts`).
 */
export const notificationThreads = pgTable(
  'notification_threads',
  {
    connectorId: text('connector_id').notNull(),
    ticketId: uuid('ticket_id').notNull(),
    channel: text('channel').notNull(),
    ts: text('ts').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('notification_threads_pk').on(t.connectorId, t.ticketId)],
);

/**
 * Defaults decided once per database, when a version that has them first starts (see
 * db/repos/install.ts): a new install gets the strict ones, an upgraded one keeps working as before.
 */
export const installSettings = pgTable('install_settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').$type<unknown>().notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});
