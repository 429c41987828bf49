import type { Context, Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { stringify as stringifyYaml } from 'yaml';
import { canonicalJson } from '../../../domain/canonical-json.js';
import {
  CONNECTOR_KINDS,
  type ConnectorKind,
  isItsmKind,
  NOTIFY_ON_DEFAULTS,
} from '../../../domain/connector.js';
import { NOTICE_TYPES, WEBHOOK_NOTICE_TYPES } from '../../../domain/notification.js';
import { describeApiError, needed } from '../api-client.js';
import type { CheckResult, Connector } from '../api-types.js';
import { Action, Csrf, Fields, Page, Table, Time, Yes } from '../components.js';
import {
  configFields,
  configFromForm,
  type FormField,
  removeFieldName,
  shownValue,
  withEverySecret,
  yamlValue,
} from '../config-form.js';
import {
  SecretsState,
  testLabel,
  UNREADABLE_FORM_NOTE,
  UnreadableSecretsNotice,
} from '../connector-secrets.js';
import { done, field, type UiDeps, type UiEnv } from '../env.js';

type CheckStep = CheckResult['checks'][number];

const MASK = '********';
const isKind = (k: string | undefined): k is ConnectorKind =>
  (CONNECTOR_KINDS as readonly string[]).includes(k ?? '');

const Health = (props: { ok: boolean | null; at: string | null; text?: string | null }) =>
  props.at ? (
    <>
      <Yes value={props.ok} yes="passed" no="failed" /> <Time iso={props.at} />
      {props.text ? <div class="muted wrap">{props.text}</div> : null}
    </>
  ) : (
    <span class="muted">never</span>
  );

function ConfigInput(props: {
  field: FormField;
  /** What the input shows: the stored value, or the text just submitted (after a refusal). */
  text: string;
  /** A secret with a value stored (the API masks it). */
  stored: boolean;
  /** Editing a connector whose stored secrets cannot be decrypted. */
  unreadable?: boolean;
  /** The "remove" box as just submitted (after a refusal). */
  removeTicked?: boolean;
}) {
  const { field: f } = props;
  const name = `config.${f.name}`;
  const label = `${f.name}${f.required ? '' : ' (optional)'}`;
  if (f.kind === 'secret') {
    const { stored } = props;
    return (
      <div class="secret">
        <label>
          {label}
          <input
            type="password"
            name={name}
            autocomplete="new-password"
            placeholder={
              stored
                ? 'stored: leave empty to keep'
                : props.unreadable
                  ? 'cannot be decrypted: empty removes it'
                  : ''
            }
            required={f.required && !stored}
          />
          <span class="hint">write-only: never shown again</span>
        </label>
        {stored ? (
          <label class="remove">
            <input type="checkbox" name={removeFieldName(f.name)} value="true" checked={props.removeTicked} />
            {`remove the stored ${f.name}`}
          </label>
        ) : null}
      </div>
    );
  }
  const value = props.text;
  if (f.kind === 'select')
    return (
      <label>
        {label}
        <select name={name}>
          {f.required ? null : <option value="">{f.placeholder ? `default (${f.placeholder})` : '-'}</option>}
          {(f.options ?? []).map((o) => (
            <option value={o} selected={value === o}>
              {o}
            </option>
          ))}
        </select>
      </label>
    );
  if (f.kind === 'template' || f.kind === 'yaml')
    return (
      <label>
        {label}
        <textarea name={name} rows={f.kind === 'yaml' ? 4 : 3}>
          {value}
        </textarea>
        <span class="hint">{f.kind === 'yaml' ? 'YAML' : 'template: {{path | filter}}'}</span>
      </label>
    );
  return (
    <label>
      {label}
      <input type="text" name={name} value={value} placeholder={f.placeholder ?? ''} required={f.required} />
    </label>
  );
}

function ConnectorForm(props: {
  kind: ConnectorKind;
  csrf: string;
  action: string;
  connector?: Connector;
  /** What was just submitted (shown again after a refusal; secrets never). */
  submitted?: (name: string) => string | undefined;
}) {
  const c = props.connector;
  const editing = c !== undefined;
  const submitted = props.submitted;
  const unreadable = c?.status.secrets === 'undecryptable';
  const input = (f: FormField) => (
    <ConfigInput
      field={f}
      text={submitted ? (submitted(`config.${f.name}`) ?? '') : shownValue(f, c?.config[f.name])}
      stored={c?.config[f.name] === MASK}
      unreadable={unreadable}
      removeTicked={submitted?.(removeFieldName(f.name)) === 'true'}
    />
  );
  const all = configFields(props.kind);
  const plain = all.filter((f) => f.kind !== 'yaml' && f.kind !== 'template');
  const more = all.filter((f) => f.kind === 'yaml' || f.kind === 'template');
  return (
    <form class="stack" method="post" action={props.action}>
      <Csrf token={props.csrf} />
      {editing ? null : (
        <label>
          id (optional)
          <input
            type="text"
            name="id"
            value={submitted?.('id') ?? ''}
            placeholder="e.g. jira-sec (a UUID if empty)"
          />
        </label>
      )}
      <label>
        name
        <input type="text" name="name" value={submitted?.('name') ?? c?.name ?? ''} required />
      </label>
      <label>
        <span>
          <input
            type="checkbox"
            name="enabled"
            value="true"
            checked={submitted ? submitted('enabled') === 'true' : (c?.enabled ?? true)}
          />{' '}
          enabled
        </span>
      </label>
      {isItsmKind(props.kind) ? (
        <label>
          <span>
            <input
              type="checkbox"
              name="auto_push"
              value="true"
              checked={submitted ? submitted('auto_push') === 'true' : (c?.auto_push ?? true)}
            />{' '}
            auto push (a default ITSM when no rule matches)
          </span>
        </label>
      ) : null}
      {NOTIFY_ON_DEFAULTS[props.kind] ? (
        <label>
          notify on
          <input
            type="text"
            name="notify_on"
            value={submitted?.('notify_on') ?? c?.notify_on?.join(', ') ?? ''}
            placeholder={NOTIFY_ON_DEFAULTS[props.kind]!.join(', ')}
          />
          <span class="hint">
            {`comma-separated, of ${(props.kind === 'webhook' ? WEBHOOK_NOTICE_TYPES : NOTICE_TYPES).join(', ')}; empty: the default`}
          </span>
        </label>
      ) : null}
      <h2>{`${props.kind} configuration`}</h2>
      {unreadable ? (
        <div class="callout bad">
          <strong>{UNREADABLE_FORM_NOTE}</strong>
          <span class="wrap">{c.status.secrets_error}</span>
          <span>A save that changes no configuration field leaves the unreadable secrets as they are.</span>
        </div>
      ) : null}
      {plain.map(input)}
      <details open={editing && more.some((f) => c?.config[f.name] !== undefined)}>
        <summary>
          More settings: mappings, templates{isItsmKind(props.kind) ? '' : ', filters'}, retry
        </summary>
        {more.map(input)}
        {isItsmKind(props.kind) ? null : (
          <label>
            filters (optional)
            <textarea name="filters" rows={3}>
              {submitted?.('filters') ?? (c && Object.keys(c.filters).length ? stringifyYaml(c.filters) : '')}
            </textarea>
            <span class="hint">YAML, e.g. {'{ min_severity: medium, event_types: [policy_violation] }'}</span>
          </label>
        )}
        <label>
          retry (optional)
          <textarea name="retry" rows={3}>
            {submitted?.('retry') ?? (c?.retry ? stringifyYaml(c.retry) : '')}
          </textarea>
          <span class="hint">
            YAML: maximum_attempts, initial_interval, backoff_coefficient, maximum_interval
          </span>
        </label>
      </details>
      <div>
        <button type="submit">{editing ? 'Save' : 'Create'}</button>
      </div>
    </form>
  );
}

/** The connector fields of a form, as POST (create) or PATCH (edit) takes them. */
function bodyFromForm(c: Context<UiEnv>, kind: ConnectorKind, current?: Connector) {
  const form = c.get('form');
  const get = (name: string) => field(form, name);
  const { config, errors } = configFromForm(kind, get, current?.config);
  const filters = yamlValue(get('filters'), 'filters', errors);
  const retry = yamlValue(get('retry'), 'retry', errors);
  const body: Record<string, unknown> = {
    name: get('name')?.trim(),
    enabled: get('enabled') === 'true',
    config,
    retry: retry ?? (current?.retry ? null : undefined),
  };
  if (isItsmKind(kind)) body.auto_push = get('auto_push') === 'true';
  else body.filters = filters ?? {};
  if (NOTIFY_ON_DEFAULTS[kind]) {
    const told = get('notify_on')?.trim();
    body.notify_on = told ? told.split(/[\s,]+/).filter(Boolean) : null;
  }
  if (!current) {
    body.kind = kind;
    if (get('id')?.trim()) body.id = get('id')!.trim();
    return { body, errors, submitted: get };
  }
  // An edit sends what changed only, so the audit entry names just that.
  const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
  const changes = Object.fromEntries(Object.entries(config).filter(([k, v]) => !same(v, current.config[k])));
  // Nothing stored can be kept when no key opens it: a config change names every secret.
  body.config =
    current.status.secrets === 'undecryptable' && Object.keys(changes).length
      ? withEverySecret(kind, changes)
      : changes;
  for (const k of ['name', 'enabled', 'auto_push', 'config', 'filters', 'retry', 'notify_on'] as const)
    if (body[k] === undefined || same(body[k], k === 'config' ? {} : current[k])) delete body[k];
  return { body, errors, submitted: get };
}

export function registerConnectorPages(router: Hono<UiEnv>, deps: UiDeps) {
  const load = async (c: Context<UiEnv>) =>
    needed(await c.get('api')<Connector>('GET', `/v1/connectors/${encodeURIComponent(c.req.param('id')!)}`));

  router.get('/connectors', async (c) => {
    const page = needed(await c.get('api')<{ items: Connector[] }>('GET', '/v1/connectors?limit=500'));
    return c.html(
      <Page title="Connectors" ctx={c.get('page')}>
        <div class="actions">
          New:
          {CONNECTOR_KINDS.map((k) => (
            <a class="button secondary" href={`/ui/connectors/new?kind=${k}`}>
              {k}
            </a>
          ))}
        </div>
        <Table
          head={['id', 'name', 'kind', 'enabled', 'secrets', 'last check', 'last test']}
          empty="no connector yet"
          rows={page.items.map((x) => [
            <a href={`/ui/connectors/${encodeURIComponent(x.id)}`}>{x.id}</a>,
            x.name,
            x.kind,
            <Yes value={x.enabled} yes="enabled" no="disabled" />,
            <SecretsState status={x.status} editHref={`/ui/connectors/${encodeURIComponent(x.id)}/edit`} />,
            <Health ok={x.status.last_check_ok} at={x.status.last_check_at} />,
            <Health ok={x.status.last_test_ok} at={x.status.last_test_at} text={x.status.last_test_result} />,
          ])}
        />
      </Page>,
    );
  });

  router.get('/connectors/new', (c) => {
    const kind = c.req.query('kind');
    if (!isKind(kind)) return c.redirect('/ui/connectors', 303);
    return c.html(
      <Page title={`New ${kind} connector`} ctx={c.get('page')}>
        <ConnectorForm kind={kind} csrf={c.get('page').csrf} action={`/ui/connectors/new?kind=${kind}`} />
      </Page>,
    );
  });

  router.post('/connectors/new', async (c) => {
    const kind = c.req.query('kind');
    if (!isKind(kind)) return c.redirect('/ui/connectors', 303);
    const { body, errors, submitted } = bodyFromForm(c, kind);
    const answer = errors.length ? undefined : await c.get('api')<Connector>('POST', '/v1/connectors', body);
    if (answer?.ok)
      return done(c, deps, `/ui/connectors/${answer.data.id}`, 'ok', `Created ${answer.data.id}.`);
    const page = {
      ...c.get('page'),
      flash: { kind: 'error' as const, text: answer ? describeApiError(answer.error) : errors.join('\n') },
    };
    return c.html(
      <Page title={`New ${kind} connector`} ctx={page}>
        <ConnectorForm
          kind={kind}
          csrf={page.csrf}
          action={`/ui/connectors/new?kind=${kind}`}
          submitted={submitted}
        />
      </Page>,
      400,
    );
  });

  router.get('/connectors/:id', async (c) => {
    const x = await load(c);
    const csrf = c.get('page').csrf;
    const base = `/ui/connectors/${encodeURIComponent(x.id)}`;
    return c.html(
      <Page title={`Connector ${x.name}`} ctx={c.get('page')}>
        <div class="actions">
          <Action action={`${base}/check`} csrf={csrf} label="Check (no side effects)" />
          <Action action={`${base}/test`} csrf={csrf} label={testLabel(x.kind)} kind="secondary" />
          {x.kind === 'elasticsearch' ? (
            <Action
              action={`${base}/install-template`}
              csrf={csrf}
              label="Install index template"
              kind="secondary"
            />
          ) : null}
          <form class="inline" method="post" action={`${base}/enabled`}>
            <Csrf token={csrf} />
            <input type="hidden" name="enabled" value={x.enabled ? 'false' : 'true'} />
            <button type="submit" class="secondary">
              {x.enabled ? 'Disable' : 'Enable'}
            </button>
          </form>
          <a class="button secondary" href={`${base}/edit`}>
            Edit
          </a>
        </div>
        <UnreadableSecretsNotice status={x.status} editHref={`${base}/edit`} />
        <Fields
          rows={[
            ['id', <code>{x.id}</code>],
            ['kind', x.kind],
            ['enabled', <Yes value={x.enabled} yes="enabled" no="disabled" />],
            ...(isItsmKind(x.kind) ? [['auto push', <Yes value={x.auto_push} />] as [string, Child]] : []),
            ['declared by', x.origin === 'config' ? 'ESCALATE_CONFIG' : 'the API'],
            ['updated', <Time iso={x.updated_at} />],
          ]}
        />
        <h2>Health</h2>
        <Fields
          rows={[
            ['secrets', <SecretsState status={x.status} editHref={`${base}/edit`} />],
            ['last check', <Health ok={x.status.last_check_ok} at={x.status.last_check_at} />],
            [
              'last test',
              <Health
                ok={x.status.last_test_ok}
                at={x.status.last_test_at}
                text={x.status.last_test_result}
              />,
            ],
          ]}
        />
        {x.status.last_check ? (
          <Table
            head={['check', 'result', 'message']}
            rows={x.status.last_check.map((s) => [
              s.name,
              <Yes value={s.ok} yes="ok" no="failed" />,
              <span class="wrap">{s.message}</span>,
            ])}
          />
        ) : null}
        <h2>Configuration</h2>
        <Table
          head={['field', 'value']}
          rows={Object.entries(x.config).map(([k, v]) => [
            k,
            <code class="wrap">{typeof v === 'string' ? v : JSON.stringify(v)}</code>,
          ])}
        />
        {Object.keys(x.filters).length ? (
          <Fields rows={[['filters', <code>{JSON.stringify(x.filters)}</code>]]} />
        ) : null}
        {x.retry ? <Fields rows={[['retry', <code>{JSON.stringify(x.retry)}</code>]]} /> : null}
        <p>
          <a href={`/ui/audit?subject_type=connector&subject_id=${encodeURIComponent(x.id)}`}>
            Audit log of this connector
          </a>
        </p>
      </Page>,
    );
  });

  router.get('/connectors/:id/edit', async (c) => {
    const x = await load(c);
    return c.html(
      <Page title={`Edit ${x.name}`} ctx={c.get('page')}>
        <ConnectorForm
          kind={x.kind}
          csrf={c.get('page').csrf}
          action={`/ui/connectors/${encodeURIComponent(x.id)}/edit`}
          connector={x}
        />
      </Page>,
    );
  });

  router.post('/connectors/:id/edit', async (c) => {
    const x = await load(c);
    const base = `/ui/connectors/${encodeURIComponent(x.id)}`;
    const { body, errors, submitted } = bodyFromForm(c, x.kind, x);
    if (!errors.length && Object.keys(body).length === 0)
      return done(c, deps, base, 'ok', 'Nothing to change.');
    const answer = errors.length
      ? undefined
      : await c.get('api')<Connector>('PATCH', `/v1/connectors/${encodeURIComponent(x.id)}`, body);
    if (answer?.ok) return done(c, deps, base, 'ok', 'Saved.');
    const page = {
      ...c.get('page'),
      flash: { kind: 'error' as const, text: answer ? describeApiError(answer.error) : errors.join('\n') },
    };
    return c.html(
      <Page title={`Edit ${x.name}`} ctx={page}>
        <ConnectorForm
          kind={x.kind}
          csrf={page.csrf}
          action={`${base}/edit`}
          connector={x}
          submitted={submitted}
        />
      </Page>,
      400,
    );
  });

  router.post('/connectors/:id/enabled', async (c) => {
    const id = c.req.param('id');
    const enabled = field(c.get('form'), 'enabled') === 'true';
    const answer = await c.get('api')('PATCH', `/v1/connectors/${encodeURIComponent(id)}`, { enabled });
    const to = `/ui/connectors/${encodeURIComponent(id)}`;
    if (!answer.ok) return done(c, deps, to, 'error', describeApiError(answer.error));
    return done(c, deps, to, 'ok', enabled ? 'Enabled.' : 'Disabled: it takes no new deliveries.');
  });

  router.post('/connectors/:id/check', async (c) => {
    const id = c.req.param('id');
    const answer = await c.get('api')<{ ok: boolean; checks: CheckStep[] }>(
      'POST',
      `/v1/connectors/${encodeURIComponent(id)}/check`,
    );
    const to = `/ui/connectors/${encodeURIComponent(id)}`;
    if (!answer.ok) return done(c, deps, to, 'error', describeApiError(answer.error));
    const failed = answer.data.checks.filter((s) => !s.ok);
    return answer.data.ok
      ? done(c, deps, to, 'ok', `Check passed: ${answer.data.checks.map((s) => s.name).join(', ')}.`)
      : done(
          c,
          deps,
          to,
          'error',
          `Check failed:\n${failed.map((s) => `• ${s.name}: ${s.message}`).join('\n')}`,
        );
  });

  for (const action of ['test', 'install-template'] as const) {
    router.post(`/connectors/:id/${action}`, async (c) => {
      const id = c.req.param('id');
      const answer = await c.get('api')<{ ok: boolean; message: string }>(
        'POST',
        `/v1/connectors/${encodeURIComponent(id)}/${action}`,
      );
      const to = `/ui/connectors/${encodeURIComponent(id)}`;
      if (!answer.ok) return done(c, deps, to, 'error', describeApiError(answer.error));
      return done(
        c,
        deps,
        to,
        answer.data.ok ? 'ok' : 'error',
        `${action === 'test' ? 'Test' : 'Template'}: ${answer.data.message}`,
      );
    });
  }
}
