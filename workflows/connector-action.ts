import { proxyActivities } from '@temporalio/workflow';
import type { ConnectorAction, ConnectorActionResult } from '../activities/connector-actions.js';
import type { Activities } from '../activities/index.js';

export interface ConnectorActionInput {
  connectorId: string;
  action: ConnectorAction;
  requestedBy: string;
}

/**
 * An admin's one-off call to a connector (test connection, install the index template). One
 * attempt: the admin is waiting for the remote's verdict, not for a retry schedule.
 */
export async function connectorActionWorkflow(input: ConnectorActionInput): Promise<ConnectorActionResult> {
  const { runConnectorAction } = proxyActivities<Activities>({
    startToCloseTimeout: '60s',
    retry: { maximumAttempts: 1 },
    summary: `${input.action} connector ${input.connectorId}`,
  });
  return runConnectorAction(input);
}
