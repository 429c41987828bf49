import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError, type HttpResponse } from '../../connectors/http.js';
import {
  addServiceNowWorkNote,
  buildServiceNowCreateRequest,
  buildServiceNowLookupRequest,
  buildServiceNowUpdateRequest,
  createServiceNowIncident,
  DEFAULT_URGENCY_IMPACT,
  findServiceNowIncident,
  SERVICENOW_HEADERS,
  serviceNowErrorMessage,
  serviceNowPriorityFields,
  serviceNowRecordUrl,
  serviceNowStatusPatch,
  toPlainText,
  updateServiceNowIncident,
} from '../../connectors/servicenow.js';
import { serviceNowAuthorization } from '../../connectors/servicenow-client.js';
import { type ServiceNowConfig, servicenowConfigSchema } from '../../domain/connector.js';
import { serviceNowStateMap, statusFromServiceNowState } from '../../domain/itsm-status.js';
import { SEVERITIES } from '../../domain/severity.js';
import { MAX_DESCRIPTION, type TicketDraft } from '../../domain/ticket.js';
import { type FakeServiceNow, startFakeServiceNow, TASK_FIELDS } from '../fakes/servicenow.js';

const USER = 'escalate.integration';
const PASSWORD = 's3cret!';
const TIMEOUT = 2_000;

const config = (overrides: Partial<Record<string, unknown>> = {}): ServiceNowConfig =>
  servicenowConfigSchema.parse({
    instance_url: 'https://acme.service-now.com',
    username: USER,
    password: PASSWORD,
    ...overrides,
  });

let keySeq = 0;
const draft = (overrides: Partial<TicketDraft> = {}): TicketDraft => ({
  eventId: '0b6b6f4e-3f5c-4b8e-9a43-6f1d2f1c9a11',
  idempotencyKey: `escalate-${(++keySeq).toString(16).padStart(12, '0')}`,
  title: '[escalate] policy_violation: PII sent to gpt-4o',
  severity: 'high',
  priority: 'high',
  facts: [
    ['Event', 'policy_violation'],
    ['Severity', 'high'],
    ['User', 'dev@example.com'],
  ],
  payload: { event_id: '0b6b6f4e-3f5c-4b8e-9a43-6f1d2f1c9a11', summary: 'PII sent to gpt-4o' },
  labels: [],
  customFields: {},
  ...overrides,
});

const bodyOf = (req: { body?: string }): Record<string, unknown> => JSON.parse(req.body ?? '{}');

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectorError);
    return err as ConnectorError;
  }
  throw new Error('expected the call to fail');
}

