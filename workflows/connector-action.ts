import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ConnectorActionInput, ConnectorActionResult } from './contract.js';

/**
 * An admin's one-off call to a connector (test connection, install the index template, preview a
 * ticket request). One attempt: the admin is waiting for the remote's verdict, not for a retry
 * schedule.
 */
export async function connectorActionWorkflow(input: ConnectorActionInput): Promise<ConnectorActionResult> {
  const { runConnectorAction } = proxyActivities<Activities>({
    startToCloseTimeout: '60s',
    retry: { maximumAttempts: 1 },
    summary: `${input.action} connector ${input.connectorId}`,
  });
  return runConnectorAction(input);
}
