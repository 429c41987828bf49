/**
 * Delivery attempts on the hot path, one statement each (data-modifying CTEs, atomic as any
 * single statement): opening an attempt, and recording how it ended together with what it
 * decided. Every ticket and event delivery goes through here, so round trips count.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { deliveries, deliveryAttempts } from '../schema.js';
import type { AttemptResult, AttemptRow } from './deliveries.js';
import { at, rowOf } from './rows.js';

/** An attempt opened on a delivery, with what its metrics are labelled by. */
export interface BegunAttempt {
  attempt: AttemptRow;
  connectorId: string;
  kind: string;
}

const INTERRUPTED = 'attempt ended without a result (worker stopped or timed out)';

/** An attempt's outcome, as recorded (the finish time is the caller's clock, as before). */
export interface FinishedAttempt extends AttemptResult {
  attempt: AttemptRow;
  finishedAt: Date;
}

/**
 * The CTEs that follow `d` (the delivery, its attempt counter raised): attempts a dead worker left
 * `running` closed as interrupted, attempt N+1 opened as `started`.
 */
const attemptOpened = (deliveryId: string) => sql`closed as (
      update delivery_attempts set outcome = 'interrupted', finished_at = now(), message = ${INTERRUPTED}
      where delivery_id = ${deliveryId} and outcome = 'running' and exists (select 1 from d)
    ), started as (
      insert into delivery_attempts (delivery_id, attempt, started_at)
      select id, attempts, now() from d
      returning *
    )`;

/**
 * Opens attempt N+1: the delivery's counter and its attempt row in one statement. The row lock
 * the counter's update takes serialises an attempt Temporal started while a timed-out
 * predecessor is still finishing; attempts a dead worker left `running` are closed as
 * `interrupted`. A delivery already delivered gets no attempt (`'delivered'`): an attempt run
 * again after its worker died, its success recorded, must not send the event twice. Neither does
 * a first attempt run in the worker that finds attempts made after `firstAttemptAfter` (`'cut'`).
 */
export async function beginAttempt(
  db: Db,
  deliveryId: string,
  opts: { firstAttemptAfter?: number } = {},
): Promise<BegunAttempt | 'delivered' | 'cut'> {
  const after = opts.firstAttemptAfter ?? null;
  const rows = await db.execute<Record<string, unknown>>(sql`
    with cur as (
      select status, attempts from deliveries where id = ${deliveryId}
    ), d as (
      update deliveries set attempts = attempts + 1, last_attempt_at = now(), updated_at = now()
      where id = ${deliveryId} and status <> 'delivered'
        and (${after}::int is null or attempts <= ${after}::int)
      returning id, connector_id, kind, attempts
    ), ${attemptOpened(deliveryId)}
    select started.*, cur.status as cur_status, cur.attempts as cur_attempts,
      d.connector_id as d_connector_id, d.kind as d_kind
    from cur left join d on true left join started on true`);
  const [row] = rows;
  if (!row) throw new Error(`delivery ${deliveryId} not found`);
  if (row.id === null || row.id === undefined) {
    if (row.cur_status === 'delivered') return 'delivered';
    if (after !== null && Number(row.cur_attempts) > after) return 'cut';
    // `cur` is the statement's snapshot: an attempt that recorded its success while this one
    // waited for the row lock shows in a fresh read only.
    const [now] = await db
      .select({ status: deliveries.status })
      .from(deliveries)
      .where(eq(deliveries.id, deliveryId));
    if (now?.status === 'delivered') return 'delivered';
    throw new Error(`delivery ${deliveryId}: no attempt opened`);
  }
  return {
    attempt: rowOf(deliveryAttempts, row),
    connectorId: String(row.d_connector_id),
    kind: String(row.d_kind),
  };
}

export type TicketAttemptStart =
  | ({ status: 'started' } & BegunAttempt)
  /**
   * This delivery's ticket is already recorded (an earlier attempt or a replay created it);
   * `delivered`: and the delivery marked delivered with it (an attempt that failed after recording).
   */
  | { status: 'recorded'; delivered: boolean }
  /** The last attempt's outcome is unknown and Jira's search may not see its issue yet: wait. */
  | { status: 'settling'; waitMs: number }
  /** A first attempt run in the worker that ran before (see `beginAttempt`): no attempt opened. */
  | { status: 'cut' };

export interface TicketAttemptInput {
  deliveryId: string;
  /** The delivery's lease, held by this attempt. */
  token: string;
  idempotencyKey: string;
  /** How long after an attempt of unknown outcome the lookup must wait. */
  settleMs: number;
  firstAttemptAfter?: number;
}

