import { createRoute, z } from '@hono/zod-openapi';
import type { ApiDeps } from './deps.js';
import { apiError } from './errors.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent } from './schemas.js';

const DEFAULT_RANGE_MS = 30 * 24 * 3600 * 1000;
/** The key for violations without a platform_id in `by_platform`. */
export const NO_PLATFORM = '(none)';

const CountMap = z.record(z.string(), z.number().int());

const TimeToResolveSchema = z
  .object({
    /** Tickets with a resolved_at (the sample the mean and median are taken over). */
    count: z.number().int(),
    mean_seconds: z.number().nullable(),
    median_seconds: z.number().nullable(),
  })
  .openapi('TimeToResolve');

const ConnectorTicketsSchema = z
  .object({
    connector_id: z.string(),
    /** Null when the connector has since been deleted. */
    name: z.string().nullable(),
    kind: z.string(),
    tickets: z.number().int(),
    resolved: z.number().int(),
    sla_breaches: z.number().int(),
    time_to_resolve: TimeToResolveSchema,
  })
  .openapi('ReportConnectorTickets');

const ConnectorCountSchema = z
  .object({
    connector_id: z.string(),
    name: z.string().nullable(),
    kind: z.string(),
    count: z.number().int(),
  })
  .openapi('ReportConnectorCount');

export const SummaryReportSchema = z
  .object({
    since: z.string(),
    until: z.string(),
    violations: z.object({
      /** Violations received (received_at) in [since, until). */
      total: z.number().int(),
      by_severity: CountMap,
      by_event_type: CountMap,
      /** Keyed by platform_id; `(none)` for violations without one. */
      by_platform: CountMap,
    }),
    tickets: z.object({
      /** Tickets created (created_at) in [since, until); claims still being created are left out. */
      total: z.number().int(),
      /** Of those, now resolved or closed. */
      resolved: z.number().int(),
      /** resolved / total; null when no ticket was created. */
      resolved_share: z.number().nullable(),
      /** Of those, past their SLA (sla_breached). */
      sla_breaches: z.number().int(),
      /** resolved_at − created_at over the tickets that have a resolved_at. */
      time_to_resolve: TimeToResolveSchema,
      by_connector: z.array(ConnectorTicketsSchema),
    }),
    deliveries: z.object({
      /** Deliveries created in [since, until) whose final status is failed. */
      failed: z.number().int(),
      failed_by_connector: z.array(ConnectorCountSchema),
    }),
  })
  .openapi('SummaryReport');

export type SummaryReport = z.infer<typeof SummaryReportSchema>;

const rangeQuery = z.object({
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'Start (inclusive); default: 30 days before `until`' }),
  until: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'End (exclusive); default: now' }),
});

interface ViolationGroupRow {
  severity: string | null;
  event_type: string | null;
  platform_id: string | null;
  g_severity: number;
  g_event_type: number;
  g_platform: number;
  n: number;
}

interface TicketGroupRow {
  connector_id: string | null;
  kind: string | null;
  name: string | null;
  is_total: boolean;
  total: number;
  resolved: number;
  sla_breaches: number;
  timed: number;
  mean_seconds: number | null;
  median_seconds: number | null;
}

interface FailedRow {
  connector_id: string;
  kind: string;
  name: string | null;
  n: number;
}

const byCountDesc = (a: [string, number], b: [string, number]) => b[1] - a[1] || a[0].localeCompare(b[0]);
const countMap = (entries: [string, number][]) => Object.fromEntries(entries.sort(byCountDesc));

/**
 * Three grouped queries, run together: violations (one scan, grouping sets for the three
 * breakdowns and the total), tickets (per connector plus the total row, with the resolve-time
 * mean and percentile_cont median), failed deliveries per connector.
 */
