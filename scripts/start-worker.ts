/** `npm run start:worker`: a stateless worker process against PostgreSQL and a Temporal cluster. */
import type { HealthCheck } from '../infra/metrics.js';
import { type Services, startServices } from '../services.js';
import { installTemporalRuntime, startWorkerMetrics, workerWorkflowBundle } from '../worker.js';
import { exitOnSignal, productionOptions, runMain } from './production.js';

runMain(async () => {
  const options = productionOptions('escalate-worker');
  const { logger, temporal, tracing } = options;
  let services: Services | undefined;
  // /healthz: 200 while the worker polls; 503 while starting, draining or after a fatal error.
  const health: HealthCheck = () => {
    const state = services?.worker?.current.getState() ?? 'STARTING';
    return { ok: state === 'RUNNING', status: state.toLowerCase() };
  };
  // Before any Temporal connection: the Runtime (with its metrics exporter) is installed once.
  const metricsServer = await startWorkerMetrics(logger, health);
  if (!metricsServer) installTemporalRuntime(logger);
  const workflowBundle = await workerWorkflowBundle({ tracing: tracing !== undefined });
  services = await startServices({ ...options, worker: { workflowBundle } });
  logger.info(
    {
      taskQueue: temporal.taskQueue,
      namespace: temporal.namespace,
      address: temporal.address,
      workflow_bundle: 'codePath' in workflowBundle ? workflowBundle.codePath : 'bundled at start',
      payload_encryption: temporal.payloadCodec !== undefined,
    },
    'worker running',
  );
  exitOnSignal(services, async () => {
    await tracing?.shutdown();
    await metricsServer?.close();
  });
  await services.worker!.running;
});
