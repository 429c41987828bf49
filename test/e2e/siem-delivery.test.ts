import { createHmac } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { defaultSettings } from '../../domain/settings.js';
import { createLogger } from '../../infra/logger.js';
import { violationWorkflowId } from '../../workflows/contract.js';
import { type FakeDatadog, startFakeDatadog } from '../fakes/datadog.js';
import { type FakeElasticsearch, startFakeElasticsearch } from '../fakes/elasticsearch.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { type FakeServiceNow, startFakeServiceNow } from '../fakes/servicenow.js';
import { type FakeSplunk, startFakeSplunk } from '../fakes/splunk.js';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from '../fakes/webhook-receiver.js';
import { eventually, FAST_RETRY, jiraConnector, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

const SIGNING = 'siem-signing-secret';
const WHSEC = `whsec_${Buffer.from('webhook-secret-bytes-0123456789').toString('base64')}`;
const SIEM_RETRY = {
  maximum_attempts: 3,
  initial_interval: '20ms',
  backoff_coefficient: 2,
  maximum_interval: '100ms',
};

let stack: Stack;
let jira: FakeJira;
let snow: FakeServiceNow;
let splunk: FakeSplunk;
let datadog: FakeDatadog;
let es: FakeElasticsearch;
let hook: FakeWebhookReceiver;
const ids: Record<string, string> = {};

const hmac = (body: string) => `sha256=${createHmac('sha256', SIGNING).update(body).digest('hex')}`;

async function connector(body: Record<string, unknown>) {
  const res = await stack.api('/v1/connectors', { method: 'POST', json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

beforeAll(async () => {
  [stack, jira, snow, splunk, datadog, es, hook] = await Promise.all([
    startStack(),
    startFakeJira(),
    startFakeServiceNow({ username: 'svc', password: 'pw' }),
    startFakeSplunk({ token: 'hec-token' }),
    startFakeDatadog({ apiKey: 'dd-key' }),
    startFakeElasticsearch({ apiKey: 'es-key' }),
    startFakeWebhookReceiver({ secret: WHSEC }),
  ]);
  ids.jira = await connector(jiraConnector(jira.url));
  ids.snow = await connector({
    name: 'snow',
    kind: 'servicenow',
    config: { instance_url: snow.url, username: 'svc', password: 'pw', assignment_group: 'IT Security' },
    retry: FAST_RETRY,
  });
  ids.splunk = await connector({
    name: 'splunk',
    kind: 'splunk',
    config: { hec_url: splunk.url, hec_token: 'hec-token', index: 'security', signing_secret: SIGNING },
    retry: SIEM_RETRY,
  });
  ids.datadog = await connector({
    name: 'datadog',
    kind: 'datadog',
    config: { logs_url: datadog.url, api_key: 'dd-key', signing_secret: SIGNING },
    retry: SIEM_RETRY,
  });
  ids.es = await connector({
    name: 'elastic',
    kind: 'elasticsearch',
    config: { url: es.url, api_key: 'es-key', index_prefix: 'escalate', signing_secret: SIGNING },
    retry: SIEM_RETRY,
  });
  ids.hook = await connector({
    name: 'hook',
    kind: 'webhook',
    config: { url: hook.url, secret: WHSEC },
    retry: SIEM_RETRY,
  });
  // Only critical anomalies go to this one: its filters must keep policy violations out.
  await connector({
    name: 'filtered',
    kind: 'webhook',
    config: { url: `${hook.baseUrl}/filtered` },
    filters: { event_types: ['anomaly'], min_severity: 'critical' },
  });
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([jira, snow, splunk, datadog, es, hook].map((f) => f?.close()));
});

type View = {
  status: string;
  tickets: { connector_id: string; external_id: string }[];
  deliveries: {
    id: string;
    connector_id: string;
    status: string;
    attempts: number;
    last_error: string | null;
  }[];
  decisions: { connector_name: string; action: string; reason: string }[];
};

async function finished(eventId: string): Promise<View> {
  return eventually(
    async () => {
      const v = (await (await stack.api(`/v1/violations/${eventId}`)).json()) as View;
      return v.status !== 'processing' ? v : undefined;
    },
    30_000,
    `violation ${eventId}`,
  );
}

/**
 * An event that occurred yesterday, and its daily index (occurred_at picks the index only near
 * the time escalate receives the event).
 */
function recentEvent() {
  const occurred = new Date(Date.now() - 86_400_000).toISOString();
  const index = `escalate-${occurred.slice(0, 10).replaceAll('-', '.')}`;
  return { event: makeEvent({ occurred_at: occurred }), index };
}

describe('SIEM delivery', () => {
  it('delivers one event to every kind, signed, and opens a ticket in each ITSM', async () => {
    const { event, index } = recentEvent();
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    const v = await finished(event.event_id as string);
    expect(v.status).toBe('completed');
    expect(v.tickets.map((t) => t.connector_id).sort()).toEqual([ids.jira, ids.snow].sort());
    expect(v.deliveries.filter((d) => d.status === 'delivered')).toHaveLength(6);
    expect(v.decisions.find((d) => d.connector_name === 'filtered')).toMatchObject({ action: 'skip' });

    const hec = splunk.received.find(
      (r) => (r.envelope.event as { event_id: string }).event_id === event.event_id,
    )!;
    expect(hec.headers.authorization).toBe('Splunk hec-token');
    expect(hec.envelope).toMatchObject({
      source: 'escalate',
      sourcetype: 'escalate:security',
      index: 'security',
    });
    expect(hec.headers['x-escalate-signature']).toBe(hmac(hec.rawBody));

    const log = datadog.logs.find((l) => JSON.stringify(l.item).includes(event.event_id as string))!;
    expect(log.headers['x-escalate-signature']).toBe(hmac(log.rawBody));

    const doc = es.docs(index).find((d) => d.id === event.event_id);
    expect(doc).toBeDefined();

    const msg = hook.received.find((r) => r.rawBody.includes(event.event_id as string))!;
    expect(msg.headers['webhook-signature']).toMatch(/^v1,/);
    expect(hook.received.filter((r) => r.path.endsWith('/filtered'))).toHaveLength(0);

    const number = v.tickets.find((t) => t.connector_id === ids.snow)!.external_id;
    const incident = snow.list('incident').find((r) => r.fields.number === number)!;
    expect(incident.fields).toMatchObject({ urgency: '1', impact: '1', assignment_group: 'IT Security' });
    expect(incident.fields.correlation_id).toMatch(/^escalate-/);
  });

  it('a SIEM outage fails that delivery after three recorded attempts; the tickets still open', async () => {
    for (let i = 0; i < 3; i++) splunk.faults.status(503, { path: '/services/collector/event' });
    const event = makeEvent();
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    const v = await finished(event.event_id as string);
    expect(v.status).toBe('partially_failed');
    expect(v.tickets).toHaveLength(2);
    const failed = v.deliveries.find((d) => d.connector_id === ids.splunk)!;
    expect(failed).toMatchObject({ status: 'failed', attempts: 3 });
    expect(failed.last_error).toMatch(/503/);

    const detail = (await (await stack.api(`/v1/deliveries/${failed.id}`)).json()) as {
      attempt_log: { attempt: number; outcome: string; http_status: number; remote_code: string | null }[];
    };
    expect(detail.attempt_log.map((a) => [a.attempt, a.outcome, a.http_status])).toEqual([
      [1, 'failed', 503],
      [2, 'failed', 503],
      [3, 'failed', 503],
    ]);
    const list = (await (
      await stack.api(`/v1/deliveries?status=failed&connector_id=${ids.splunk}`)
    ).json()) as {
      items: { id: string }[];
    };
    expect(list.items.map((d) => d.id)).toContain(failed.id);
  });

  it('Elasticsearch retries after a lost response never duplicate the document', async () => {
    es.faults.loseResponse('/_bulk');
    const { event, index } = recentEvent();
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    const v = await finished(event.event_id as string);
    expect(v.deliveries.find((d) => d.connector_id === ids.es)).toMatchObject({
      status: 'delivered',
      attempts: 2,
    });
    expect(es.docs(index).filter((d) => d.id === event.event_id)).toHaveLength(1);
  });
});

const { EventType } = temporal.api.enums.v1;

/** A violation posted and finished: its Splunk delivery, and what the fake Splunk received of it. */
async function splunkDelivery() {
  const event = makeEvent();
  expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
  const v = await finished(event.event_id as string);
  const delivery = v.deliveries.find((d) => d.connector_id === ids.splunk)!;
  const sent = () =>
    splunk.received.filter((r) => JSON.stringify(r.envelope).includes(event.event_id as string));
  return { event, delivery, sent };
}

/** The activities as the worker runs them, called directly. */
const activitiesOf = (s: Stack) =>
  createActivities({
    db: s.database.db,
    workflows: { client: s.client, taskQueue: s.taskQueue },
    box: s.box,
    settings: defaultSettings(),
    logger: createLogger({ level: 'silent' }),
  });

/** A run's history as (event type, summary) pairs, and its activity retry policies. */
async function runStory(eventId: string) {
  const history = await stack.client.workflow.getHandle(violationWorkflowId(eventId)).fetchHistory();
  const summary = (e: temporal.api.history.v1.IHistoryEvent) => {
    const data = e.userMetadata?.summary?.data;
    return data ? (JSON.parse(Buffer.from(data).toString()) as string) : undefined;
  };
  const events = history.events ?? [];
  return {
    local: events
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
      .map(summary),
    scheduled: events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((e) => ({ summary: summary(e), retry: e.activityTaskScheduledEventAttributes?.retryPolicy })),
    timers: events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)
      .map((e) => Number(e.timerStartedEventAttributes?.startToFireTimeout?.nanos ?? 0) / 1e6),
  };
}

describe("a delivery's first attempt runs in the worker", () => {
  it('a delivery that succeeds at once leaves no activity task in the run, only its summarised marker', async () => {
    const event = makeEvent();
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    expect((await finished(event.event_id as string)).status).toBe('completed');
    const story = await runStory(event.event_id as string);
    expect(story.scheduled).toEqual([]);
    expect(story.local).toEqual(
      expect.arrayContaining([
        'deliver to splunk splunk',
        expect.stringMatching(/^create Jira issue in SEC \(jira-/),
      ]),
    );
  });

  it('a failed first attempt is retried as an activity with the rest of the policy, after its first delay', async () => {
    for (let i = 0; i < 2; i++) splunk.faults.status(503, { path: '/services/collector/event' });
    const event = makeEvent();
    expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
    const v = await finished(event.event_id as string);
    expect(v.deliveries.find((d) => d.connector_id === ids.splunk)).toMatchObject({
      status: 'delivered',
      attempts: 3,
    });
    const story = await runStory(event.event_id as string);
    // SIEM_RETRY: 3 attempts, 20 ms, ×2. The workflow waits 20 ms; the activity has 2 attempts from 40 ms.
    expect(story.timers).toEqual([20]);
    expect(story.scheduled).toHaveLength(1);
    expect(story.scheduled[0]!.summary).toBe('deliver to splunk splunk: retry');
    expect(story.scheduled[0]!.retry).toMatchObject({ maximumAttempts: 2, backoffCoefficient: 2 });
    expect(Number(story.scheduled[0]!.retry?.initialInterval?.nanos) / 1e6).toBe(40);
  });

  it('a first attempt that finds attempts made since its run took the delivery up calls no one (it was cut and runs again)', async () => {
    for (let i = 0; i < 3; i++) splunk.faults.status(503, { path: '/services/collector/event' });
    const { event, delivery: failed, sent } = await splunkDelivery();
    expect(failed).toMatchObject({ status: 'failed', attempts: 3 });
    const calls = () => sent().length;
    const before = calls();
    const input = {
      deliveryId: failed.id,
      connectorId: ids.splunk!,
      eventId: event.event_id as string,
      maxRetryDelayMs: 1_000,
      retriedIfFailed: true,
    };
    // Its run saw 2 attempts; 3 are recorded: this is a rerun of a cut first attempt.
    await expect(activitiesOf(stack).deliverToSiem({ ...input, firstAttemptAfter: 2 })).rejects.toMatchObject(
      {
        type: 'FirstAttemptCut',
        nonRetryable: false,
      },
    );
    expect(calls()).toBe(before);
    const detail = async () =>
      ((await (await stack.api(`/v1/deliveries/${failed.id}`)).json()) as { attempts: number }).attempts;
    expect(await detail()).toBe(3);
    // Its run saw all 3: a first attempt like any other (a replay's).
    await activitiesOf(stack).deliverToSiem({ ...input, firstAttemptAfter: 3 });
    expect(calls()).toBe(before + 1);
    expect(await detail()).toBe(4);
  });

  it('an attempt at an event already delivered sends nothing (a first attempt run again after its worker died)', async () => {
    const { event, delivery: delivered, sent } = await splunkDelivery();
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(sent()).toHaveLength(1);

    await activitiesOf(stack).deliverToSiem({
      deliveryId: delivered.id,
      connectorId: ids.splunk!,
      eventId: event.event_id as string,
      maxRetryDelayMs: 1_000,
      retriedIfFailed: true,
    });
    expect(sent()).toHaveLength(1);
    const after = (await (await stack.api(`/v1/deliveries/${delivered.id}`)).json()) as { attempts: number };
    expect(after.attempts).toBe(1);
  });
});
