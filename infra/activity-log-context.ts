/**
 * Puts the subject of every activity (event, connector, ticket, delivery, replay) on its log lines,
 * the SDK's own included ("Activity failed"...), read from the activity's input object.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

const SUBJECT_KEYS = ['eventId', 'event_id', 'connectorId', 'ticketId', 'deliveryId', 'replayId'] as const;

export function subjectOf(args: readonly unknown[]): Record<string, string> {
  const first = args[0];
  if (!first || typeof first !== 'object') return {};
  const input = first as Record<string, unknown>;
  const ids: Record<string, string> = {};
  for (const key of SUBJECT_KEYS) if (typeof input[key] === 'string') ids[key] = input[key];
  return ids;
}

export const activityLogContext: ActivityInterceptorsFactory = () => {
  let subject: Record<string, string> = {};
  return {
    inbound: {
      execute(input, next) {
        subject = subjectOf(input.args);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes: (attributes, next) => next({ ...attributes, ...subject }),
    },
  };
};
