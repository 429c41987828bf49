import {
  allHandlersFinished,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  ParentClosePolicy,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import type { TargetOutcome } from '../domain/plan.js';
import { deliveryStart, type ReplayWorkflowInput } from './contract.js';
import { deliveryWorkflow } from './delivery.js';
import { bookkeeping, failureMessage } from './targets.js';

const PAGE = 50;

/**
 * A bulk replay (ID `replay-{replay_id}`): runs each selected delivery again as its own
 * `delivery-{id}` child (same idempotency keys; already-delivered ones are skipped) with bounded
 * concurrency, recording every outcome so `GET /v1/replays/{id}` shows progress.
 */
export async function replayWorkflow(input: ReplayWorkflowInput): Promise<void> {
  const concurrency = input.concurrency ?? 10;
  let after = input.after;
  for (;;) {
    const batch = await bookkeeping('next page of deliveries').nextReplayBatch({
      replayId: input.replayId,
      after,
      limit: PAGE,
    });
    if (!batch.length) break;
    setCurrentDetails(`replaying deliveries after ${after ?? 'the start'}`);
    const queue = [...batch];
    const lane = async () => {
      for (let id = queue.shift(); id; id = queue.shift()) await replayOne(input, id);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, lane));
    after = batch[batch.length - 1];
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof replayWorkflow>({ ...input, after });
    }
  }
  await bookkeeping('record the replay as completed').completeReplay({
    replayId: input.replayId,
    requestedBy: input.requestedBy,
  });
  setCurrentDetails('completed');
}

async function replayOne(input: ReplayWorkflowInput, deliveryId: string): Promise<void> {
  const { options: start } = deliveryStart(
    { deliveryId, requestedBy: input.requestedBy, reason: 'replay' },
    `replay delivery ${deliveryId}`,
  );
  try {
    const outcome: TargetOutcome & { skipped?: boolean } = await executeChild(deliveryWorkflow, {
      workflowId: start.workflowId,
      args: start.args,
      workflowIdReusePolicy: start.workflowIdReusePolicy,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: start.staticSummary,
    });
    await bookkeeping('record the delivery outcome').recordReplayItem({
      replayId: input.replayId,
      deliveryId,
      outcome: outcome.skipped ? 'skipped' : outcome.ok ? 'delivered' : 'failed',
      error: outcome.error,
    });
  } catch (err) {
    // Already being replayed by someone else, or the delivery vanished: say so, carry on.
    const error =
      err instanceof ChildWorkflowFailure ? failureMessage(err.cause ?? err) : failureMessage(err);
    await bookkeeping('record the skipped delivery').recordReplayItem({
      replayId: input.replayId,
      deliveryId,
      outcome: 'skipped',
      error,
    });
  }
}
