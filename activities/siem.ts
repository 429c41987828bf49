import { deliverToSiem } from '../connectors/siem.js';
import { beginAttempt } from '../db/repos/attempts.js';
import { recordEventDelivered } from '../db/repos/deliveries.js';
import { isSiemKind, type SiemKind } from '../domain/connector.js';
import type { ViolationEvent } from '../domain/event.js';
import type { LocalFirstAttempt } from '../domain/plan.js';
import type { Severity } from '../domain/severity.js';
import { recordedAttempt } from './attempts.js';
import type { ActivityDeps } from './deps.js';
import { connectorUnavailable, firstAttemptCut } from './failures.js';
import { loadAttemptSubject } from './tickets.js';

export interface DeliverEventInput extends LocalFirstAttempt {
  deliveryId: string;
  connectorId: string;
  eventId: string;
  maxRetryDelayMs: number;
}

export function siemActivities(deps: ActivityDeps) {
  return {
    /** Sends the stored violation to one SIEM connector; every attempt is recorded. */
    async deliverToSiem(input: DeliverEventInput): Promise<{ status: number; message: string }> {
      const { connector, violation } = await loadAttemptSubject(deps, input.connectorId, input.eventId);
      if (!isSiemKind(connector.kind))
        throw connectorUnavailable(`connector ${connector.id} is not a SIEM connector`);
      const event = violation.payload as ViolationEvent;
      const begun = await beginAttempt(deps.db, input.deliveryId, {
        firstAttemptAfter: input.firstAttemptAfter,
      });
      if (begun === 'delivered') return { status: 0, message: 'delivered already by an earlier attempt' };
      if (begun === 'cut') throw firstAttemptCut(input.deliveryId);
      const result = await recordedAttempt(
        deps,
        input.deliveryId,
        input.maxRetryDelayMs,
        async () => {
          const r = await deliverToSiem(connector.kind as SiemKind, connector.config as never, event, {
            connectorId: connector.id,
            severity: violation.severity as Severity,
            receivedAt: violation.receivedAt,
          });
          return { value: r, httpStatus: r.status, remoteCode: r.remoteCode, message: r.message };
        },
        {
          begun,
          retriedIfFailed: input.retriedIfFailed,
          recordSuccess: (r, finished) =>
            recordEventDelivered(deps.db, {
              deliveryId: input.deliveryId,
              eventId: input.eventId,
              connectorId: connector.id,
              message: r.message,
              finished,
            }),
        },
      );
      return { status: result.status, message: result.message };
    },
  };
}
