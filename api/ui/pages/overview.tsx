import type { Hono } from 'hono';
import { TICKET_STATUSES } from '../../../domain/ticket-status.js';
import { needed } from '../api-client.js';
import type { Overview } from '../api-types.js';
import { SeverityChart } from '../chart.js';
import { Page } from '../components.js';
import type { UiEnv } from '../env.js';

function Card(props: { label: string; value: number; href?: string; alert?: boolean }) {
  const body = (
    <>
      <div class="value">{String(props.value)}</div>
      <div class="label">{props.label}</div>
    </>
  );
  return (
    <div class={props.alert && props.value > 0 ? 'card alert' : 'card'}>
      {props.href ? <a href={props.href}>{body}</a> : body}
    </div>
  );
}

export function registerOverviewPage(router: Hono<UiEnv>) {
  router.get('/', async (c) => {
    const o = needed(await c.get('api')<Overview>('GET', '/v1/reports/overview?days=14'));
    return c.html(
      <Page title="Overview" ctx={c.get('page')}>
        <div class="cards">
          <Card label={`violations, last ${o.days} days`} value={o.violations.total} href="/ui/violations" />
          <Card
            label="deliveries failed"
            value={o.deliveries.failed}
            href="/ui/deliveries?status=failed"
            alert
          />
          <Card
            label="deliveries pending"
            value={o.deliveries.pending}
            href="/ui/deliveries?status=pending"
          />
          <Card
            label="SLA breached, still open"
            value={o.tickets.sla_breached_active}
            href="/ui/tickets?sla_breached=true"
            alert
          />
          <Card label={`SLA breaches, tickets of the last ${o.days} days`} value={o.tickets.sla_breached} />
        </div>
        <div class="cards">
          {TICKET_STATUSES.map((s) => (
            <Card
              label={`tickets ${s.replace('_', ' ')}`}
              value={o.tickets.by_status[s] ?? 0}
              href={`/ui/tickets?status=${s}`}
            />
          ))}
        </div>
        <h2>Violations per day by severity (UTC)</h2>
        <SeverityChart days={o.daily} />
      </Page>,
    );
  });
}
