import {
  addJiraComment,
  jiraPriorityFor,
  setJiraPriority,
  transitionJiraIssue,
} from '../connectors/jira-lifecycle.js';
import {
  addServiceNowWorkNote,
  serviceNowPriorityFields,
  serviceNowStatusPatch,
  updateServiceNowIncident,
} from '../connectors/servicenow.js';
import { getConnectorRow, toConnector } from '../db/repos/connectors.js';
import {
  addTicketEvent,
  getTicket,
  recordEscalation,
  recordPostedComment,
  recordTransition,
  type TicketRow,
  type Transition,
} from '../db/repos/tickets.js';
import {
  type Connector,
  connectorTimeoutMs,
  type JiraConfig,
  retryPolicyFor,
  type ServiceNowConfig,
} from '../domain/connector.js';
import { tryParseDuration } from '../domain/duration.js';
import type { RetrySpec } from '../domain/retry.js';
import type { Settings } from '../domain/settings.js';
import type { Severity } from '../domain/severity.js';
import type { TicketStatus } from '../domain/ticket-status.js';
import { slaBreaches } from '../infra/metrics.js';
import type { TicketSyncInit } from '../workflows/contract.js';
import type { ActivityDeps } from './deps.js';
import { connectorUnavailable, toTemporalFailure } from './failures.js';

/** What a ticket's workflow follows it with: the row, its connector's policy, the settings. */
export function ticketSyncInit(
  t: TicketRow,
  c: { name: string; retry: RetrySpec | null; config: Parameters<typeof connectorTimeoutMs>[0] } | undefined,
  settings: Settings,
): TicketSyncInit {
  return {
    status: t.status as TicketStatus,
    created: t.externalId !== null,
    externalId: t.externalId,
    connectorId: t.connectorId,
    connectorName: c?.name ?? t.connectorId,
    kind: t.kind,
    priority: t.priority as Severity,
    recurrenceCount: t.recurrenceCount,
    slaBreached: t.slaBreached,
    slaDueAt: t.slaDueAt?.getTime(),
    autoResolveAfterMs: t.autoResolveAfterMs ?? undefined,
    lastActivityAt: (t.lastRecurrenceAt ?? t.createdAt).getTime(),
    resolvedAt: t.resolvedAt?.getTime(),
    autoCloseAfterMs:
      settings.auto_close_after !== undefined ? tryParseDuration(settings.auto_close_after) : undefined,
    recurrenceWindowMs: tryParseDuration(settings.notifications.recurrence_window),
    retry: retryPolicyFor(t.kind as Connector['kind'], c?.retry, settings.retry[t.kind as Connector['kind']]),
    timeoutMs: c ? connectorTimeoutMs(c.config) : 30_000,
  };
}

