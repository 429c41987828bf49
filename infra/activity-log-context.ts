/**
 * Puts the subject of every activity (event, connector, ticket, delivery, replay) on its log lines,
 * the SDK's own included ("Activity failed"...), read from the activity's input object; and keeps
 * query values of database errors out of what Temporal records.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { databaseErrorMessage } from '../db/errors.js';

const SUBJECT_KEYS = ['eventId', 'event_id', 'connectorId', 'ticketId', 'deliveryId', 'replayId'] as const;

export function subjectOf(args: readonly unknown[]): Record<string, string> {
  const first = args[0];
  if (!first || typeof first !== 'object') return {};
  const input = first as Record<string, unknown>;
  const ids: Record<string, string> = {};
  for (const key of SUBJECT_KEYS) if (typeof input[key] === 'string') ids[key] = input[key];
  return ids;
}

/**
 * A database error leaves an activity without its query's values (drizzle puts the whole payload
 * in the message), since Temporal records the failure in the history and logs it; retryable as
 * before. Any other error is left as it is.
 */
export function scrubActivityError(err: unknown): unknown {
  const message = databaseErrorMessage(err);
  if (message === undefined) return err;
  return Object.assign(new Error(message), { name: 'DatabaseError' });
}

export const activityLogContext: ActivityInterceptorsFactory = () => {
  let subject: Record<string, string> = {};
  return {
    inbound: {
      async execute(input, next) {
        subject = subjectOf(input.args);
        try {
          return await next(input);
        } catch (err) {
          throw scrubActivityError(err);
        }
      },
    },
    outbound: {
      getLogAttributes: (attributes, next) => next({ ...attributes, ...subject }),
    },
  };
};
