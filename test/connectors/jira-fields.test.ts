import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/http.js';
import { createJiraIssue, previewJiraCreate } from '../../connectors/jira.js';
import { clearCreateMetaCache } from '../../connectors/jira-createmeta.js';
import { type JiraFieldMeta, shapeJiraFieldValue } from '../../connectors/jira-fields.js';
import { type JiraConfig, jiraConfigSchema } from '../../domain/connector.js';
import { buildTicketDraft } from '../../domain/ticket-draft.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { adfProblem, adfText } from '../fakes/jira-adf.js';
import type { FakeJiraField } from '../fakes/jira-fields.js';
import { RISK_AND_CLASSIFICATIONS } from '../helpers/jira-installation.js';

const TIMEOUT = 2_000;

const field = (type: string, extra: Partial<JiraFieldMeta> & { items?: string; custom?: string } = {}) => {
  const { items, custom, ...rest } = extra;
  return {
    fieldId: 'customfield_10050',
    name: 'Risk Score',
    schema: { type, ...(items ? { items } : {}), ...(custom ? { custom: `x:${custom}` } : {}) },
    ...rest,
  } as JiraFieldMeta;
};
const options = (...values: string[]) => values.map((value, i) => ({ id: String(i), value }));

describe('shaping a rendered value to the field schema', () => {
  it('numbers become JSON numbers; anything else is a problem naming the value', () => {
    expect(shapeJiraFieldValue(field('number'), ' 0.93 ', 'cloud')).toEqual({ value: 0.93 });
    expect(shapeJiraFieldValue(field('number'), '-12', 'cloud')).toEqual({ value: -12 });
    expect(shapeJiraFieldValue(field('number'), 'abc', 'cloud')).toEqual({
      problem: '"abc" is not a number',
    });
    expect(shapeJiraFieldValue(field('number'), '0x10', 'cloud')).toHaveProperty('problem');
    expect(shapeJiraFieldValue(field('number'), '', 'cloud')).toEqual({ omit: true });
  });

  it('options become {value}, matched to the allowed values (case-insensitively as a fallback)', () => {
    const select = field('option', { allowedValues: options('Sev1', 'Sev2') });
    expect(shapeJiraFieldValue(select, 'sev2', 'cloud')).toEqual({ value: { value: 'Sev2' } });
    const refused = shapeJiraFieldValue(select, 'Sev9', 'cloud');
    expect(refused).toEqual({ problem: '"Sev9" is not an allowed option (allowed: "Sev1", "Sev2")' });
  });

  it('arrays come from a comma-separated or a JSON rendering', () => {
    const multi = field('array', { items: 'option', allowedValues: options('PII', 'CREDIT_CARD', 'SECRET') });
    expect(shapeJiraFieldValue(multi, 'PII, credit_card', 'cloud')).toEqual({
      value: [{ value: 'PII' }, { value: 'CREDIT_CARD' }],
    });
    expect(shapeJiraFieldValue(multi, '["SECRET"]', 'cloud')).toEqual({ value: [{ value: 'SECRET' }] });
    expect(shapeJiraFieldValue(multi, '[{"type":"PII"}]', 'cloud')).toHaveProperty('problem');
    const labels = field('array', { items: 'string', custom: 'labels' });
    expect(shapeJiraFieldValue(labels, 'ai gateway,prod eu', 'cloud')).toEqual({
      value: ['ai-gateway', 'prod-eu'],
    });
    const versions = field('array', { items: 'version' });
    expect(shapeJiraFieldValue(versions, '1.0,2.0', 'cloud')).toEqual({
      value: [{ name: '1.0' }, { name: '2.0' }],
    });
  });

  it('users by accountId on Cloud and by name on Data Center; dates and date-times in Jira formats', () => {
    expect(shapeJiraFieldValue(field('user'), '5b10ac8d', 'cloud')).toEqual({
      value: { accountId: '5b10ac8d' },
    });
    expect(shapeJiraFieldValue(field('user'), 'jsmith', 'datacenter')).toEqual({ value: { name: 'jsmith' } });
    expect(shapeJiraFieldValue(field('date'), '2026-11-20T10:15:00Z', 'cloud')).toEqual({
      value: '2026-11-20',
    });
    expect(shapeJiraFieldValue(field('date'), '2026-11-20', 'cloud')).toEqual({ value: '2026-11-20' });
    expect(shapeJiraFieldValue(field('datetime'), '2026-11-20T10:15:00+02:00', 'cloud')).toEqual({
      value: '2026-11-20T08:15:00.000+0000',
    });
    expect(shapeJiraFieldValue(field('datetime'), 'yesterday', 'cloud')).toHaveProperty('problem');
  });

  it('multi-line text is ADF on Cloud and a string on Data Center; unknown types are refused', () => {
    const area = field('string', { custom: 'textarea' });
    const cloud = shapeJiraFieldValue(area, 'line one\nline two', 'cloud') as { value: unknown };
    expect(adfProblem(cloud.value)).toBeUndefined();
    expect(shapeJiraFieldValue(area, 'line one', 'datacenter')).toEqual({ value: 'line one' });
    expect(shapeJiraFieldValue(field('string'), 'x'.repeat(300), 'cloud')).toEqual({
      value: `${'x'.repeat(254)}…`,
    });
    expect(shapeJiraFieldValue(field('option-with-child'), 'a', 'cloud')).toEqual({
      problem: 'field type "option-with-child" is not supported by escalate',
    });
  });
});

