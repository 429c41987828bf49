/**
 * One measured phase (a path at a fixed offered load or at saturation): per-item samples, errors,
 * and the system around it (CPU per process, event-loop delay, RSS).
 */
import { closedLoop, openLoop, type Stamp, within } from './load.js';
import { eventLoopDelay, Processes, type ProcessSnapshot, RssSampler } from './probes.js';
import { threadCpuSeconds } from './profile.js';
import { sdkWarnings } from './stack.js';
import { type LatencySummary, round1, round2, summarize } from './stats.js';

/** What one item reports: its start-ack latency, its end-to-end latency and when it finished. */
export interface ItemOutcome {
  /** ms from the intended start to the start being acknowledged (HTTP 202 / StartWorkflow). */
  acceptMs: number;
  /** ms from the intended start to completion; undefined when it never completed. */
  e2eMs?: number;
  /** performance.now() at completion. */
  doneMono?: number;
}

export class ItemError extends Error {
  constructor(
    readonly kind: string,
    readonly acceptMs?: number,
  ) {
    super(kind);
  }
}

export type RunItem = (at: Stamp, index: number) => Promise<ItemOutcome>;

export interface PhaseResult {
  mode: 'fixed' | 'saturation';
  /** Items/s offered (fixed) or items kept in flight (saturation). */
  offered: number;
  /** Length of the measured window (saturation: the steady part after the ramp-up). */
  seconds: number;
  /** Saturation: seconds from the start until the steady window opened. */
  rampUpSeconds: number;
  sent: number;
  accepted: number;
  completed: number;
  errors: Record<string, number>;
  acceptLatencyMs: LatencySummary;
  e2eLatencyMs: LatencySummary;
  /** Accepted starts per second over the load window. */
  acceptedPerSecond: number;
  /** Completions per second (fixed: over first start → last completion; saturation: steady window). */
  throughputPerSecond: number;
  /** Fixed: seconds from the first intended start until the last completion (a burst's drain time). */
  lastCompletionSeconds?: number;
  /** Cores used per process over the phase (1.0 = one core fully busy). */
  coresUsed: Record<string, number>;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** This process: API + both workers + load generator. */
  rssMiB: { peakMiB: number; endMiB: number };
  /** Cores used by the bench process's threads, grouped. */
  benchThreadCores: Record<string, number>;
  /** Temporal SDK warnings during the phase (overload signs: slow or timed-out workflow tasks). */
  sdkWarnings: Record<string, number>;
}

