/** `npm run start:worker`: a stateless worker process against PostgreSQL and a Temporal cluster. */
import { startServices } from '../services.js';
import { bundleWorkflows, installTemporalRuntime, startWorkerMetrics } from '../worker.js';
import { exitOnSignal, productionOptions, runMain } from './production.js';

runMain(async () => {
  const options = productionOptions('escalate-worker');
  const { logger, temporal, tracing } = options;
  // Before any Temporal connection: the Runtime (with its metrics exporter) is installed once.
  const metricsServer = await startWorkerMetrics(logger);
  if (!metricsServer) installTemporalRuntime(logger);
  const services = await startServices({
    ...options,
    worker: { workflowBundle: await bundleWorkflows({ tracing: tracing !== undefined }) },
  });
  logger.info(
    { taskQueue: temporal.taskQueue, namespace: temporal.namespace, address: temporal.address },
    'worker running',
  );
  exitOnSignal(services, async () => {
    await tracing?.shutdown();
    await metricsServer?.close();
  });
  await services.worker!.running;
});
