import { proxyActivities } from '@temporalio/workflow';
import type { ConnectorAction, ConnectorActionResult } from '../activities/connector-actions.js';
import type { ConnectorCheckInput, ConnectorCheckResult } from '../activities/connector-checks.js';
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

/**
 * The read-only check of a connector (credentials, permissions, project or table). One attempt,
 * like the test: the admin waits for the verdict of each step.
 */
export async function connectorCheckWorkflow(input: ConnectorCheckInput): Promise<ConnectorCheckResult> {
  const { runConnectorCheck } = proxyActivities<Activities>({
    startToCloseTimeout: '60s',
    retry: { maximumAttempts: 1 },
    summary: `check connector ${input.connectorId}`,
  });
  return runConnectorCheck(input);
}