export async function summaryReport(deps: ApiDeps, since: Date, until: Date): Promise<SummaryReport> {
  const sql = deps.database.sql;
  // drizzle makes this client's serializers pass-through: parameters go as text.
  const [from, to] = [since.toISOString(), until.toISOString()];
  const [violationRows, ticketRows, failedRows] = await Promise.all([
    sql<ViolationGroupRow[]>`
      select severity, event_type, platform_id,
             grouping(severity)::int as g_severity,
             grouping(event_type)::int as g_event_type,
             grouping(platform_id)::int as g_platform,
             count(*)::int as n
        from violations
       where received_at >= ${from} and received_at < ${to}
       group by grouping sets ((severity), (event_type), (platform_id), ())`,
    sql<TicketGroupRow[]>`
      select t.connector_id, t.kind, c.name,
             grouping(t.connector_id) = 1 as is_total,
             count(*)::int as total,
             (count(*) filter (where t.status in ('resolved', 'closed')))::int as resolved,
             (count(*) filter (where t.sla_breached))::int as sla_breaches,
             (count(*) filter (where t.resolved_at is not null))::int as timed,
             (avg(extract(epoch from t.resolved_at - t.created_at))
                filter (where t.resolved_at is not null))::float8 as mean_seconds,
             (percentile_cont(0.5) within group (order by extract(epoch from t.resolved_at - t.created_at))
                filter (where t.resolved_at is not null))::float8 as median_seconds
        from tickets t
        left join connectors c on c.id = t.connector_id
       where t.created_at >= ${from} and t.created_at < ${to} and t.external_id is not null
       group by grouping sets ((t.connector_id, t.kind, c.name), ())`,
    sql<FailedRow[]>`
      select d.connector_id, d.kind, c.name, count(*)::int as n
        from deliveries d
        left join connectors c on c.id = d.connector_id
       where d.status = 'failed' and d.created_at >= ${from} and d.created_at < ${to}
       group by d.connector_id, d.kind, c.name`,
  ]);

  let violationTotal = 0;
  const bySeverity: [string, number][] = [];
  const byEventType: [string, number][] = [];
  const byPlatform: [string, number][] = [];
  for (const r of violationRows) {
    if (r.g_severity === 0) bySeverity.push([r.severity!, r.n]);
    else if (r.g_event_type === 0) byEventType.push([r.event_type!, r.n]);
    else if (r.g_platform === 0) byPlatform.push([r.platform_id ?? NO_PLATFORM, r.n]);
    else violationTotal = r.n;
  }

  const timeToResolve = (r: TicketGroupRow | undefined) => ({
    count: r?.timed ?? 0,
    mean_seconds: r?.mean_seconds ?? null,
    median_seconds: r?.median_seconds ?? null,
  });
  // Without any ticket, the grand-total row of the grouping sets is still there (all zeros).
  const total = ticketRows.find((r) => r.is_total);
  const byConnector = ticketRows
    .filter((r) => !r.is_total)
    .map((r) => ({
      connector_id: r.connector_id!,
      name: r.name,
      kind: r.kind!,
      tickets: r.total,
      resolved: r.resolved,
      sla_breaches: r.sla_breaches,
      time_to_resolve: timeToResolve(r),
    }))
    .sort((a, b) => b.tickets - a.tickets || a.connector_id.localeCompare(b.connector_id));
  const ticketTotal = total?.total ?? 0;
  const resolved = total?.resolved ?? 0;

  const failedByConnector = failedRows
    .map((r) => ({ connector_id: r.connector_id, name: r.name, kind: r.kind, count: r.n }))
    .sort((a, b) => b.count - a.count || a.connector_id.localeCompare(b.connector_id));

  return {
    since: since.toISOString(),
    until: until.toISOString(),
    violations: {
      total: violationTotal,
      by_severity: countMap(bySeverity),
      by_event_type: countMap(byEventType),
      by_platform: countMap(byPlatform),
    },
    tickets: {
      total: ticketTotal,
      resolved,
      resolved_share: ticketTotal ? resolved / ticketTotal : null,
      sla_breaches: total?.sla_breaches ?? 0,
      time_to_resolve: timeToResolve(total),
      by_connector: byConnector,
    },
    deliveries: {
      failed: failedByConnector.reduce((sum, r) => sum + r.count, 0),
      failed_by_connector: failedByConnector,
    },
  };
}

export function reportsRouter(deps: ApiDeps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/reports/summary',
      tags: ['reports'],
      summary: 'Summary over a time range (default: the last 30 days)',
      description:
        'Violations (by received_at) by severity, event type and platform; tickets created in the ' +
        'range by connector, their resolved share (resolved or closed), mean and median time to ' +
        'resolve (resolved_at − created_at, seconds) and SLA breaches; failed deliveries by connector. ' +
        'Admin keys only.',
      request: { query: rangeQuery },
      responses: {
        200: jsonContent(SummaryReportSchema, 'The summary'),
        400: errorResponse('Invalid range (not ISO 8601 with offset, or since ≥ until)'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const until = q.until ? new Date(q.until) : new Date();
      const since = q.since ? new Date(q.since) : new Date(until.getTime() - DEFAULT_RANGE_MS);
      if (since.getTime() >= until.getTime()) {
        return apiError(c, 400, 'validation_failed', 'since must be before until', [
          { path: 'since', message: 'must be before until' },
        ]);
      }
      return c.json(await summaryReport(deps, since, until), 200);
    },
  );

  return router;
}
