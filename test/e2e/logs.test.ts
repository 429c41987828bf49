/**
 * Structured logs end to end: this file installs the Temporal Runtime with escalate's pino logger
 * (as `npm start` and the worker do), so the SDK's own lines, the workflow's and the API's access
 * log all land in `lines`, as the JSON a log shipper would read.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keyLabel } from '../../api/api-keys.js';
import { createLogger } from '../../infra/logger.js';
import { installTemporalRuntime } from '../../worker.js';
import { violationWorkflowId } from '../../workflows/contract.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, type Stack, startStack } from '../helpers/stack.js';

const API_TOKEN = 'jira-token-that-must-never-be-logged';
const raw: string[] = [];
const lines = () => raw.map((l) => JSON.parse(l) as Record<string, unknown>);

let stack: Stack;
let jira: FakeJira;
let connectorId: string;

beforeAll(async () => {
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => raw.push(s) } });
  expect(installTemporalRuntime(logger)).toBe(false); // installed, without a metrics exporter
  [stack, jira] = await Promise.all([startStack({ logger }), startFakeJira()]);
  const connector = jiraConnector(jira.url, {
    config: { ...jiraConnector(jira.url).config, api_token: API_TOKEN },
  });
  const res = await stack.api('/v1/connectors', { method: 'POST', json: connector });
  expect(res.status).toBe(201);
  connectorId = ((await res.json()) as { id: string }).id;
});
afterAll(async () => {
  await stack?.close();
  await jira?.close();
});

it('writes JSON lines carrying event_id, workflow_id and connector_id, with no secret in them', async () => {
  // Jira refuses the create for good: the SDK logs the failed activity, the workflow the failed target.
  jira.faults.status(400, { path: '/rest/api/3/issue' });
  const event = makeEvent({ severity: 'critical' });
  const eventId = event.event_id as string;
  expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);

  const workflowId = violationWorkflowId(eventId);
  const activityFailed = await eventually(
    async () => lines().find((l) => l.msg === 'Activity failed' && l.event_id === eventId),
    90_000,
    'the SDK log line of the failed create',
  );
  expect(activityFailed).toMatchObject({
    level: 40,
    component: 'worker',
    workflow_id: workflowId,
    activity_type: 'createTicket',
    connector_id: connectorId,
    event_id: eventId,
  });
  expect(activityFailed.delivery_id).toEqual(expect.any(String));
  expect((activityFailed.err as { message: string }).message).toMatch(/400/);

  const targetFailed = await eventually(
    async () => lines().find((l) => l.msg === 'target failed' && l.workflow_id === workflowId),
    90_000,
    "the workflow's log line of the failed target",
  );
  expect(targetFailed).toMatchObject({ component: 'workflow', event_id: eventId, connector_id: connectorId });

  const request = lines().find((l) => l.msg === 'request' && l.event_id === eventId);
  expect(request).toMatchObject({
    method: 'POST',
    route: '/v1/violations',
    status: 202,
    workflow_id: workflowId,
    actor: keyLabel(ADMIN_KEY),
  });

  const all = raw.join('');
  expect(all).not.toContain(API_TOKEN);
  expect(all).not.toContain(ADMIN_KEY);
});

it('names the subject of a request from its path, and counts SDK warnings in /metrics', async () => {
  const res = await stack.api(`/v1/connectors/${connectorId}`);
  expect(res.status).toBe(200);
  expect(lines().find((l) => l.msg === 'request' && l.route === '/v1/connectors/:id')).toMatchObject({
    method: 'GET',
    status: 200,
    connector_id: connectorId,
  });

  const metrics = await (await fetch(`${stack.url}/metrics`)).text();
  const warned = /escalate_temporal_sdk_log_entries_total\{level="warn",component="worker"\} (\d+)/.exec(
    metrics,
  );
  expect(Number(warned?.[1])).toBeGreaterThanOrEqual(1);
  // Health checks stay out of an info-level log.
  await fetch(`${stack.url}/healthz`);
  expect(lines().some((l) => l.route === '/healthz')).toBe(false);
});
