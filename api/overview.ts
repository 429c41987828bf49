import { createRoute, z } from '@hono/zod-openapi';
import { SEVERITIES, type Severity } from '../domain/severity.js';
import { TICKET_STATUSES, type TicketStatus } from '../domain/ticket-status.js';
import type { ApiDeps } from './deps.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent } from './schemas.js';

const DAY_MS = 24 * 3600 * 1000;

const BySeverity = z.record(z.enum(SEVERITIES), z.number().int());

export const OverviewSchema = z
  .object({
    since: z.string(),
    until: z.string(),
    days: z.number().int(),
    violations: z.object({
      /** Received in [since, until). */
      total: z.number().int(),
      by_severity: BySeverity,
    }),
    tickets: z.object({
      /** Every ticket now, by its current status (claims still being created are left out). */
      by_status: z.record(z.enum(TICKET_STATUSES), z.number().int()),
      /** Open or in progress, and past their SLA. */
      sla_breached_active: z.number().int(),
      /** Created in [since, until) and breached their SLA since. */
      sla_breached: z.number().int(),
    }),
    /** Deliveries whose current status is failed or pending (all time): what needs attention. */
    deliveries: z.object({ failed: z.number().int(), pending: z.number().int() }),
    /** One entry per UTC day of the range, oldest first, days without violations included. */
    daily: z.array(z.object({ date: z.string(), total: z.number().int(), by_severity: BySeverity })),
  })
  .openapi('Overview');

type Overview = z.infer<typeof OverviewSchema>;

const zeroes = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** The console's front page: counts that need attention and violations per day by severity. */
export async function overview(deps: ApiDeps, days: number, now = new Date()): Promise<Overview> {
  const sql = deps.database.sql;
  const firstDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (days - 1) * DAY_MS;
  const [since, until] = [new Date(firstDay).toISOString(), now.toISOString()];
  const [daily, tickets, breached, deliveries] = await Promise.all([
    sql<{ day: string; severity: Severity; n: number }[]>`
      select to_char(received_at at time zone 'UTC', 'YYYY-MM-DD') as day, severity, count(*)::int as n
        from violations
       where received_at >= ${since} and received_at < ${until}
       group by 1, 2`,
    sql<{ status: TicketStatus; n: number; breached: number }[]>`
      select status, count(*)::int as n,
             (count(*) filter (where sla_breached and status in ('open', 'in_progress')))::int as breached
        from tickets where external_id is not null group by status`,
    sql<{ n: number }[]>`
      select count(*)::int as n from tickets
       where sla_breached and external_id is not null and created_at >= ${since} and created_at < ${until}`,
    sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from deliveries where status in ('failed', 'pending') group by status`,
  ]);

  const perDay = new Map<string, { date: string; total: number; by_severity: Record<Severity, number> }>();
  for (let i = 0; i < days; i++) {
    const date = new Date(firstDay + i * DAY_MS).toISOString().slice(0, 10);
    perDay.set(date, { date, total: 0, by_severity: zeroes(SEVERITIES) });
  }
  const bySeverity = zeroes(SEVERITIES);
  for (const r of daily) {
    const day = perDay.get(r.day);
    if (!day || !(r.severity in bySeverity)) continue;
    day.by_severity[r.severity] += r.n;
    day.total += r.n;
    bySeverity[r.severity] += r.n;
  }
  const byStatus = zeroes(TICKET_STATUSES);
  for (const r of tickets) if (r.status in byStatus) byStatus[r.status] = r.n;
  const deliveryCount = (status: string) => deliveries.find((r) => r.status === status)?.n ?? 0;
  return {
    since,
    until,
    days,
    violations: { total: Object.values(bySeverity).reduce((a, b) => a + b, 0), by_severity: bySeverity },
    tickets: {
      by_status: byStatus,
      sla_breached_active: tickets.reduce((sum, r) => sum + r.breached, 0),
      sla_breached: breached[0]?.n ?? 0,
    },
    deliveries: { failed: deliveryCount('failed'), pending: deliveryCount('pending') },
    daily: [...perDay.values()],
  };
}

export function overviewRouter(deps: ApiDeps) {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: 'get',
      path: '/reports/overview',
      summary: 'What needs attention now, and violations per day by severity over the last days',
      request: {
        query: z.object({
          days: z.coerce
            .number()
            .int()
            .min(1)
            .max(90)
            .default(14)
            .openapi({ description: 'UTC days, today included' }),
        }),
      },
      responses: { 200: jsonContent(OverviewSchema, 'The overview'), 400: errorResponse('Invalid days') },
    }),
    async (c) => c.json(await overview(deps, c.req.valid('query').days), 200),
  );
  return router;
}
