/** The API's answers as the console reads them: inferred from the API's own response schemas. */
import type { z } from '@hono/zod-openapi';
import type { AuditEntrySchema } from '../audit.js';
import type { CheckResultSchema } from '../connector-actions.js';
import type { PublicConnectorSchema } from '../connectors.js';
import type { AttemptSchema } from '../deliveries.js';
import type { OverviewSchema } from '../overview.js';
import type { ReplayStatus } from '../replays.js';
import type { DryRunResultSchema, RuleWithWarningsSchema } from '../rules.js';
import type { DeliverySchema, TicketSchema } from '../schemas.js';
import type { TicketDetailSchema } from '../tickets.js';
import type { ViolationSchema } from '../violations.js';
import type { ViolationSummarySchema } from '../violations-list.js';

export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type CheckResult = z.infer<typeof CheckResultSchema>;
export type Connector = z.infer<typeof PublicConnectorSchema>;
export type Attempt = z.infer<typeof AttemptSchema>;
export type Delivery = z.infer<typeof DeliverySchema>;
export type DeliveryDetail = Delivery & { attempt_log: Attempt[] };
export type Overview = z.infer<typeof OverviewSchema>;
export type Replay = z.infer<typeof ReplayStatus>;
export type Rule = z.infer<typeof RuleWithWarningsSchema>;
export type DryRun = z.infer<typeof DryRunResultSchema>;
export type Ticket = z.infer<typeof TicketSchema>;
export type TicketDetail = z.infer<typeof TicketDetailSchema>;
export type Violation = z.infer<typeof ViolationSchema>;
export type ViolationSummary = z.infer<typeof ViolationSummarySchema>;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
