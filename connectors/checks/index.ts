/** `checkConnector`: the read-only checks of each connector kind (`POST /v1/connectors/{id}/check`). */
import { type ConfigByKind, type ConnectorKind, connectorTimeoutMs } from '../../domain/connector.js';
import { JIRA_CHECKS } from './jira.js';
import { SLACK_CHECKS, TEAMS_CHECKS } from './notify.js';
import { SERVICENOW_CHECKS } from './servicenow.js';
import { DATADOG_CHECKS, ELASTICSEARCH_CHECKS, SPLUNK_CHECKS, WEBHOOK_CHECKS } from './siem.js';
import { type CheckReport, type CheckStep, runSteps } from './steps.js';

export type { CheckReport, CheckResult } from './steps.js';

const CHECKS: { [K in ConnectorKind]: CheckStep<ConfigByKind[K]>[] } = {
  jira: JIRA_CHECKS,
  servicenow: SERVICENOW_CHECKS,
  splunk: SPLUNK_CHECKS,
  datadog: DATADOG_CHECKS,
  elasticsearch: ELASTICSEARCH_CHECKS,
  webhook: WEBHOOK_CHECKS,
  slack: SLACK_CHECKS,
  teams: TEAMS_CHECKS,
};

export function checkConnector<K extends ConnectorKind>(
  kind: K,
  config: ConfigByKind[K],
): Promise<CheckReport> {
  return runSteps(CHECKS[kind] as CheckStep<ConfigByKind[K]>[], config, connectorTimeoutMs(config));
}