describe('ServiceNow request building', () => {
  it('sends Basic auth and JSON headers', async () => {
    expect(await serviceNowAuthorization(config(), TIMEOUT)).toBe(
      `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
    );
    expect(SERVICENOW_HEADERS.Accept).toBe('application/json');
    expect(SERVICENOW_HEADERS['Content-Type']).toBe('application/json');
  });

  it('posts to the configured table with the idempotency key as correlation_id', () => {
    const d = draft();
    const req = buildServiceNowCreateRequest(config(), d);
    const url = new URL(req.url);
    expect(req.method).toBe('POST');
    expect(url.origin + url.pathname).toBe('https://acme.service-now.com/api/now/table/incident');
    expect(url.searchParams.get('sysparm_exclude_reference_link')).toBe('true');
    const body = bodyOf(req);
    expect(body.correlation_id).toBe(d.idempotencyKey);
    expect(body.correlation_display).toBe('escalate');
    expect(body.short_description).toBe(d.title);

    const custom = new URL(
      buildServiceNowCreateRequest(
        config({ table: 'sn_si_incident', close_code: 'Investigation completed' }),
        d,
      ).url,
    );
    expect(custom.pathname).toBe('/api/now/table/sn_si_incident');
  });

  it('maps severity to urgency/impact as strings, with per-connector overrides', () => {
    const expected = { critical: ['1', '1'], high: ['2', '2'], medium: ['2', '3'], low: ['3', '3'] };
    for (const severity of SEVERITIES) {
      const body = bodyOf(buildServiceNowCreateRequest(config(), draft({ severity, priority: severity })));
      expect([body.urgency, body.impact]).toEqual(expected[severity]);
      expect(DEFAULT_URGENCY_IMPACT[severity]).toEqual({
        urgency: expected[severity][0],
        impact: expected[severity][1],
      });
    }
    const mapped = config({ urgency_impact_map: { low: { urgency: '2', impact: '1' } } });
    const body = bodyOf(buildServiceNowCreateRequest(mapped, draft({ severity: 'low', priority: 'low' })));
    expect([body.urgency, body.impact]).toEqual(['2', '1']);
    // The priority word (a rule may raise it) drives the mapping, not the raw severity.
    const raised = bodyOf(
      buildServiceNowCreateRequest(config(), draft({ severity: 'low', priority: 'critical' })),
    );
    expect([raised.urgency, raised.impact]).toEqual(['1', '1']);
  });

  it('sets assignment group, category, caller and custom fields, omitting what is unset', () => {
    const c = config({
      assignment_group: 'Security Operations',
      category: 'security',
      subcategory: 'data-leak',
      caller_id: 'escalate.bot',
    });
    const body = bodyOf(
      buildServiceNowCreateRequest(
        c,
        draft({ customFields: { u_risk_score: '0.93', u_platform: 'openai' } }),
      ),
    );
    expect(body).toMatchObject({
      assignment_group: 'Security Operations',
      category: 'security',
      subcategory: 'data-leak',
      caller_id: 'escalate.bot',
      u_risk_score: '0.93',
      u_platform: 'openai',
    });
    expect(
      bodyOf(buildServiceNowCreateRequest(c, draft({ assignmentGroup: 'AI Governance' }))).assignment_group,
    ).toBe('AI Governance');

    const bare = bodyOf(buildServiceNowCreateRequest(config(), draft()));
    for (const field of ['assignment_group', 'category', 'subcategory', 'caller_id', 'assigned_to']) {
      expect(bare).not.toHaveProperty(field);
    }
  });

  it('keeps short_description on one line within 160 characters', () => {
    const body = bodyOf(
      buildServiceNowCreateRequest(config(), draft({ title: `line one\nline two ${'x'.repeat(400)}` })),
    );
    const short = body.short_description as string;
    expect(short.length).toBeLessThanOrEqual(160);
    expect(short).not.toMatch(/[\r\n]/);
    expect(short.startsWith('line one line two')).toBe(true);
  });

  it('writes a plain-text description: facts then payload, never over 32,767 characters', () => {
    const d = draft();
    const text = toPlainText(d);
    expect(text).toContain('User: dev@example.com');
    expect(text).toContain('"summary": "PII sent to gpt-4o"');
    expect(text.indexOf('User:')).toBeLessThan(text.indexOf('"summary"'));

    const huge = draft({ payload: { blob: 'y'.repeat(100_000) } });
    const big = bodyOf(buildServiceNowCreateRequest(config(), huge)).description as string;
    expect(big.length).toBeLessThanOrEqual(MAX_DESCRIPTION);
    expect(big).toContain('User: dev@example.com');
    expect(big).toContain('payload truncated');

    const templated = toPlainText(
      draft({ descriptionText: `Custom ${'z'.repeat(40_000)}`, payload: { a: 1 } }),
    );
    expect(templated.length).toBeLessThanOrEqual(MAX_DESCRIPTION);
    expect(templated.startsWith('Custom zzz')).toBe(true);
    expect(templated).toContain('"a": 1');
    expect(templated).not.toContain('User: dev@example.com');
  });

  it('looks the key up by correlation_id, one row, sys_id and number', () => {
    const req = buildServiceNowLookupRequest(config(), 'escalate-abc');
    const url = new URL(req.url);
    expect(req.method).toBe('GET');
    expect(url.pathname).toBe('/api/now/table/incident');
    expect(url.searchParams.get('sysparm_query')).toBe('correlation_id=escalate-abc^ORDERBYsys_created_on');
    expect(url.searchParams.get('sysparm_limit')).toBe('1');
    expect(url.searchParams.get('sysparm_fields')?.split(',')).toEqual(
      expect.arrayContaining(['sys_id', 'number']),
    );
    expect(() => buildServiceNowLookupRequest(config(), 'a^active=true')).toThrow(ConnectorError);
  });

  it('links to the record through nav_to.do with an encoded uri', () => {
    expect(serviceNowRecordUrl(config({ table: 'sn_si_incident', close_code: 'x' }), 'abc123')).toBe(
      'https://acme.service-now.com/nav_to.do?uri=sn_si_incident.do%3Fsys_id%3Dabc123',
    );
  });

  it('builds PATCH requests with only the fields set', () => {
    const req = buildServiceNowUpdateRequest(config(), 'abc123', {
      state: '6',
      close_code: 'Solution provided',
      work_notes: undefined,
    });
    expect(req.method).toBe('PATCH');
    expect(new URL(req.url).pathname).toBe('/api/now/table/incident/abc123');
    expect(bodyOf(req)).toEqual({ state: '6', close_code: 'Solution provided' });
  });

  it('reads ServiceNow error bodies as "message: detail"', () => {
    const res = (status: number, text: string, headers: Record<string, string> = {}): HttpResponse => ({
      status,
      text,
      headers: new Headers(headers),
      durationMs: 1,
    });
    const body = {
      error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' },
      status: 'failure',
    };
    expect(serviceNowErrorMessage(res(401, JSON.stringify(body)))).toBe(
      'User Not Authenticated: Required to provide Auth information',
    );
    expect(
      serviceNowErrorMessage(
        res(400, '{"error":{"message":"Invalid table x","detail":null},"status":"failure"}'),
      ),
    ).toBe('Invalid table x');
    expect(serviceNowErrorMessage(res(502, '<html>Bad gateway</html>'))).toBe('<html>Bad gateway</html>');
    expect(
      serviceNowErrorMessage(res(302, '', { location: 'https://acme.service-now.com/login.do' })),
    ).toContain('redirected to https://acme.service-now.com/login.do');
  });
});

describe('ServiceNow state mapping', () => {
  it('maps escalate statuses to incident states and back', () => {
    const incident = serviceNowStateMap('incident');
    expect(serviceNowStatusPatch(config(), 'open')).toEqual({ state: '1' });
    expect(serviceNowStatusPatch(config(), 'in_progress')).toEqual({ state: '2' });
    const inbound: [string | number, string | undefined][] = [
      ['1', 'open'],
      [2, 'in_progress'],
      ['3', 'in_progress'],
      ['6', 'resolved'],
      ['7', 'closed'],
      [8, 'closed'],
      ['4', undefined],
      ['10', undefined],
      ['toString', undefined],
    ];
    for (const [state, status] of inbound) expect(statusFromServiceNowState(incident, state)).toBe(status);
  });

  it('security incidents use their own states both ways; close fields only on Closed', () => {
    const sir = config({ table: 'sn_si_incident', close_code: 'Investigation completed' });
    expect(serviceNowStatusPatch(sir, 'open')).toEqual({ state: '10' });
    expect(serviceNowStatusPatch(sir, 'in_progress')).toEqual({ state: '16' });
    expect(serviceNowStatusPatch(sir, 'resolved')).toEqual({ state: '100' });
    expect(serviceNowStatusPatch(sir, 'closed', 'contained and eradicated')).toEqual({
      state: '3',
      close_code: 'Investigation completed',
      close_notes: 'contained and eradicated',
    });
    const states = serviceNowStateMap('sn_si_incident');
    const inbound: [string | number, string | undefined][] = [
      ['10', 'open'],
      [16, 'in_progress'],
      ['18', 'in_progress'],
      ['19', 'in_progress'],
      ['20', 'in_progress'],
      ['100', 'resolved'],
      ['3', 'closed'],
      ['7', 'closed'],
      ['6', undefined],
      ['1', undefined],
    ];
    for (const [state, status] of inbound) expect(statusFromServiceNowState(states, state)).toBe(status);
    // Without the instance's close code a security incident moves until it must be closed, then fails at once.
    const noCode = config({ table: 'sn_si_incident' });
    expect(serviceNowStatusPatch(noCode, 'resolved')).toEqual({ state: '100' });
    expect(() => serviceNowStatusPatch(noCode, 'closed')).toThrow(
      "sn_si_incident needs close_code and close_notes to become closed: set the connector's close_code",
    );
  });

  it('state_map overrides per status: the first value goes out, every value comes back', () => {
    const custom = config({
      table: 'u_ai_case',
      close_code: 'Done',
      state_map: { open: '100', in_progress: ['200', '210', '220'], resolved: '300', closed: ['400', '410'] },
    });
    expect(serviceNowStatusPatch(custom, 'in_progress')).toEqual({ state: '200' });
    expect(serviceNowStatusPatch(custom, 'closed')).toMatchObject({ state: '400', close_code: 'Done' });
    const states = serviceNowStateMap(custom.table, custom.state_map);
    expect(statusFromServiceNowState(states, '210')).toBe('in_progress');
    expect(statusFromServiceNowState(states, 410)).toBe('closed');
    expect(statusFromServiceNowState(states, '1')).toBeUndefined();
    // Partly overridden: the rest of the table's built-in map stays.
    const partial = serviceNowStateMap('incident', { resolved: ['6', '9'] });
    expect(statusFromServiceNowState(partial, '9')).toBe('resolved');
    expect(statusFromServiceNowState(partial, '2')).toBe('in_progress');
    // A custom table without close_code gets no close fields.
    expect(serviceNowStatusPatch(config({ table: 'u_ai_case' }), 'resolved')).toEqual({ state: '6' });
  });

  it('adds close fields when resolving or closing', () => {
    expect(serviceNowStatusPatch(config(), 'in_progress')).toEqual({ state: '2' });
    expect(serviceNowStatusPatch(config(), 'resolved', 'auto-resolved: no recurrence in 24h')).toEqual({
      state: '6',
      close_code: 'Solution provided',
      close_notes: 'auto-resolved: no recurrence in 24h',
    });
    expect(serviceNowStatusPatch(config({ close_code: 'Resolved by caller' }), 'closed')).toMatchObject({
      state: '7',
      close_code: 'Resolved by caller',
      close_notes: 'Closed by escalate',
    });
  });

  it('priority, urgency/impact and severity are set separately per severity', () => {
    expect(serviceNowPriorityFields(config(), 'critical')).toEqual({ urgency: '1', impact: '1' });
    const sir = config({ table: 'sn_si_incident', close_code: 'Investigation completed' });
    expect(serviceNowPriorityFields(sir, 'high')).toEqual({ urgency: '2', impact: '2', severity: '1' });
    expect(serviceNowPriorityFields(sir, 'low')).toEqual({ urgency: '3', impact: '3', severity: '3' });
    const mapped = config({
      table: 'u_ai_case',
      priority_map: { critical: '1', low: '4' },
      severity_map: { critical: '1' },
      urgency_impact_map: { critical: { urgency: '1', impact: '2' } },
    });
    expect(serviceNowPriorityFields(mapped, 'critical')).toEqual({
      urgency: '1',
      impact: '2',
      priority: '1',
      severity: '1',
    });
    expect(serviceNowPriorityFields(mapped, 'medium')).toEqual({ urgency: '2', impact: '3' });
    const body = bodyOf(buildServiceNowCreateRequest(mapped, draft({ priority: 'low' })));
    expect(body).toMatchObject({ urgency: '3', impact: '3', priority: '4' });
    expect(body.severity).toBeUndefined();
  });
});

describe('ServiceNow connector against the fake', () => {
  let fake: FakeServiceNow;
  let sn: ServiceNowConfig;

  beforeEach(async () => {
    fake = await startFakeServiceNow({
      username: USER,
      password: PASSWORD,
      tables: [
        'incident',
        'sn_si_incident',
        { name: 'u_plain_ticket', fields: TASK_FIELDS.filter((f) => f !== 'correlation_id') },
      ],
      customFields: ['u_risk_score'],
    });
    sn = config({ instance_url: fake.url, assignment_group: 'Security Operations' });
  });
  afterEach(() => fake.close());

  it('creates an incident and returns its number, sys_id and URL', async () => {
    const d = draft({
      severity: 'critical',
      priority: 'critical',
      customFields: { u_risk_score: '0.97', u_unknown: 'dropped' },
    });
    const ref = await createServiceNowIncident(sn, d, { timeoutMs: TIMEOUT, lookupFirst: false });

    expect(ref.externalId).toBe('INC0010001');
    expect(ref.sysId).toMatch(/^[0-9a-f]{32}$/);
    expect(ref.externalUrl).toBe(
      `${fake.url}/nav_to.do?uri=${encodeURIComponent(`incident.do?sys_id=${ref.sysId}`)}`,
    );
    expect(ref.adopted).toBe(false);

    const [record] = fake.list('incident');
    expect(fake.list('incident')).toHaveLength(1);
    expect(record?.fields).toMatchObject({
      sys_id: ref.sysId,
      number: 'INC0010001',
      state: '1',
      urgency: '1',
      impact: '1',
      priority: '1',
      correlation_id: d.idempotencyKey,
      correlation_display: 'escalate',
      assignment_group: 'Security Operations',
      u_risk_score: '0.97',
      short_description: d.title,
    });
    expect(record?.fields).not.toHaveProperty('u_unknown');
    expect(fake.creates.get(d.idempotencyKey)).toBe(1);
    expect(await findServiceNowIncident(sn, d.idempotencyKey, TIMEOUT)).toEqual({
      sysId: ref.sysId,
      number: 'INC0010001',
    });
    expect(await findServiceNowIncident(sn, 'escalate-missing', TIMEOUT)).toBeUndefined();
  });

  it('numbers records per table and supports sn_si_incident', async () => {
    const sir = config({
      instance_url: fake.url,
      table: 'sn_si_incident',
      close_code: 'Investigation completed',
    });
    const first = await createServiceNowIncident(sir, draft(), { timeoutMs: TIMEOUT, lookupFirst: true });
    const second = await createServiceNowIncident(sir, draft(), { timeoutMs: TIMEOUT, lookupFirst: true });
    expect([first.externalId, second.externalId]).toEqual(['SIR0010001', 'SIR0010002']);
    expect(first.externalUrl).toContain(encodeURIComponent('sn_si_incident.do?sys_id='));
    expect(fake.list('sn_si_incident')).toHaveLength(2);
    expect(fake.list('incident')).toHaveLength(0);
  });

  it('fails at once on bad credentials, keeping the ServiceNow message', async () => {
    const wrong = config({ instance_url: fake.url, password: 'nope' });
    const err = await failure(
      createServiceNowIncident(wrong, draft(), { timeoutMs: TIMEOUT, lookupFirst: true }),
    );
    expect(err.status).toBe(401);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('User Not Authenticated: Required to provide Auth information');
    expect(fake.list('incident')).toHaveLength(0);
  });

  it('fails at once on an unknown table', async () => {
    const bad = config({ instance_url: fake.url, table: 'u_nope' });
    const err = await failure(
      createServiceNowIncident(bad, draft(), { timeoutMs: TIMEOUT, lookupFirst: false }),
    );
    expect(err.status).toBe(400);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('Invalid table u_nope');
  });

  it('retries 5xx and 429, honouring Retry-After in seconds and as an HTTP date', async () => {
    const opts = { timeoutMs: TIMEOUT, lookupFirst: false };
    fake.faults.push({ method: 'POST', action: 'reply', status: 503 });
    const unavailable = await failure(createServiceNowIncident(sn, draft(), opts));
    expect(unavailable.status).toBe(503);
    expect(unavailable.retryable).toBe(true);

    fake.faults.push({
      method: 'POST',
      action: 'reply',
      status: 429,
      retryAfter: '7',
      body: {
        error: { message: 'Rate limit exceeded', detail: "Rule 'integrations' allows 60 requests/hour" },
        status: 'failure',
      },
    });
    const limited = await failure(createServiceNowIncident(sn, draft(), opts));
    expect(limited.status).toBe(429);
    expect(limited.retryable).toBe(true);
    expect(limited.retryAfterMs).toBe(7_000);
    expect(limited.message).toContain("Rate limit exceeded: Rule 'integrations' allows 60 requests/hour");

    fake.faults.push({
      method: 'POST',
      action: 'reply',
      status: 429,
      retryAfter: new Date(Date.now() + 30_000).toUTCString(),
    });
    const dated = await failure(createServiceNowIncident(sn, draft(), opts));
    expect(dated.retryAfterMs).toBeGreaterThan(25_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(30_000);

    fake.faults.push({
      method: 'POST',
      action: 'reply',
      status: 502,
      body: '<html><body>Bad Gateway</body></html>',
    });
    const gateway = await failure(createServiceNowIncident(sn, draft(), opts));
    expect(gateway.retryable).toBe(true);
    expect(gateway.message).toContain('Bad Gateway');
    expect(fake.list('incident')).toHaveLength(0);
  });

  it('treats a hung instance as a retryable timeout', async () => {
    fake.faults.push({ method: 'POST', action: 'hang' });
    const err = await failure(createServiceNowIncident(sn, draft(), { timeoutMs: 200, lookupFirst: false }));
    expect(err.retryable).toBe(true);
    expect(err.remoteCode).toBe('timeout');
  });

  it('adopts the record of a create whose response was lost: exactly one incident', async () => {
    const d = draft();
    fake.faults.push({ method: 'POST', action: 'drop_after_apply' });
    const lost = await failure(createServiceNowIncident(sn, d, { timeoutMs: TIMEOUT, lookupFirst: false }));
    expect(lost.retryable).toBe(true);
    expect(fake.list('incident')).toHaveLength(1);

    const retried = await createServiceNowIncident(sn, d, { timeoutMs: TIMEOUT, lookupFirst: true });
    expect(retried.adopted).toBe(true);
    expect(retried.sysId).toBe(fake.list('incident')[0]?.fields.sys_id);
    expect(retried.externalId).toBe('INC0010001');
    expect(fake.list('incident')).toHaveLength(1);
    expect(fake.creates.get(d.idempotencyKey)).toBe(1);
  });

  it('survives a storm of faults with retries and still makes exactly one incident', async () => {
    const d = draft();
    fake.faults.push(
      { method: 'POST', action: 'reply', status: 500 },
      { method: 'GET', action: 'reply', status: 429, retryAfter: '1' },
      { method: 'POST', action: 'drop_after_apply' },
      { method: 'GET', action: 'drop' },
    );
    let ref: Awaited<ReturnType<typeof createServiceNowIncident>> | undefined;
    const errors: ConnectorError[] = [];
    for (let attempt = 1; attempt <= 8 && !ref; attempt++) {
      try {
        ref = await createServiceNowIncident(sn, d, { timeoutMs: TIMEOUT, lookupFirst: attempt > 1 });
      } catch (err) {
        expect((err as ConnectorError).retryable).toBe(true);
        errors.push(err as ConnectorError);
      }
    }
    expect(errors.length).toBe(4);
    expect(ref?.adopted).toBe(true);
    expect(fake.list('incident')).toHaveLength(1);
    expect(fake.creates.get(d.idempotencyKey)).toBe(1);
  });

  it('refuses to adopt from a table that cannot be searched by correlation_id', async () => {
    const plain = config({ instance_url: fake.url, table: 'u_plain_ticket' });
    await createServiceNowIncident(plain, draft(), { timeoutMs: TIMEOUT, lookupFirst: false });
    // The instance ignores the unknown column in the query and returns the unrelated record.
    const err = await failure(
      createServiceNowIncident(plain, draft(), { timeoutMs: TIMEOUT, lookupFirst: true }),
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('correlation_id');
    expect(fake.list('u_plain_ticket')).toHaveLength(1);
  });

  it('resolves with close fields and hits the data policy without them', async () => {
    const ref = await createServiceNowIncident(sn, draft(), { timeoutMs: TIMEOUT, lookupFirst: false });
    const sysId = ref.sysId!;

    const refused = await failure(updateServiceNowIncident(sn, sysId, { state: '6' }, TIMEOUT));
    expect(refused.status).toBe(403);
    expect(refused.retryable).toBe(false);
    expect(refused.message).toContain('Operation Failed: Data Policy Exception');
    expect(refused.message).toContain('Resolution code');
    expect(refused.message).toContain('Resolution notes');
    expect(fake.find('incident', sysId)?.fields.state).toBe('1');

    const inProgress = await updateServiceNowIncident(
      sn,
      sysId,
      serviceNowStatusPatch(sn, 'in_progress'),
      TIMEOUT,
    );
    expect(inProgress).toEqual({ sysId, number: ref.externalId, state: '2' });

    const resolved = await updateServiceNowIncident(
      sn,
      sysId,
      serviceNowStatusPatch(sn, 'resolved', 'Policy owner confirmed'),
      TIMEOUT,
    );
    expect(resolved.state).toBe('6');
    expect(fake.find('incident', sysId)?.fields).toMatchObject({
      state: '6',
      close_code: 'Solution provided',
      close_notes: 'Policy owner confirmed',
    });
    expect(fake.find('incident', sysId)?.fields.resolved_at).toBeTruthy();

    // Close fields already on the record satisfy the policy for the close.
    const closed = await updateServiceNowIncident(sn, sysId, { state: '7' }, TIMEOUT);
    expect(closed.state).toBe('7');
    expect(fake.find('incident', sysId)?.fields.active).toBe('false');
  });

  it('appends work notes to the journal', async () => {
    const ref = await createServiceNowIncident(sn, draft(), { timeoutMs: TIMEOUT, lookupFirst: false });
    await addServiceNowWorkNote(sn, ref.sysId!, 'Violation recurred (2nd time)', TIMEOUT);
    await addServiceNowWorkNote(sn, ref.sysId!, 'SLA breached: priority raised', TIMEOUT);
    const record = fake.find('incident', ref.sysId!);
    expect(record?.journal.map((j) => [j.element, j.value])).toEqual([
      ['work_notes', 'Violation recurred (2nd time)'],
      ['work_notes', 'SLA breached: priority raised'],
    ]);
    expect(record?.fields.work_notes).toBeUndefined();
    expect(record?.fields.sys_mod_count).toBe('2');
  });

  it('raises urgency/impact and lets the instance recompute priority', async () => {
    const ref = await createServiceNowIncident(sn, draft({ priority: 'low' }), {
      timeoutMs: TIMEOUT,
      lookupFirst: false,
    });
    expect(fake.find('incident', ref.sysId!)?.fields.priority).toBe('5');
    await updateServiceNowIncident(sn, ref.sysId!, DEFAULT_URGENCY_IMPACT.medium, TIMEOUT);
    expect(fake.find('incident', ref.sysId!)?.fields).toMatchObject({
      urgency: '2',
      impact: '3',
      priority: '4',
    });
  });

  it('moves a security incident through its own states; Closed needs the closure information', async () => {
    const sir = config({
      instance_url: fake.url,
      table: 'sn_si_incident',
      close_code: 'Investigation completed',
    });
    const ref = await createServiceNowIncident(sir, draft({ priority: 'critical' }), {
      timeoutMs: TIMEOUT,
      lookupFirst: false,
    });
    const sysId = ref.sysId!;
    expect(fake.find('sn_si_incident', sysId)?.fields).toMatchObject({ state: '10', severity: '1' });
    const refused = await failure(updateServiceNowIncident(sir, sysId, { state: '3' }, TIMEOUT));
    expect(refused.status).toBe(403);
    for (const [status, state] of [
      ['in_progress', '16'],
      ['resolved', '100'],
      ['closed', '3'],
    ] as const) {
      const moved = await updateServiceNowIncident(sir, sysId, serviceNowStatusPatch(sir, status), TIMEOUT);
      expect(moved.state).toBe(state);
    }
    expect(fake.find('sn_si_incident', sysId)?.fields).toMatchObject({
      state: '3',
      close_code: 'Investigation completed',
      close_notes: 'Closed by escalate',
      active: 'false',
    });
  });

  it('fails at once when the record is gone', async () => {
    const err = await failure(addServiceNowWorkNote(sn, 'f'.repeat(32), 'hello', TIMEOUT));
    expect(err.status).toBe(404);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('No Record found');
  });
});

describe('fake ServiceNow contract', () => {
  let fake: FakeServiceNow;
  const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

  beforeEach(async () => {
    fake = await startFakeServiceNow({ username: USER, password: PASSWORD });
  });
  afterEach(() => fake.close());

  it('answers 401 with the platform body when auth is missing', async () => {
    const res = await fetch(`${fake.url}/api/now/table/incident`, {
      headers: { Accept: 'application/json' },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' },
      status: 'failure',
    });
  });

  it('requires Accept and Content-Type JSON', async () => {
    const noAccept = await fetch(`${fake.url}/api/now/table/incident`, { headers: { Authorization: auth } });
    expect(noAccept.status).toBe(406);
    const textBody = await fetch(`${fake.url}/api/now/table/incident`, {
      method: 'POST',
      headers: { Authorization: auth, Accept: 'application/json', 'Content-Type': 'text/plain' },
      body: '{"short_description":"x"}',
    });
    expect(textBody.status).toBe(415);
    expect(fake.list()).toHaveLength(0);
  });

  it('answers Invalid table, and reference fields as links unless excluded', async () => {
    const headers = { Authorization: auth, Accept: 'application/json', 'Content-Type': 'application/json' };
    const invalid = await fetch(`${fake.url}/api/now/table/u_missing`, { headers });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({
      error: { message: 'Invalid table u_missing', detail: null },
      status: 'failure',
    });

    const created = await fetch(`${fake.url}/api/now/table/incident`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ short_description: 'x', assignment_group: 'abc', urgency: 1, bogus: 'ignored' }),
    });
    expect(created.status).toBe(201);
    const { result } = (await created.json()) as { result: Record<string, unknown> };
    expect(result.assignment_group).toEqual({
      link: `${fake.url}/api/now/table/sys_user_group/abc`,
      value: 'abc',
    });
    expect(result.urgency).toBe('1');
    expect(result).not.toHaveProperty('bogus');
    expect(created.headers.get('location')).toBe(`${fake.url}/api/now/table/incident/${result.sys_id}`);

    const listed = await fetch(
      `${fake.url}/api/now/table/incident?sysparm_query=urgency=1^short_description=x&sysparm_fields=number,assignment_group&sysparm_exclude_reference_link=true`,
      { headers },
    );
    expect(await listed.json()).toEqual({ result: [{ number: 'INC0010001', assignment_group: 'abc' }] });
  });
});

describe('ServiceNow OAuth', () => {
  let fake: FakeServiceNow;
  const oauthConfig = (overrides: Record<string, unknown> = {}) =>
    servicenowConfigSchema.parse({
      instance_url: fake.url,
      auth: 'oauth',
      client_id: 'escalate-client',
      client_secret: 'client-s3cret',
      ...overrides,
    });

  beforeEach(async () => {
    fake = await startFakeServiceNow({
      username: USER,
      password: PASSWORD,
      oauth: { clientId: 'escalate-client', clientSecret: 'client-s3cret', ttlSeconds: 1800 },
    });
  });
  afterEach(() => fake.close());

  it('fetches a token once, reuses it, and refreshes it once when the instance answers 401', async () => {
    const sn = oauthConfig();
    const opts = { timeoutMs: TIMEOUT, lookupFirst: true };
    await createServiceNowIncident(sn, draft(), opts);
    await createServiceNowIncident(sn, draft(), opts);
    expect(fake.oauth!.tokenRequests).toBe(1);
    expect(fake.requests.filter((r) => r.path === '/oauth_token.do')[0]?.body).toContain(
      'grant_type=client_credentials',
    );
    const tableCalls = fake.requests.filter((r) => r.path.startsWith('/api/now/table/'));
    expect(
      tableCalls.every((r) => /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(String(r.headers.authorization))),
    ).toBe(true);

    fake.oauth!.revokeAll();
    const ref = await createServiceNowIncident(sn, draft(), opts);
    expect(ref.externalId).toBe('INC0010003');
    expect(fake.oauth!.tokenRequests).toBe(2);
    expect(fake.list('incident')).toHaveLength(3);
  });

  it('uses the password grant with username and password', async () => {
    const sn = oauthConfig({ username: USER, password: PASSWORD });
    await createServiceNowIncident(sn, draft(), { timeoutMs: TIMEOUT, lookupFirst: false });
    expect(fake.oauth!.grants).toEqual(['password']);
  });

  it('a refused token request is a permanent error that says so', async () => {
    const sn = oauthConfig({ client_secret: 'wrong' });
    const err = await failure(
      createServiceNowIncident(sn, draft(), { timeoutMs: TIMEOUT, lookupFirst: false }),
    );
    expect(err.retryable).toBe(false);
    expect(err.remoteCode).toBe('oauth_token');
    expect(err.message).toContain('OAuth token request refused: invalid_client');
    expect(fake.list('incident')).toHaveLength(0);
  });

  it('refreshes a token shortly before it expires', async () => {
    await fake.close();
    fake = await startFakeServiceNow({
      username: USER,
      password: PASSWORD,
      oauth: { clientId: 'escalate-client', clientSecret: 'client-s3cret', ttlSeconds: 1 },
    });
    const sn = oauthConfig();
    await createServiceNowIncident(sn, draft(), { timeoutMs: TIMEOUT, lookupFirst: false });
    // The token lives 1 s and is refreshed a fifth of that before: after 0.9 s it is not used again.
    await new Promise((r) => setTimeout(r, 900));
    await createServiceNowIncident(sn, draft(), { timeoutMs: TIMEOUT, lookupFirst: false });
    expect(fake.oauth!.tokenRequests).toBe(2);
    expect(
      fake.requests.filter((r) => r.path.startsWith('/api/now/table/') && r.method === 'POST'),
    ).toHaveLength(2);
  });

  it('refuses a config without the client or with half a password grant', () => {
    const base = { instance_url: 'https://acme.service-now.com', auth: 'oauth' };
    expect(servicenowConfigSchema.safeParse(base).success).toBe(false);
    expect(
      servicenowConfigSchema.safeParse({ ...base, client_id: 'c', client_secret: 's', username: 'u' })
        .success,
    ).toBe(false);
    expect(servicenowConfigSchema.safeParse({ ...base, client_id: 'c', client_secret: 's' }).success).toBe(
      true,
    );
  });
});
