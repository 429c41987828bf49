import { claimActivities } from './claims.js';
import { connectorActionActivities } from './connector-actions.js';
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

/** Every activity, bound to its dependencies (DB, secrets, settings, logger). */
export function createActivities(deps: ActivityDeps) {
  return {
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
  };
}

export type Activities = ReturnType<typeof createActivities>;