export function ticketSyncActivities(deps: ActivityDeps) {
  const { db } = deps;

  async function loadTicket(ticketId: string) {
    const t = await getTicket(db, ticketId);
    if (!t) throw connectorUnavailable(`ticket ${ticketId} does not exist`);
    return t;
  }

  async function ticketConnector(connectorId: string): Promise<Connector> {
    const row = await getConnectorRow(db, connectorId);
    if (!row) throw connectorUnavailable(`connector ${connectorId} no longer exists`);
    return toConnector(row, deps.box);
  }

  /** Runs a call to the ITSM, translating its errors into retry decisions. */
  async function remote<T>(connector: Connector, call: (timeoutMs: number) => Promise<T>): Promise<T> {
    const policy = retryPolicyFor(connector.kind, connector.retry, deps.settings.retry[connector.kind]);
    try {
      return await call(connectorTimeoutMs(connector.config));
    } catch (err) {
      throw toTemporalFailure(err, policy.maximumIntervalMs);
    }
  }

  const requireExternal = (
    t: { externalId: string | null; sysId: string | null; id: string },
    kind: string,
  ) => {
    const ref = kind === 'servicenow' ? t.sysId : t.externalId;
    if (!ref) throw connectorUnavailable(`ticket ${t.id} has no remote reference yet`);
    return ref;
  };

  return {
    async loadTicketForSync(input: { ticketId: string }): Promise<TicketSyncInit | null> {
      const t = await getTicket(db, input.ticketId);
      if (!t) return null;
      // Only plain fields (retry, timeout): the ticket's workflow starts even if the secrets cannot be read.
      const connector = await getConnectorRow(db, t.connectorId);
      const plain = connector && { ...connector, retry: connector.retry as RetrySpec | null };
      return ticketSyncInit(t, plain, deps.settings);
    },

    /** Mirrors a status change to PostgreSQL (ticket row, its story, the audit trail). */
    recordTransition(input: Transition): Promise<void> {
      return recordTransition(db, input);
    },

    /** Pushes a change made on our side to the ITSM (Jira transition / ServiceNow state). */
    async pushStatus(input: { ticketId: string; to: TicketStatus; note?: string }): Promise<string> {
      const t = await loadTicket(input.ticketId);
      const c = await ticketConnector(t.connectorId);
      const ref = requireExternal(t, c.kind);
      if (c.kind === 'jira') {
        const r = await remote(c, (timeoutMs) =>
          transitionJiraIssue(c.config as JiraConfig, ref, input.to, { timeoutMs }),
        );
        return r.changed
          ? `Jira ${ref} moved via "${r.transition?.name}"`
          : `Jira ${ref} already ${r.from.name}`;
      }
      const config = c.config as ServiceNowConfig;
      await remote(c, (timeoutMs) =>
        updateServiceNowIncident(
          config,
          ref,
          serviceNowStatusPatch(config, input.to, input.note ?? `escalate: ${input.to}`),
          timeoutMs,
        ),
      );
      return `ServiceNow ${t.externalId} set to ${input.to}`;
    },

    /** Jira comment (ADF on Cloud) or ServiceNow work note; recorded in the ticket's story. */
    async postComment(input: { ticketId: string; text: string; actor: string }): Promise<void> {
      const t = await loadTicket(input.ticketId);
      const c = await ticketConnector(t.connectorId);
      const ref = requireExternal(t, c.kind);
      if (c.kind === 'jira') {
        const posted = await remote(c, (ms) => addJiraComment(c.config as JiraConfig, ref, input.text, ms));
        // Keyed by Jira's comment id: its comment_created webhook will find the line already there.
        const remoteId = posted.id ? `jira-comment:${posted.id}` : undefined;
        await recordPostedComment(db, input.ticketId, { remoteId, actor: input.actor, note: input.text });
        return;
      }
      await remote(c, (ms) => addServiceNowWorkNote(c.config as ServiceNowConfig, ref, input.text, ms));
      await addTicketEvent(db, input.ticketId, { type: 'comment', actor: input.actor, note: input.text });
    },

    /** SLA passed while open: mark the breach and raise the priority one step (in PostgreSQL). */
    async recordEscalation(input: { ticketId: string }): Promise<{ priority: Severity; previous: Severity }> {
      const raised = await recordEscalation(db, input.ticketId);
      if (!raised) throw connectorUnavailable(`ticket ${input.ticketId} does not exist`);
      if (raised.newlyBreached) slaBreaches.inc({ connector_id: raised.connectorId, kind: raised.kind });
      return { priority: raised.priority, previous: raised.previous };
    },

    /** Raises the priority in the ITSM (Jira priority / ServiceNow urgency+impact, priority, severity). */
    async pushPriority(input: { ticketId: string; priority: Severity }): Promise<void> {
      const t = await loadTicket(input.ticketId);
      const c = await ticketConnector(t.connectorId);
      const ref = requireExternal(t, c.kind);
      if (c.kind === 'jira') {
        const p = jiraPriorityFor(c.config as JiraConfig, input.priority);
        if (p) await remote(c, (ms) => setJiraPriority(c.config as JiraConfig, ref, p, ms));
        return;
      }
      const config = c.config as ServiceNowConfig;
      await remote(c, (ms) =>
        updateServiceNowIncident(config, ref, serviceNowPriorityFields(config, input.priority), ms),
      );
    },

    /** A push that failed for good is part of the ticket's story, not a crash of its workflow. */
    async recordSyncError(input: { ticketId: string; what: string; error: string }): Promise<void> {
      await addTicketEvent(db, input.ticketId, {
        type: 'sync_error',
        actor: 'system',
        note: `${input.what}: ${input.error}`,
      });
    },
  };
}
