/** Every knob of `npm run bench`, read once from the environment (defaults: a run of ≈ 6–8 min). */

/** The HEC token the fake Splunk accepts and the bench's Splunk connector sends. */
export const SPLUNK_TOKEN = 'bench-hec-token';

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${raw} is not a non-negative number`);
  return n;
};

export interface BenchConfig {
  /**
   * Fixed offered load (starts or POSTs per second) for (a) and (b). Unset: half of escalate's
   * measured saturation throughput (so the fixed load stays below both paths' capacity on any box).
   */
  rate: number | 'auto';
  /** Seconds at the fixed offered load. */
  fixedSeconds: number;
  /**
   * Seconds of steady state measured at saturation (closed loop, `saturationInFlight` items kept in
   * flight); the window opens once the first `saturationInFlight` items completed and at least
   * `saturationWarmupSeconds` passed.
   */
  saturationSeconds: number;
  saturationInFlight: number;
  saturationWarmupSeconds: number;
  /** Longest steady window at saturation (on a slow box it grows to three ramp-ups, up to this). */
  saturationMaxSeconds: number;
  /** Items pushed through each path before measuring (JIT, caches, connection pools). */
  warmupItems: number;
  /** Longest wait for in-flight items to finish after a phase. */
  drainSeconds: number;
  /**
   * Burst: `burstItems` violations offered open-loop at `burstRate`/s (far above saturation):
   * accept latency, errors, and the time until the backlog drained (at most `burstDrainSeconds`).
   * 0 items: no burst phase.
   */
  burstItems: number;
  burstRate: number;
  burstDrainSeconds: number;
  /** (c): open TicketSyncWorkflows, start concurrency, webhook rate and duration. */
  tickets: number;
  ticketStartConcurrency: number;
  /** Webhook rates (per second), one step each: BENCH_WEBHOOK_RATE=10,20. */
  webhookRates: number[];
  webhookSeconds: number;
  /**
   * The storm: status webhooks at this rate (per second, for `webhookSeconds`) while the ticket
   * workflows are still being started, from the moment a tenth of them were (0: none).
   */
  stormWebhookRate: number;
  /** Skip parts: `BENCH_ONLY=baseline,escalate,scale` (default all). */
  only: Set<'baseline' | 'escalate' | 'scale'>;
  /**
   * Temporal dev server persistence: `memory` (default) or `file` (SQLite file in the temp dir, its
   * size reported; every commit waits for fsync, which on a slow virtual disk dominates everything).
   */
  temporalDb: 'file' | 'memory';
  /** Stop starting scale-run workflows after this many seconds (keeps a run on a busy box bounded). */
  ticketStartBudgetSeconds: number;
  /** Longest wait for the started TicketSyncWorkflows to sit idle on their timers. */
  armTimeoutSeconds: number;
  /** Seconds of an extra, unreported escalate saturation run under the CPU profiler (0: none). */
  profileSeconds: number;
  /** How often the completion watcher polls PostgreSQL (ms). */
  pollMs: number;
  /**
   * Experiments: JSON merged over the Worker options createWorker passes (both workers), e.g.
   * `{"maxConcurrentWorkflowTaskPolls":20}`. Unset for the committed results.
   */
  workerOverrides: Record<string, unknown>;
  /** Where RESULTS.md and results.json go. */
  outDir: string;
}

export function benchConfig(outDir: string): BenchConfig {
  const only = (process.env.BENCH_ONLY ?? 'baseline,escalate,scale')
    .split(',')
    .map((s) => s.trim())
    .filter((s): s is 'baseline' | 'escalate' | 'scale' => ['baseline', 'escalate', 'scale'].includes(s));
  return {
    rate: process.env.BENCH_RATE ? num('BENCH_RATE', 10) : 'auto',
    fixedSeconds: num('BENCH_FIXED_SECONDS', 20),
    saturationSeconds: num('BENCH_SATURATION_SECONDS', 20),
    saturationInFlight: Math.max(1, Math.round(num('BENCH_SATURATION_IN_FLIGHT', 20))),
    saturationWarmupSeconds: num('BENCH_SATURATION_WARMUP_SECONDS', 5),
    saturationMaxSeconds: num('BENCH_SATURATION_MAX_SECONDS', 90),
    warmupItems: Math.round(num('BENCH_WARMUP', 30)),
    drainSeconds: num('BENCH_DRAIN_SECONDS', 90),
    burstItems: Math.round(num('BENCH_BURST_ITEMS', 1000)),
    burstRate: Math.max(1, num('BENCH_BURST_RATE', 100)),
    burstDrainSeconds: num('BENCH_BURST_DRAIN_SECONDS', 400),
    tickets: Math.round(num('BENCH_TICKETS', 10_000)),
    ticketStartConcurrency: Math.max(1, Math.round(num('BENCH_TICKET_START_CONCURRENCY', 50))),
    webhookRates: (process.env.BENCH_WEBHOOK_RATE ?? '10,20')
      .split(',')
      .map((r) => Number(r.trim()))
      .filter((r) => Number.isFinite(r) && r > 0),
    webhookSeconds: num('BENCH_WEBHOOK_SECONDS', 30),
    stormWebhookRate: num('BENCH_STORM_WEBHOOK_RATE', 10),
    only: new Set(only),
    temporalDb: process.env.BENCH_TEMPORAL_DB === 'file' ? 'file' : 'memory',
    ticketStartBudgetSeconds: num('BENCH_TICKET_START_BUDGET_SECONDS', 150),
    armTimeoutSeconds: num('BENCH_ARM_TIMEOUT_SECONDS', 90),
    profileSeconds: num('BENCH_PROFILE_SECONDS', 10),
    pollMs: Math.max(5, num('BENCH_POLL_MS', 100)),
    workerOverrides: process.env.BENCH_WORKER_OPTIONS
      ? (JSON.parse(process.env.BENCH_WORKER_OPTIONS) as Record<string, unknown>)
      : {},
    outDir: process.env.BENCH_OUT_DIR ?? outDir,
  };
}
