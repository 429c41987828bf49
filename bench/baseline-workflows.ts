/**
 * The baseline of `npm run bench`: the smallest useful Temporal workflow, one no-op activity,
 * bundled on its own (`bundleWorkflowCode`) and run by a worker with escalate's Worker options
 * on a separate task queue of the same dev server.
 */
import { proxyActivities } from '@temporalio/workflow';

export interface BaselineActivities {
  noop(): Promise<void>;
}

const { noop } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '30s' });

export async function baselineWorkflow(): Promise<void> {
  await noop();
}