/**
 * Under the delivery's lease (`token`), in one statement read with a snapshot taken after the
 * lease: is the ticket already recorded, must the lookup wait for the search to settle after an
 * attempt whose outcome is unknown, and if neither, attempt N+1 opened (as `beginAttempt`).
 */
export async function beginTicketAttempt(db: Db, input: TicketAttemptInput): Promise<TicketAttemptStart> {
  const { deliveryId } = input;
  const after = input.firstAttemptAfter ?? null;
  const rows = await db.execute<Record<string, unknown>>(sql`
    with last as (
      select outcome_unknown, finished_at from delivery_attempts
      where delivery_id = ${deliveryId} and finished_at is not null
      order by attempt desc limit 1
    ), prior as (
      select
        exists (
          select 1 from tickets where idempotency_key = ${input.idempotencyKey} and external_id is not null
        ) as recorded,
        exists (select 1 from deliveries where id = ${deliveryId} and status = 'delivered') as delivered,
        exists (
          select 1 from deliveries where id = ${deliveryId} and ${after}::int is not null and attempts > ${after}::int
        ) as cut,
        coalesce((
          select greatest(0, extract(epoch from (
            finished_at + make_interval(secs => ${input.settleMs}::float8 / 1000) - now()
          )) * 1000)
          from last where outcome_unknown
        ), 0)::float8 as wait_ms
    ), d as (
      update deliveries set attempts = attempts + 1, last_attempt_at = now(), updated_at = now()
      where id = ${deliveryId} and lease_token = ${input.token}
        and not exists (select 1 from prior where recorded or cut or wait_ms > 0)
      returning id, connector_id, kind, attempts
    ), ${attemptOpened(deliveryId)}
    select started.*, prior.recorded as p_recorded, prior.delivered as p_delivered, prior.wait_ms as p_wait_ms,
      prior.cut as p_cut,
      d.connector_id as d_connector_id, d.kind as d_kind
    from prior left join d on true left join started on true`);
  const row = rows[0]!;
  if (row.p_recorded) return { status: 'recorded', delivered: Boolean(row.p_delivered) };
  if (row.p_cut) return { status: 'cut' };
  const waitMs = Number(row.p_wait_ms);
  if (waitMs > 0) return { status: 'settling', waitMs: Math.ceil(waitMs) };
  if (row.id === null || row.id === undefined)
    throw new Error(`delivery ${deliveryId} not found or its lease lost`);
  return {
    status: 'started',
    attempt: rowOf(deliveryAttempts, row),
    connectorId: String(row.d_connector_id),
    kind: String(row.d_kind),
  };
}

/** The attempt row's update, as a CTE of the statement that records what the attempt decided. */
export const finishAttemptCte = (f: FinishedAttempt | undefined) => sql`
  update delivery_attempts set
    outcome = ${f?.outcome ?? null},
    finished_at = ${f ? at(f.finishedAt) : null}::timestamptz,
    duration_ms = ${f ? (f.durationMs ?? f.finishedAt.getTime() - f.attempt.startedAt.getTime()) : null}::int,
    http_status = ${f?.httpStatus ?? null}::int,
    remote_code = ${f?.remoteCode ?? null},
    message = ${f?.message?.slice(0, 4000) ?? null},
    retryable = ${f?.retryable ?? null}::boolean,
    outcome_unknown = ${f?.outcomeUnknown ?? null}::boolean
  where id = ${f?.attempt.id ?? null}::bigint`;

/** The delivery's lease columns, cleared when `token` still holds it (SET clause fragment). */
export const releaseLeaseSet = (token: string | undefined) => sql`
  lease_token = case when lease_token = ${token ?? null} then null else lease_token end,
  lease_until = case when lease_token = ${token ?? null} then null else lease_until end`;

/**
 * An attempt that ended without delivering (or a notification's, recorded on its own): its row,
 * the delivery's last error unless it succeeded, and the lease released (`leaseToken`), together.
 */
export async function finishAttempt(
  db: Db,
  finished: FinishedAttempt,
  opts: { leaseToken?: string } = {},
): Promise<void> {
  const failed = finished.outcome !== 'succeeded';
  await db.execute(sql`
    with fin as (${finishAttemptCte(finished)})
    update deliveries set
      last_error = case when ${failed}::boolean then ${finished.message?.slice(0, 4000) ?? null} else last_error end,
      updated_at = case when ${failed}::boolean then ${at(finished.finishedAt)}::timestamptz else updated_at end,
      ${releaseLeaseSet(opts.leaseToken)}
    where id = ${finished.attempt.deliveryId} and (${failed}::boolean or ${opts.leaseToken ?? null}::text is not null)`);
}
