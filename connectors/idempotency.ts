import { createHash } from 'node:crypto';

/**
 * The key a ticket carries (Jira label, ServiceNow correlation_id) so that a retried create can
 * find the ticket an earlier, lost response created. Stable per connector and violation.
 */
export function ticketIdempotencyKey(connectorId: string, eventId: string): string {
  return `escalate-${createHash('sha256').update(`${connectorId}:${eventId}`).digest('hex').slice(0, 20)}`;
}
