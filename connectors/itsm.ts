/** The ITSM connectors behind one door: create a ticket, or show the request that would. */
import type { Connector, JiraConfig, ServiceNowConfig } from '../domain/connector.js';
import type { TicketDraft, TicketRef } from '../domain/ticket.js';
import { type HttpRequest, maskRequest } from './http.js';
import { createJiraIssue, previewJiraCreate } from './jira.js';
import { createServiceNowIncident, previewServiceNowCreate } from './servicenow.js';

export type ItsmConnector = Connector & { kind: 'jira' | 'servicenow' };

export function createTicket(
  connector: ItsmConnector,
  draft: TicketDraft,
  opts: { timeoutMs: number; lookupFirst: boolean },
): Promise<TicketRef> {
  return connector.kind === 'jira'
    ? createJiraIssue(connector.config as JiraConfig, draft, opts)
    : createServiceNowIncident(connector.config as ServiceNowConfig, draft, opts);
}

/**
 * The create request exactly as it would be sent, secrets masked. Jira custom fields are shaped
 * by the project's create metadata, which this reads (a GET; nothing is written).
 */
export async function previewTicketRequest(
  connector: ItsmConnector,
  draft: TicketDraft,
  opts: { timeoutMs: number },
): Promise<HttpRequest> {
  return maskRequest(
    connector.kind === 'jira'
      ? await previewJiraCreate(connector.config as JiraConfig, draft, opts.timeoutMs)
      : previewServiceNowCreate(connector.config as ServiceNowConfig, draft),
  );
}
