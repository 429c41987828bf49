import { type CheckReport, checkConnector } from '../connectors/checks/index.js';
import { audit } from '../db/repos/audit.js';
import { recordConnectorCheck } from '../db/repos/connectors.js';
import type { ActivityDeps } from './deps.js';
import { loadConnector } from './tickets.js';

export interface ConnectorCheckResult extends CheckReport {
  connector_id: string;
}

export interface ConnectorCheckInput {
  connectorId: string;
  requestedBy: string;
}

export function connectorCheckActivities(deps: ActivityDeps) {
  async function run(connectorId: string): Promise<CheckReport> {
    let connector: Awaited<ReturnType<typeof loadConnector>>;
    try {
      connector = await loadConnector(deps, connectorId);
    } catch (err) {
      // Unreadable secrets are the answer to "does this connector work?", not a crash.
      return { ok: false, checks: [{ name: 'configuration', ok: false, message: (err as Error).message }] };
    }
    return checkConnector(connector.kind, connector.config);
  }

  return {
    /** Read-only checks of a connector (credentials, permissions, project/table); records the verdict. */
    async runConnectorCheck(input: ConnectorCheckInput): Promise<ConnectorCheckResult> {
      const report = await run(input.connectorId);
      await recordConnectorCheck(deps.db, input.connectorId, report);
      await audit(deps.db, {
        actor: input.requestedBy,
        action: 'connector.check',
        subjectType: 'connector',
        subjectId: input.connectorId,
        details: { ok: report.ok, failed: report.checks.filter((c) => !c.ok).map((c) => c.name) },
      });
      return { connector_id: input.connectorId, ...report };
    },
  };
}
