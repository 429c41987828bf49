import { listConnectorRows, toPlanningConnector } from '../db/repos/connectors.js';
import { recordDeliveryFailed } from '../db/repos/deliveries.js';
import { type PlannedDelivery, recordPlan } from '../db/repos/plans.js';
import { listRules } from '../db/repos/rules.js';
import { type ConnectorKind, connectorTimeoutMs, retryPolicyFor } from '../domain/connector.js';
import { type DurationInput, parseDuration } from '../domain/duration.js';
import type { CompactEvent } from '../domain/event.js';
import type { NoticeType } from '../domain/notification.js';
import type { Plan, Target, TargetOutcome } from '../domain/plan.js';
import { planEvent } from '../domain/planning.js';
import type { RetrySpec } from '../domain/retry.js';
import type { Settings } from '../domain/settings.js';
import type { Severity } from '../domain/severity.js';
import { countDelivery } from '../infra/metrics.js';
import { claimFor } from './claims.js';
import type { ActivityDeps } from './deps.js';

/** What carrying out a delivery needs of its connector: the plain (non-secret) part of a row. */
export interface TargetConnector {
  id: string;
  name: string;
  kind: ConnectorKind;
  config: { timeout?: DurationInput; project_key?: string; table?: string };
  retry: RetrySpec | null;
}

/** How the workflow should carry out one delivery to one connector. */
export function toTarget(
  c: TargetConnector,
  delivery: { id: string; purpose: string; notice?: unknown; attempts?: number },
  settings: Settings,
  priority?: Severity,
): Target {
  return {
    deliveryId: delivery.id,
    connectorId: c.id,
    connectorName: c.name,
    kind: c.kind,
    purpose: delivery.purpose as Target['purpose'],
    ...(delivery.notice ? { notice: (delivery.notice as { type: NoticeType }).type } : {}),
    retry: retryPolicyFor(c.kind, c.retry, settings.retry[c.kind]),
    timeoutMs: connectorTimeoutMs(c.config),
    lookupSettleMs:
      c.kind === 'jira' && delivery.purpose === 'ticket'
        ? parseDuration(settings.jira.lookup_settle_delay)
        : undefined,
    priority,
    container: c.config.project_key ?? c.config.table,
    attemptsBefore: delivery.attempts,
  };
}

/** Loads connectors, rules and settings, decides the targets and opens a pending delivery for each. */
export function planActivities(deps: ActivityDeps) {
  return {
    async planViolation(event: CompactEvent, acceptedBy = 'api'): Promise<Plan> {
      const [rows, rules] = await Promise.all([listConnectorRows(deps.db), listRules(deps.db)]);
      const byId = new Map(
        rows.map((r): [string, TargetConnector] => [
          r.id,
          { ...r, kind: r.kind as ConnectorKind, retry: r.retry as RetrySpec | null },
        ]),
      );
      // Planning needs no secrets; a connector whose secrets cannot be decrypted is skipped, visibly.
      const planning = rows.map((r) => toPlanningConnector(r, deps.box));
      const plan = planEvent(event, planning, rules, deps.settings);
      // A ticket delivery keeps the ticket decided here: replays and pushes create that ticket.
      const planned: PlannedDelivery[] = [
        ...plan.tickets.map((t) => ({
          connectorId: t.connectorId,
          purpose: 'ticket' as const,
          ticketSpec: t.spec,
          priority: t.priority,
        })),
        ...plan.siem.map((id) => ({ connectorId: id, purpose: 'event' as const })),
        ...plan.unavailable.map((u) => ({
          connectorId: u.connectorId,
          purpose: u.purpose,
          ticketSpec: u.ticket?.spec,
          priority: u.ticket?.priority,
        })),
      ].map((d) => ({ ...d, kind: byId.get(d.connectorId)!.kind }));
      const opened = await recordPlan(deps.db, {
        event,
        acceptedBy,
        decisions: plan.decisions,
        matchedRules: plan.explanations.filter((e) => e.status === 'matched').map((e) => e.ruleName),
        deliveries: planned,
      });
      const delivery = (connectorId: string) =>
        opened[planned.findIndex((d) => d.connectorId === connectorId)]!;
      const targets: Target[] = [
        ...(await Promise.all(
          plan.tickets.map(async (t) => {
            const c = byId.get(t.connectorId)!;
            const target = toTarget(c, delivery(t.connectorId), deps.settings, t.priority);
            // Opens the ticket or joins the active one now: no claim step of its own in the run.
            const claim = await claimFor(deps, {
              deliveryId: target.deliveryId,
              connectorId: c.id,
              eventId: event.event_id,
              severity: event.severity,
              priority: t.priority ?? event.severity,
              spec: t.spec,
              kind: c.kind,
            });
            return { ...target, ticket: t.spec, claim };
          }),
        )),
        ...plan.siem.map((id) => toTarget(byId.get(id)!, delivery(id), deps.settings)),
      ];
      // Chosen, but its connector cannot be used: a failed delivery saying why (replay it once repaired).
      const unavailable: TargetOutcome[] = [];
      for (const u of plan.unavailable) {
        const { id: deliveryId, status, kind } = delivery(u.connectorId);
        const error = `not attempted: ${u.reason}`;
        // Counted once (a retried plan finds it failed already): the "failed for good" alert sees it.
        if (status !== 'failed') countDelivery(u.connectorId, kind, 'failed');
        await recordDeliveryFailed(deps.db, {
          deliveryId,
          eventId: event.event_id,
          connectorId: u.connectorId,
          error,
        });
        unavailable.push({ deliveryId, connectorId: u.connectorId, purpose: u.purpose, ok: false, error });
      }
      const notifyOn = [...new Set(plan.listeners.flatMap((l) => l.notifyOn))];
      return { targets, decisions: plan.decisions, notifyOn, unavailable };
    },
  };
}
