/**
 * Optional OpenTelemetry tracing: with it on, a violation's workflow start (by the API), its
 * workflow run and its activities are spans of one trace.
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTracing, type Tracing, tracingEnabled } from '../../infra/tracing.js';
import { bundleWorkflows } from '../../worker.js';
import { violationWorkflowId } from '../../workflows/contract.js';
import { type FakeJira, startFakeJira } from '../fakes/jira.js';
import { eventually, jiraConnector, makeEvent } from '../helpers/events.js';
import { type Stack, startStack } from '../helpers/stack.js';

const spans = new InMemorySpanExporter();
let tracing: Tracing;
let stack: Stack;
let jira: FakeJira;

beforeAll(async () => {
  tracing = createTracing({ serviceName: 'escalate-test', spanProcessor: new SimpleSpanProcessor(spans) });
  const [workflowBundle, fake] = await Promise.all([bundleWorkflows({ tracing: true }), startFakeJira()]);
  jira = fake;
  stack = await startStack({ tracing: { tracing, workflowBundle } });
  expect((await stack.api('/v1/connectors', { method: 'POST', json: jiraConnector(jira.url) })).status).toBe(
    201,
  );
}, 180_000);
afterAll(async () => {
  await stack?.close();
  await jira?.close();
  await tracing?.shutdown();
});

it('is off unless an OTLP endpoint is configured', () => {
  expect(tracingEnabled({})).toBe(false);
  expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
  expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(
    true,
  );
});

it('puts the start, the workflow run and its activities into one trace', async () => {
  const event = makeEvent({ severity: 'critical' });
  expect((await stack.api('/v1/violations', { method: 'POST', json: event })).status).toBe(202);
  const workflowId = violationWorkflowId(event.event_id as string);
  const trace = await eventually(
    async () => {
      const all = spans.getFinishedSpans();
      const start = all.find(
        (s) =>
          s.name === 'StartWorkflow:violationWorkflowV2' && s.attributes.temporalWorkflowId === workflowId,
      );
      if (!start) return undefined;
      const inTrace = all.filter((s) => s.spanContext().traceId === start.spanContext().traceId);
      const names = new Set(inTrace.map((s) => s.name));
      return names.has('RunWorkflow:violationWorkflowV2') && names.has('RunActivity:createTicket')
        ? inTrace
        : undefined;
    },
    90_000,
    'the start, run and activity spans of the violation in one trace',
  ).catch((err) => {
    const seen = spans.getFinishedSpans().map((s) => `${s.name} ${s.spanContext().traceId}`);
    throw new Error(`${(err as Error).message}; spans: ${seen.join(', ')}`);
  });
  const run = trace.find((s) => s.name === 'RunWorkflow:violationWorkflowV2')!;
  // The bookkeeping (local) activities are in it too.
  expect(trace.some((s) => s.name === 'RunActivity:planViolation')).toBe(true);
  expect(run!.resource.attributes['service.name']).toBe('escalate-test');
});
