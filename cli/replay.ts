/**
 * `escalate replay`: asks the API to replay the deliveries a filter selects (a Temporal replay
 * workflow on the server), then follows `GET /v1/replays/{id}` until it completes, with a progress
 * bar on a terminal or plain progress lines otherwise, and ends with a summary.
 */
import cliProgress from 'cli-progress';
import { NetworkError } from './client.js';
import { deliveryTable } from './commands.js';
import type { Ctx, ExitCode } from './context.js';
import { plural, table } from './format.js';
import { toTimestamp } from './time.js';
import type { ReplayDryRun, ReplayStarted, ReplayStatus } from './types.js';

export interface ReplayOptions {
  status: string;
  connector?: string;
  since?: string;
  until?: string;
  eventId?: string[];
  dryRun?: boolean;
}

export const POLL_INTERVAL_MS = 500;
/** Plain progress lines (no TTY) are printed on change, and at least this often otherwise. */
const PLAIN_HEARTBEAT_MS = 10_000;
/** Network errors tolerated in a row while polling before giving up (exit 2). */
const POLL_NETWORK_RETRIES = 5;

export function replayBody(opts: ReplayOptions, now: Date) {
  return {
    filter: {
      status: opts.status,
      connector_id: opts.connector,
      since: opts.since === undefined ? undefined : toTimestamp(opts.since, now),
      until: opts.until === undefined ? undefined : toTimestamp(opts.until, now),
      event_ids: opts.eventId && opts.eventId.length > 0 ? opts.eventId : undefined,
    },
    dry_run: opts.dryRun === true,
  };
}

export async function replay(ctx: Ctx, opts: ReplayOptions): Promise<ExitCode> {
  const body = replayBody(opts, ctx.now());
  if (body.dry_run) {
    const res = await ctx.client.post<ReplayDryRun>('/v1/deliveries:replay', body);
    if (ctx.json) {
      ctx.printJson(res);
      return 0;
    }
    const deliveries = res.deliveries ?? [];
    if (deliveries.length > 0) ctx.out(deliveryTable(deliveries));
    ctx.out(`${plural(res.total ?? deliveries.length, 'delivery', 'deliveries')} would be replayed`);
    return 0;
  }

  const started = await ctx.client.post<ReplayStarted>('/v1/deliveries:replay', body);
  const id = started.replay_id;
  ctx.note(
    `replay ${id} started: ${plural(started.total ?? 0, 'delivery', 'deliveries')}` +
      (started.workflow_id ? ` (workflow ${started.workflow_id})` : ''),
  );

  const progress = ctx.json || !ctx.io.stderr.isTTY ? plainProgress(ctx, id) : barProgress(ctx);
  let interrupted = false;
  const removeInterrupt = ctx.io.onInterrupt(() => {
    interrupted = true;
  });

  let status: ReplayStatus | undefined;
  try {
    progress.start(started.total ?? 0);
    let networkFailures = 0;
    for (;;) {
      try {
        status = await ctx.client.get<ReplayStatus>(`/v1/replays/${encodeURIComponent(id)}`);
        networkFailures = 0;
      } catch (err) {
        if (!(err instanceof NetworkError) || ++networkFailures > POLL_NETWORK_RETRIES) throw err;
      }
      if (status) progress.update(status);
      if (status && !isRunning(status)) break;
      if (interrupted) break;
      await ctx.io.sleep(POLL_INTERVAL_MS);
      if (interrupted) break;
    }
  } finally {
    progress.stop();
    removeInterrupt();
  }

  if (interrupted && (!status || isRunning(status))) {
    ctx.note(
      `interrupted: replay ${id} goes on on the server` +
        (started.workflow_id ? ` (workflow ${started.workflow_id})` : '') +
        `; follow it with GET /v1/replays/${id}`,
    );
    return 130;
  }
  // The loop only ends without an interrupt once a status says the replay is over.
  const final = status!;
  if (ctx.json) {
    ctx.printJson(final);
  } else {
    printSummary(ctx, final);
  }
  if (final.status !== 'completed') {
    ctx.note(`error: replay ${id} ended with status ${final.status}`);
    return 1;
  }
  return (final.failed ?? 0) > 0 ? 1 : 0;
}

const isRunning = (s: ReplayStatus) => s.status === 'running' || s.status === 'pending';

function printSummary(ctx: Ctx, s: ReplayStatus): void {
  ctx.out(`Replay ${s.id}: ${s.status}`);
  ctx.out(
    table(
      ['succeeded', 'failed', 'skipped', 'total'],
      [[s.succeeded ?? 0, s.failed ?? 0, s.skipped ?? 0, s.total ?? 0]],
    ),
  );
  const failed = (s.items ?? []).filter((i) => i.outcome === 'failed');
  if (failed.length > 0) {
    ctx.out('Failed deliveries');
    ctx.out(
      table(
        ['delivery', 'connector', 'event_id', 'error'],
        failed.map((i) => [i.delivery_id, i.connector_id, i.event_id, i.error ?? '-']),
      ),
    );
  }
}

interface Progress {
  start(total: number): void;
  update(status: ReplayStatus): void;
  stop(): void;
}

const counts = (s: ReplayStatus) =>
  `${s.succeeded ?? 0} succeeded, ${s.failed ?? 0} failed, ${s.skipped ?? 0} skipped`;

/** A cli-progress bar on stderr (a terminal, without `--json`). */
function barProgress(ctx: Ctx): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: ctx.io.stderr,
      format:
        'replay [{bar}] {value}/{total} | {succeeded} ok, {failed} failed, {skipped} skipped | {duration_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total) => bar.start(total, 0, { succeeded: 0, failed: 0, skipped: 0 }),
    update: (s) => {
      if (s.total !== undefined) bar.setTotal(s.total);
      bar.update(s.done ?? 0, {
        succeeded: s.succeeded ?? 0,
        failed: s.failed ?? 0,
        skipped: s.skipped ?? 0,
      });
    },
    stop: () => bar.stop(),
  };
}

/** Plain lines on stderr when there is no terminal (CI, pipes) or with `--json`. */
function plainProgress(ctx: Ctx, id: string): Progress {
  let lastLine = '';
  let lastAt = 0;
  return {
    start: () => {},
    update: (s) => {
      const line = `replay ${id}: ${s.done ?? 0}/${s.total ?? 0} done (${counts(s)})`;
      const now = Date.now();
      if (line !== lastLine || now - lastAt >= PLAIN_HEARTBEAT_MS) {
        ctx.note(line);
        lastLine = line;
        lastAt = now;
      }
    },
    stop: () => {},
  };
}
