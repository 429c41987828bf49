// biome-ignore-all lint/suspicious/noThenProperty: SPEC §5 names the rule field `then`; plain data, never a thenable.
import type { Hono } from 'hono';
import { stringify as stringifyYaml } from 'yaml';
import { describeApiError, needed } from '../api-client.js';
import type { DryRun, Rule } from '../api-types.js';
import { Action, Badge, Csrf, Fields, Page, Table, Yes } from '../components.js';
import { yamlValue } from '../config-form.js';
import { done, field, type UiDeps, type UiEnv } from '../env.js';

const NEW_RULE = `name: blocked and risky → security team
order: 10
enabled: true
when:
  policy_actions: [block]
  min_risk_score: 0.8
then:
  targets: [jira-sec]
  priority: high
  labels: [blocked]
stop: false
`;

const EXAMPLE_EVENT = `event_id: 6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f
event_type: policy_violation
summary: max-tokens exceeded
severity: critical
user_email: alice@example.com
policy: { id: pol-max-tokens, name: Max tokens, action: block }
`;

/** What a rule's YAML shows: the fields the API takes, in the order people read them. */
const editable = (r: Rule) =>
  stringifyYaml({
    name: r.name,
    order: r.order,
    enabled: r.enabled,
    when: r.when,
    then: r.then,
    stop: r.stop,
  });

