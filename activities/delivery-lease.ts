import { randomUUID } from 'node:crypto';
import { acquireDeliveryLease, releaseDeliveryLease } from '../db/repos/deliveries.js';
import { attemptTimeoutMs, pause } from './context.js';
import type { ActivityDeps } from './deps.js';

const LEASE_POLL_MS = 200;

/**
 * Runs `fn` holding the delivery's lease, waiting while another attempt holds it: one attempt at
 * an outside effect per delivery at a time (a replay beside the workflow's own attempt, or an
 * attempt beside a timed-out predecessor still running).
 */
export async function underDeliveryLease<T>(
  deps: ActivityDeps,
  deliveryId: string,
  fn: () => Promise<T>,
): Promise<T> {
  const token = randomUUID();
  await takeDeliveryLease(deps, deliveryId, token);
  try {
    return await fn();
  } finally {
    await releaseDeliveryLease(deps.db, deliveryId, token);
  }
}

/**
 * Takes the delivery's lease under `token`, waiting while another attempt holds it; the caller
 * releases it (a ticket attempt does in the statement that records its outcome).
 */
export async function takeDeliveryLease(
  deps: ActivityDeps,
  deliveryId: string,
  token: string,
): Promise<void> {
  // As long as this attempt may run: a holder that dies leaves a lease that expires with it.
  const until = () => new Date(Date.now() + attemptTimeoutMs(5 * 60_000));
  while (!(await acquireDeliveryLease(deps.db, deliveryId, token, until()))) await pause(LEASE_POLL_MS);
}