export function warningsSince(before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(sdkWarnings)) if (v > (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}

interface Sample {
  startMono: number;
  outcome?: ItemOutcome;
  error?: string;
}

export async function runPhase(opts: {
  mode: 'fixed' | 'saturation';
  rate: number;
  inFlight: number;
  /** Fixed: load duration. Saturation: length of the steady window measured after the ramp-up. */
  seconds: number;
  /**
   * Saturation: slots join over this many seconds, and the steady window starts once it passed
   * AND `inFlight` items completed.
   */
  warmupSeconds: number;
  /** Saturation: longest steady window (it grows to 3 ramp-ups on a slow box). */
  maxWindowSeconds?: number;
  drainSeconds: number;
  processes: Processes;
  item: RunItem;
  /** Called when the drain deadline passed: unfinished items must settle now (as timeouts). */
  expire?: () => void;
}): Promise<PhaseResult> {
  const samples: Sample[] = [];
  const rss = new RssSampler().start();
  const loopDelay = eventLoopDelay();
  const loopStart = performance.now();
  const warningsBefore = { ...sdkWarnings };

  // The steady window: CPU is measured over it, throughput counted in it, latencies of items started in it.
  let windowStart: number | undefined;
  let windowEnd = Number.POSITIVE_INFINITY;
  let cpuBefore: ProcessSnapshot | undefined;
  let threadsBefore: Record<string, number> = {};
  let cpuAfter: ProcessSnapshot | undefined;
  let threadsAfter: Record<string, number> = {};
  const openWindow = (now: number, length: number) => {
    windowStart = now;
    windowEnd = now + length;
    cpuBefore = opts.processes.snapshot();
    threadsBefore = threadCpuSeconds();
  };
  const closeWindow = () => {
    if (cpuAfter) return;
    cpuAfter = opts.processes.snapshot();
    threadsAfter = threadCpuSeconds();
  };
  let completedCount = 0;
  // Closed loop from empty: the first `inFlight` items start together and finish together; the
  // window opens after they did (and after warmupSeconds), so it sees the steady state only.
  // The window lasts at least `seconds` and at least three ramp-ups (≈ three full turns of every
  // slot), capped by `maxWindowSeconds`: a slow box gets a longer window, not a meaningless one.
  const windowLength = (now: number) =>
    Math.min(Math.max(opts.seconds * 1000, 3 * (now - loopStart)), (opts.maxWindowSeconds ?? 120) * 1000);
  const maybeOpen = (now: number) => {
    if (
      windowStart === undefined &&
      completedCount >= opts.inFlight &&
      now >= loopStart + opts.warmupSeconds * 1000
    )
      openWindow(now, windowLength(now));
  };
  const giveUpOpening = loopStart + (opts.warmupSeconds + opts.drainSeconds) * 1000;

  const record = async (at: Stamp, index: number) => {
    const sample: Sample = { startMono: at.mono };
    samples.push(sample);
    try {
      sample.outcome = await opts.item(at, index);
      completedCount++;
    } catch (err) {
      sample.error =
        err instanceof ItemError ? err.kind : `exception: ${(err as Error).message.slice(0, 80)}`;
      if (err instanceof ItemError && err.acceptMs !== undefined) sample.outcome = { acceptMs: err.acceptMs };
    }
    if (opts.mode === 'saturation') maybeOpen(performance.now());
  };

  let drainTimer: NodeJS.Timeout | undefined;
  const armDrain = () => {
    drainTimer = setTimeout(() => opts.expire?.(), opts.drainSeconds * 1000);
  };
  if (opts.mode === 'fixed') {
    openWindow(loopStart, opts.seconds * 1000);
    const { pending } = await openLoop({ rate: opts.rate, seconds: opts.seconds, fire: record });
    windowEnd = performance.now();
    closeWindow();
    armDrain();
    await within(Promise.all(pending), opts.drainSeconds * 1000 + 5000, undefined);
  } else {
    await closedLoop({
      inFlight: opts.inFlight,
      keepGoing: () => {
        const now = performance.now();
        if (windowStart === undefined && now >= giveUpOpening) openWindow(now, windowLength(now));
        if (now < windowEnd) return true;
        if (!drainTimer) {
          closeWindow();
          armDrain();
        }
        return false;
      },
      run: record,
      rampMs: opts.warmupSeconds * 1000,
    });
  }
  clearTimeout(drainTimer);
  closeWindow();
  const from = windowStart!;
  const to = Math.min(windowEnd, performance.now());
  const steadySeconds = (to - from) / 1000;
  const benchThreadCores = Object.fromEntries(
    Object.entries(threadsAfter).map(([k, v]) => [
      k,
      round2(Math.max(0, v - (threadsBefore[k] ?? 0)) / steadySeconds),
    ]),
  );

  const measured = samples.filter((s) => s.startMono >= from && s.startMono <= to);
  const errors: Record<string, number> = {};
  for (const s of measured) if (s.error) errors[s.error] = (errors[s.error] ?? 0) + 1;
  const accepted = measured.filter((s) => s.outcome && !s.error);
  const done = measured.filter((s) => s.outcome?.e2eMs !== undefined);
  const completions = samples.flatMap((s) => (s.outcome?.doneMono !== undefined ? [s.outcome.doneMono] : []));

  let throughput: number;
  let lastCompletionSeconds: number | undefined;
  if (opts.mode === 'saturation') {
    throughput = completions.filter((t) => t >= from && t <= to).length / steadySeconds;
  } else {
    const last = Math.max(to, ...completions);
    throughput = completions.length / ((last - loopStart) / 1000);
    lastCompletionSeconds = round1((last - loopStart) / 1000);
  }

  return {
    mode: opts.mode,
    offered: opts.mode === 'fixed' ? opts.rate : opts.inFlight,
    seconds: round1(steadySeconds),
    rampUpSeconds: round1((from - loopStart) / 1000),
    sent: measured.length,
    accepted: accepted.length,
    completed: done.length,
    errors,
    acceptLatencyMs: summarize(measured.flatMap((s) => (s.outcome ? [s.outcome.acceptMs] : []))),
    e2eLatencyMs: summarize(done.map((s) => s.outcome!.e2eMs!)),
    acceptedPerSecond: round1(accepted.length / steadySeconds),
    throughputPerSecond: round2(throughput),
    lastCompletionSeconds,
    coresUsed: Processes.coresUsed(cpuBefore!, cpuAfter!),
    eventLoopDelayMs: loopDelay(),
    rssMiB: rss.stop(),
    benchThreadCores,
    sdkWarnings: warningsSince(warningsBefore),
  };
}
