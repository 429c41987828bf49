/**
 * Optional OpenTelemetry tracing through Temporal's interceptors: a workflow start (by the API),
 * the workflow run and each of its activities become spans of one trace, exported over OTLP/HTTP.
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set; the exporter reads the
 * standard OTEL_EXPORTER_OTLP_* variables (headers, timeout...).
 */
import { createRequire } from 'node:module';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  type OpenTelemetrySinks,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';

/** The workflow-side interceptors; they must be bundled with the workflows (see bundleWorkflows). */
export const WORKFLOW_TRACING_MODULE = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

export interface Tracing {
  /** For every Temporal Client (the API's starts, the activities' signals). */
  clientInterceptors: WorkflowClientInterceptor[];
  /** For the worker: activity spans, and the sink workflow spans are exported through. */
  activityInterceptors: ActivityInterceptorsFactory[];
  sinks: InjectedSinks<OpenTelemetrySinks>;
  /** Flushes and stops the exporter. */
  shutdown(): Promise<void>;
}

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Registers a global tracer provider (context manager, W3C propagation) exporting through
 * `spanProcessor`, and returns what the client and the worker need. One per process.
 */
export function createTracing(opts: { serviceName: string; spanProcessor?: SpanProcessor }): Tracing {
  const resource = new Resource({ 'service.name': opts.serviceName });
  const spanProcessor = opts.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor()],
    activityInterceptors: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: makeWorkflowExporter(spanProcessor, resource) },
    shutdown: () => provider.shutdown(),
  };
}

/** Tracing as the environment asks for it: undefined when no OTLP endpoint is configured. */
export const tracingFromEnv = (serviceName: string, env: NodeJS.ProcessEnv = process.env) =>
  tracingEnabled(env) ? createTracing({ serviceName }) : undefined;
