import { claimActivities } from './claims.js';
import { connectorActionActivities } from './connector-actions.js';
import { withCancellation } from './context.js';
import type { ActivityDeps } from './deps.js';
import { notificationActivities } from './notifications.js';
import { outcomeActivities } from './outcomes.js';
import { planActivities } from './plan.js';
import { redeliveryActivities } from './redeliver.js';
import { replayActivities } from './replays.js';
import { siemActivities } from './siem.js';
import { ticketSyncActivities } from './ticket-sync.js';
import { ticketActivities } from './tickets.js';

export type { ActivityDeps } from './deps.js';

/**
 * Every activity, bound to its dependencies (DB, secrets, settings, logger); each one's HTTP calls
 * stop when it is cancelled.
 */
export function createActivities(deps: ActivityDeps) {
  return withCancellation({
    ...planActivities(deps),
    ...ticketActivities(deps),
    ...siemActivities(deps),
    ...redeliveryActivities(deps),
    ...replayActivities(deps),
    ...connectorActionActivities(deps),
    ...claimActivities(deps),
    ...ticketSyncActivities(deps),
    ...outcomeActivities(deps),
    ...notificationActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