const whenSummary = (when: Record<string, unknown>) =>
  Object.entries(when)
    .map(
      ([k, v]) =>
        `${k} ${Array.isArray(v) ? v.join('|') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
    )
    .join(', ') || 'every event';

function RuleForm(props: { action: string; csrf: string; yaml: string }) {
  return (
    <form class="stack" method="post" action={props.action}>
      <Csrf token={props.csrf} />
      <label>
        Rule (YAML)
        <textarea name="yaml" rows={16}>
          {props.yaml}
        </textarea>
        <span class="hint">
          when: event_types, min_severity, min_risk_score, policy_actions, classifications, platform_ids,
          tags. then: targets, priority, assignee, assignment_group, project_key, issue_type, labels,
          auto_resolve_after, sla, correlate_by, reopen_within.
        </span>
      </label>
      <div>
        <button type="submit">Save</button>
      </div>
    </form>
  );
}

export function registerRulePages(router: Hono<UiEnv>, deps: UiDeps) {
  router.get('/rules', async (c) => {
    const page = needed(await c.get('api')<{ items: Rule[] }>('GET', '/v1/rules?limit=500'));
    return c.html(
      <Page title="Rules" ctx={c.get('page')}>
        <div class="actions">
          <a class="button" href="/ui/rules/new">
            New rule
          </a>
          <a class="button secondary" href="/ui/rules/dry-run">
            Dry-run an event
          </a>
        </div>
        <Table
          head={['order', 'name', 'enabled', 'when', 'targets', 'priority', 'stop', 'declared by']}
          empty="no rules: critical events go to the auto_push connectors"
          rows={page.items.map((r) => [
            String(r.order),
            <a href={`/ui/rules/${encodeURIComponent(r.id)}`}>{r.name}</a>,
            <Yes value={r.enabled} />,
            whenSummary(r.when),
            Array.isArray(r.then.targets) ? r.then.targets.join(', ') : '-',
            (r.then.priority as string | undefined) ?? null,
            r.stop ? 'stop' : null,
            r.origin === 'config' ? 'ESCALATE_CONFIG' : 'API',
          ])}
        />
      </Page>,
    );
  });

  router.get('/rules/new', (c) =>
    c.html(
      <Page title="New rule" ctx={c.get('page')}>
        <RuleForm action="/ui/rules/new" csrf={c.get('page').csrf} yaml={NEW_RULE} />
      </Page>,
    ),
  );

  router.post('/rules/new', async (c) => {
    const yaml = field(c.get('form'), 'yaml') ?? '';
    const errors: string[] = [];
    const rule = yamlValue(yaml, 'rule', errors);
    const answer = errors.length ? undefined : await c.get('api')<Rule>('POST', '/v1/rules', rule);
    if (answer?.ok) {
      const warn = answer.data.warnings?.length ? ` Warnings: ${answer.data.warnings.join('; ')}` : '';
      return done(c, deps, `/ui/rules/${encodeURIComponent(answer.data.id)}`, 'ok', `Created.${warn}`);
    }
    const page = {
      ...c.get('page'),
      flash: { kind: 'error' as const, text: answer ? describeApiError(answer.error) : errors.join('\n') },
    };
    return c.html(
      <Page title="New rule" ctx={page}>
        <RuleForm action="/ui/rules/new" csrf={page.csrf} yaml={yaml} />
      </Page>,
      400,
    );
  });

  router.get('/rules/dry-run', (c) =>
    c.html(
      <Page title="Dry-run an event" ctx={c.get('page')}>
        <DryRunForm csrf={c.get('page').csrf} event={EXAMPLE_EVENT} />
      </Page>,
    ),
  );

  router.post('/rules/dry-run', async (c) => {
    const text = field(c.get('form'), 'event') ?? '';
    const errors: string[] = [];
    const event = yamlValue(text, 'event', errors);
    const answer = errors.length
      ? undefined
      : await c.get('api')<DryRun>('POST', '/v1/rules/dry-run', { event });
    const page = answer?.ok
      ? c.get('page')
      : {
          ...c.get('page'),
          flash: {
            kind: 'error' as const,
            text: answer ? describeApiError(answer.error) : errors.join('\n'),
          },
        };
    return c.html(
      <Page title="Dry-run an event" ctx={page}>
        <DryRunForm csrf={page.csrf} event={text} />
        {answer?.ok ? <DryRunResult result={answer.data} /> : null}
      </Page>,
      answer?.ok ? 200 : 400,
    );
  });

  router.get('/rules/:id', async (c) => {
    const r = needed(await c.get('api')<Rule>('GET', `/v1/rules/${encodeURIComponent(c.req.param('id'))}`));
    const base = `/ui/rules/${encodeURIComponent(r.id)}`;
    return c.html(
      <Page title={`Rule ${r.name}`} ctx={c.get('page')}>
        <Fields
          rows={[
            ['id', <code>{r.id}</code>],
            [
              'declared by',
              r.origin === 'config' ? 'ESCALATE_CONFIG (the next start restores it)' : 'the API',
            ],
          ]}
        />
        {r.warnings?.length ? <div class="flash error">{r.warnings.join('\n')}</div> : null}
        <RuleForm action={base} csrf={c.get('page').csrf} yaml={editable(r)} />
        <div class="actions">
          <Action
            action={`${base}/delete`}
            csrf={c.get('page').csrf}
            label="Delete this rule"
            kind="danger"
          />
        </div>
      </Page>,
    );
  });

  router.post('/rules/:id', async (c) => {
    const id = c.req.param('id');
    const yaml = field(c.get('form'), 'yaml') ?? '';
    const errors: string[] = [];
    const patch = yamlValue(yaml, 'rule', errors);
    const answer = errors.length
      ? undefined
      : await c.get('api')<Rule>('PATCH', `/v1/rules/${encodeURIComponent(id)}`, patch);
    const base = `/ui/rules/${encodeURIComponent(id)}`;
    if (answer?.ok) return done(c, deps, base, 'ok', 'Saved. Running workflows keep the rules they loaded.');
    const page = {
      ...c.get('page'),
      flash: { kind: 'error' as const, text: answer ? describeApiError(answer.error) : errors.join('\n') },
    };
    return c.html(
      <Page title="Edit rule" ctx={page}>
        <RuleForm action={base} csrf={page.csrf} yaml={yaml} />
      </Page>,
      400,
    );
  });

  router.post('/rules/:id/delete', async (c) => {
    const id = c.req.param('id');
    const answer = await c.get('api')('DELETE', `/v1/rules/${encodeURIComponent(id)}`);
    if (!answer.ok)
      return done(c, deps, `/ui/rules/${encodeURIComponent(id)}`, 'error', describeApiError(answer.error));
    return done(c, deps, '/ui/rules', 'ok', `Deleted rule ${id}.`);
  });
}

function DryRunForm(props: { csrf: string; event: string }) {
  return (
    <form class="stack" method="post" action="/ui/rules/dry-run">
      <Csrf token={props.csrf} />
      <label>
        Event (YAML or JSON)
        <textarea name="event" rows={9}>
          {props.event}
        </textarea>
        <span class="hint">
          Evaluated against the stored rules and connectors; nothing is sent or stored.
        </span>
      </label>
      <div>
        <button type="submit">Dry run</button>
      </div>
    </form>
  );
}

function DryRunResult(props: { result: DryRun }) {
  const r = props.result;
  return (
    <>
      <h2>Rules</h2>
      <Fields rows={[['severity', <Badge value={r.severity} />]]} />
      <Table
        head={['#', 'rule', 'status', 'conditions', 'targets', 'summary']}
        empty="no rules"
        rows={r.explanations.map((e) => [
          String(e.order),
          e.rule_name,
          <Badge value={e.status} kind={e.status === 'matched' ? 'ok' : 'plain'} />,
          <ul>
            {e.conditions.map((x) => (
              <li>{`${x.matched ? '✓' : '✗'} ${x.detail}`}</li>
            ))}
          </ul>,
          <ul>
            {e.targets.map((t) => (
              <li>{`${t.connector_id}: ${t.outcome} (${t.detail})`}</li>
            ))}
          </ul>,
          e.summary,
        ])}
      />
      {r.default_routing.applied ? (
        <p>{`No rule matched: default routing to the auto_push connectors from severity ${r.default_routing.min_severity}.`}</p>
      ) : null}
      <h2>Decisions</h2>
      <Table
        head={['connector', 'action', 'reason']}
        empty="no ITSM connector"
        rows={r.decisions.map((d) => [`${d.connector_name} (${d.connector_id})`, d.action, d.reason])}
      />
      <h2>Tickets that would be opened</h2>
      <Table
        head={['connector', 'by', 'priority']}
        empty="none"
        rows={r.tickets.map((t) => [
          t.connector_name,
          t.source === 'default' ? 'default routing' : `rule ${t.rule_name}`,
          t.priority,
        ])}
      />
      <p>{`SIEM deliveries: ${r.siem.length ? r.siem.join(', ') : 'none'}`}</p>
    </>
  );
}