const FIELDS: FakeJiraField[] = [
  ...RISK_AND_CLASSIFICATIONS,
  { id: 'customfield_10052', name: 'Noxys Event ID', type: 'string', custom: 'textfield' },
  { id: 'customfield_10053', name: 'Detected', type: 'datetime', custom: 'datetime' },
  { id: 'customfield_10054', name: 'Analyst notes', type: 'string', custom: 'textarea' },
];

const payload = {
  event_id: '0b6b6f4e-3f5c-4b8e-9a43-6f1d2f1c9a11',
  event_type: 'policy_violation',
  summary: 'card number sent to an LLM',
  risk_score: 0.93,
  occurred_at: '2026-11-20T10:15:00Z',
  classifications: [
    { type: 'CREDIT_CARD', confidence: 0.99 },
    { type: 'PII', confidence: 0.8 },
  ],
};

describe.each([
  ['cloud', 3],
  ['datacenter', 2],
] as const)('custom fields against the fake Jira (%s)', (api, v) => {
  let fake: FakeJira;
  beforeEach(async () => {
    clearCreateMetaCache();
    fake = await startFakeJira({ customFields: FIELDS, components: ['AI Gateway'] });
  });
  afterEach(() => fake.close());

  const config = (customFields: Record<string, string>): JiraConfig =>
    jiraConfigSchema.parse({
      base_url: fake.url,
      api,
      ...(api === 'cloud' ? { email: 'bot@example.com', api_token: 'cloud-token' } : { pat: 'dc-pat' }),
      project_key: 'SEC',
      issue_type: 'Task',
      components: ['AI Gateway'],
      custom_fields: customFields,
    });
  let seq = 0;
  const draftFor = (c: JiraConfig) =>
    buildTicketDraft({
      payload,
      severity: 'high',
      priority: 'high',
      idempotencyKey: `escalate-cf-${++seq}`,
      config: c,
    });

  const typed = {
    customfield_10050: '{{ risk_score }}',
    customfield_10051: '{{ classifications | map("type") | join(",") }}',
    customfield_10052: '{{ event_id }}',
    customfield_10053: '{{ occurred_at }}',
    customfield_10054: 'Risk {{ risk_score }}\nseen by {{ source | default("the gateway") }}',
  };

  it('a number and a multi-select arrive typed; the create metadata is read once and cached', async () => {
    const c = config(typed);
    const ref = await createJiraIssue(c, draftFor(c), { timeoutMs: TIMEOUT, lookupFirst: false });
    const fields = fake.issues.get(ref.externalId)!.fields;
    expect(fields.customfield_10050).toBe(0.93);
    expect(fields.customfield_10051).toEqual([{ value: 'CREDIT_CARD' }, { value: 'PII' }]);
    expect(fields.customfield_10052).toBe(payload.event_id);
    expect(fields.customfield_10053).toBe('2026-11-20T10:15:00.000+0000');
    expect(fields.components).toEqual([{ name: 'AI Gateway' }]);
    const notes = fields.customfield_10054;
    if (v === 3) expect(adfText(notes).replace(/\n+/g, '\n')).toBe('Risk 0.93\nseen by the gateway');
    else expect(notes).toBe('Risk 0.93\nseen by the gateway');

    const metaReads = () => fake.requests.filter((r) => r.path.includes('/issue/createmeta/')).length;
    expect(metaReads()).toBe(2);
    expect(fake.requests.some((r) => r.path === `/rest/api/${v}/issue/createmeta/SEC/issuetypes/10001`)).toBe(
      true,
    );
    await createJiraIssue(c, draftFor(c), { timeoutMs: TIMEOUT, lookupFirst: false });
    expect(metaReads()).toBe(2);
    expect(fake.issues.size).toBe(2);
  });

  it('a value that cannot be shaped is a permanent error naming the field, and nothing is created', async () => {
    const c = config({ customfield_10050: '{{ summary }}' });
    const err = await createJiraIssue(c, draftFor(c), { timeoutMs: TIMEOUT, lookupFirst: false }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err.retryable).toBe(false);
    expect(err.remoteCode).toBe('invalid_field_value');
    expect(err.message).toBe(
      'custom field customfield_10050 ("Risk Score", number): "card number sent to an LLM" is not a number',
    );
    const unknownOption = config({ customfield_10051: 'PII, PHONE' });
    const refused = await createJiraIssue(unknownOption, draftFor(unknownOption), {
      timeoutMs: TIMEOUT,
      lookupFirst: false,
    }).catch((e) => e);
    expect(refused.message).toContain('"PHONE" is not an allowed option');
    expect(fake.issues.size).toBe(0);
  });

  it('a field the create screen lacks is read again without the cache, then refused', async () => {
    const c = config({ customfield_19999: 'x' });
    const err = await createJiraIssue(c, draftFor(c), { timeoutMs: TIMEOUT, lookupFirst: false }).catch(
      (e) => e,
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      'custom field customfield_19999 is not on the create screen of SEC/Task (or does not exist)',
    );
    // Two reads for the first lookup, two more for the uncached one.
    expect(fake.requests.filter((r) => r.path.includes('/issue/createmeta/')).length).toBe(4);
  });

  it('the fake refuses what real Jira refuses: a string for a number, an unknown option, an unknown field', async () => {
    const c = config({});
    const call = await previewJiraCreate(c, draftFor(c), TIMEOUT);
    const body = JSON.parse(call.body!) as { fields: Record<string, unknown> };
    const auth =
      v === 3 ? `Basic ${Buffer.from('bot@example.com:cloud-token').toString('base64')}` : 'Bearer dc-pat';
    const post = (fields: Record<string, unknown>) =>
      fetch(`${fake.url}/rest/api/${v}/issue`, {
        method: 'POST',
        headers: { Authorization: auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ fields: { ...body.fields, ...fields } }),
      });
    const number = await post({ customfield_10050: '0.93' });
    expect(number.status).toBe(400);
    expect(((await number.json()) as { errors: Record<string, string> }).errors.customfield_10050).toBe(
      'Operation value must be a number',
    );
    const option = await post({ customfield_10051: [{ value: 'PHONE' }] });
    expect(((await option.json()) as { errors: Record<string, string> }).errors.customfield_10051).toBe(
      "Option value 'PHONE' is not valid",
    );
    const notArray = await post({ customfield_10051: { value: 'PII' } });
    expect(((await notArray.json()) as { errors: Record<string, string> }).errors.customfield_10051).toBe(
      'data was not an array',
    );
    const unknown = await post({ customfield_19999: 'x' });
    expect(((await unknown.json()) as { errors: Record<string, string> }).errors.customfield_19999).toContain(
      'It is not on the appropriate screen',
    );
    const component = await post({ components: [{ name: 'Nope' }] });
    expect(((await component.json()) as { errors: Record<string, string> }).errors.components).toBe(
      "Component name 'Nope' is not valid",
    );
    expect(fake.issues.size).toBe(0);
  });
});
