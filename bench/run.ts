/**
 * `npm run bench`: starts its own stack (bench/stack.ts), then in one run measures
 *   (a) a bare Temporal workflow with one no-op activity (same dev server, same Worker options),
 *   (b) escalate's full path: POST /v1/violations → ViolationWorkflow → one Jira ticket + one
 *       Splunk delivery, with every PostgreSQL write,
 * each at a fixed offered load and at saturation, then (c) a scale run with N open
 * TicketSyncWorkflows receiving status webhooks. Writes bench/RESULTS.md and bench/results.json.
 * Everything it started is stopped on exit, failure or Ctrl-C. Knobs: bench/config.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ticketWorkflowId, violationWorkflowId } from '../workflows/contract.js';
import { type Comparison, compare, tuningLog } from './compare.js';
import { type BenchConfig, benchConfig } from './config.js';
import { mapLimit, stampNow } from './load.js';
import { baselineItem, baselineSample, CompletionWatcher, escalateItem } from './paths.js';
import { type PhaseResult, type RunItem, runPhase } from './phase.js';
import {
  loadAverage,
  machine,
  pgCounters,
  pgDatabaseSizeMiB,
  pgTableStats,
  sqliteSizeMiB,
  type TableStats,
  tableStatsDelta,
} from './probes.js';
import { type ProfileSummary, profileMainThread } from './profile.js';
import { renderResults } from './report.js';
import { runScale, type ScaleResult } from './scale.js';
import { type BenchStack, DATABASE, say, startBenchStack } from './stack.js';
import { round1, round2 } from './stats.js';

export interface PathResults {
  fixed: PhaseResult;
  saturation: PhaseResult;
  /** History events and activities of one sampled run. */
  /**
   * One sampled run per workflow, keyed by role (`violationWorkflow`: the violation's run, whatever
   * its type). `type` and `localActivities` from runs after violationWorkflowV2.
   */
  history: Record<string, { events: number; activities: number; localActivities?: number; type?: string }>;
}

export interface EscalateExtras {
  /** Open-loop burst far above saturation (absent with BENCH_BURST_ITEMS=0). */
  burst?: PhaseResult & { items: number; rate: number };
  /** PostgreSQL work per violation (bench polling excluded). */
  postgresPerViolation: {
    transactions: number;
    rowsInserted: number;
    rowsUpdated: number;
    rowsFetched: number;
  };
  postgresTablesPerViolation: TableStats[];
  benchPollsPerViolation: number;
  fakes: { jiraIssues: number; jiraDuplicateCreates: number; splunkEvents: number };
  violations: number;
}

export interface BenchResults {
  date: string;
  commit: string;
  machine: ReturnType<typeof machine> & { loadAverageAtEnd: number[] };
  temporal: { cli: string; version: string };
  config: Omit<BenchConfig, 'only' | 'outDir'> & { only: string[] };
  /** The fixed offered load actually used (BENCH_RATE, or derived from the saturation runs). */
  fixedRate: number;
  workerOptions: Record<string, unknown>;
  layout: string;
  baseline?: PathResults;
  escalate?: PathResults & EscalateExtras;
  ratio?: { saturationThroughput: number; fixedE2eP50: number; fixedAcceptP50: number };
  scale?: ScaleResult;
  /** Main-thread CPU profile of an extra escalate saturation run. */
  profile?: ProfileSummary;
  final: { postgresDatabaseMiB: number; temporalDbMiB: { db: number; wal: number; total: number } };
  durationSeconds: number;
  /** Against an earlier run (BENCH_BEFORE=path/to/results.json, BENCH_CHANGE="what changed"). */
  comparison?: Comparison;
  /** Each change that stayed, from the runs kept in bench/tuning/ (steps.json). */
  tuningLog?: Comparison[];
}

const benchDir = resolve(import.meta.dirname);

async function historyOf(stack: BenchStack, workflowId: string) {
  const handle = stack.client.workflow.getHandle(workflowId);
  const [history, description] = await Promise.all([handle.fetchHistory(), handle.describe()]);
  const events = history.events ?? [];
  return {
    events: events.length,
    activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
    localActivities: events.filter(
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    ).length,
    type: description.type,
  };
}

async function warmUp(name: string, item: RunItem, count: number) {
  say(`${name}: warm-up (${count} items)`);
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    10,
    (i) => item(stampNow(), i).catch(() => undefined),
  );
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PathUnderTest {
  name: string;
  item: RunItem;
  expire?: () => void;
}

async function phase(
  path: PathUnderTest,
  stack: BenchStack,
  cfg: BenchConfig,
  mode: 'fixed' | 'saturation',
  rate: number,
): Promise<PhaseResult> {
  say(
    mode === 'fixed'
      ? `${path.name}: fixed offered load ${rate}/s for ${cfg.fixedSeconds} s`
      : `${path.name}: saturation (${cfg.saturationInFlight} in flight) for ${cfg.saturationSeconds} s`,
  );
  const result = await runPhase({
    mode,
    rate,
    inFlight: cfg.saturationInFlight,
    seconds: mode === 'fixed' ? cfg.fixedSeconds : cfg.saturationSeconds,
    warmupSeconds: cfg.saturationWarmupSeconds,
    maxWindowSeconds: cfg.saturationMaxSeconds,
    drainSeconds: cfg.drainSeconds,
    processes: stack.processes,
    item: path.item,
    expire: path.expire,
  });
  say(
    `${path.name} ${mode} → ${result.completed}/${result.sent} completed, ${result.throughputPerSecond}/s, ` +
      `accept p50 ${result.acceptLatencyMs.p50} ms, e2e p50/p99 ${result.e2eLatencyMs.p50}/${result.e2eLatencyMs.p99} ms` +
      `${Object.keys(result.errors).length ? `, errors ${JSON.stringify(result.errors)}` : ''}`,
  );
  await pause(2000);
  return result;
}

/** Fixed load when BENCH_RATE is unset: half the slower path's saturation throughput, 1..50/s. */
const autoRate = (saturation: number) => Math.min(50, Math.max(1, Math.floor(saturation / 2)));

async function main() {
  const began = performance.now();
  const cfg = benchConfig(benchDir);
  const info = machine();
  say(
    `machine: ${info.cpuModel}, ${info.cores} cores, ${info.memoryGiB} GiB, load ${info.loadAverage.join(' ')}`,
  );
  const stack = await startBenchStack({ temporalDb: cfg.temporalDb, workerOverrides: cfg.workerOverrides });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stack.stop();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping everything`);
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const watcher = new CompletionWatcher(stack.benchSql, cfg.pollMs).start();
  try {
    const results: BenchResults = {
      date: new Date().toISOString(),
      commit: gitCommit(),
      machine: { ...info, loadAverageAtEnd: [] },
      temporal: { cli: stack.temporalCli, version: stack.temporalVersion },
      config: (({ outDir: _outDir, ...rest }) => ({ ...rest, only: [...cfg.only] }))(cfg),
      fixedRate: 0,
      workerOptions: stack.workerOptions,
      layout:
        'one Node process runs the API (real HTTP), the escalate worker, the baseline worker and the load generator; ' +
        'the Temporal dev server, PostgreSQL and the fakes (Jira, Splunk HEC; zero latency) are separate processes',
      final: { postgresDatabaseMiB: 0, temporalDbMiB: { db: 0, wal: 0, total: 0 } },
      durationSeconds: 0,
    };

    const baseline: PathUnderTest | undefined = cfg.only.has('baseline')
      ? { name: 'baseline', item: baselineItem(stack.client, cfg.drainSeconds * 1000) }
      : undefined;
    const escalate: PathUnderTest | undefined = cfg.only.has('escalate')
      ? {
          name: 'escalate',
          item: escalateItem({ apiUrl: stack.apiUrl, apiKey: stack.apiKey, watcher }),
          expire: () => watcher.expire(),
        }
      : undefined;
    const countViolations = async () =>
      Number((await stack.benchSql<{ n: string }[]>`select count(*) as n from violations`)[0]?.n ?? 0);

    // Saturation first (it sets the automatic fixed rate), then both paths at the same fixed load.
    if (baseline) await warmUp(baseline.name, baseline.item, cfg.warmupItems);
    if (escalate) await warmUp(escalate.name, escalate.item, cfg.warmupItems);
    const v0 = await countViolations();
    const c0 = await pgCounters(stack.benchSql, DATABASE);
    const t0 = await pgTableStats(stack.benchSql);
    const polls0 = { polls: watcher.polls, rows: watcher.rowsLookedUp };
    const bSat = baseline && (await phase(baseline, stack, cfg, 'saturation', 0));
    const eSat = escalate && (await phase(escalate, stack, cfg, 'saturation', 0));
    const rate = cfg.rate === 'auto' ? autoRate((eSat ?? bSat)?.throughputPerSecond ?? 20) : cfg.rate;
    results.fixedRate = rate;
    const bFixed = baseline && (await phase(baseline, stack, cfg, 'fixed', rate));
    const eFixed = escalate && (await phase(escalate, stack, cfg, 'fixed', rate));

    if (baseline && bSat && bFixed) {
      results.baseline = {
        fixed: bFixed,
        saturation: bSat,
        history: { baselineWorkflow: await historyOf(stack, baselineSample.workflowId) },
      };
    }
    if (escalate && eSat && eFixed) {
      // Baseline phases in between write nothing to PostgreSQL: the deltas are escalate's.
      const c1 = await pgCounters(stack.benchSql, DATABASE);
      const t1 = await pgTableStats(stack.benchSql);
      const polls = watcher.polls - polls0.polls;
      const rows = watcher.rowsLookedUp - polls0.rows;
      const violations = (await countViolations()) - v0;
      const per = (x: number) => round2(x / Math.max(1, violations));
      const [last] = await stack.benchSql<{ event_id: string; ticket_id: string | null }[]>`
        select v.event_id, t.id as ticket_id from violations v left join tickets t on t.event_id = v.event_id
        where v.completed_at is not null order by v.completed_at desc limit 1`;
      const history: PathResults['history'] = {};
      if (last) history.violationWorkflow = await historyOf(stack, violationWorkflowId(last.event_id));
      if (last?.ticket_id)
        history.ticketSyncWorkflow = await historyOf(stack, ticketWorkflowId(last.ticket_id));
      results.escalate = {
        fixed: eFixed,
        saturation: eSat,
        history,
        violations,
        postgresPerViolation: {
          // Each bench poll and counters read is a transaction of its own; each poll fetches its ids.
          transactions: per(c1.xactCommit - c0.xactCommit - polls - 4),
          rowsInserted: per(c1.tupInserted - c0.tupInserted),
          rowsUpdated: per(c1.tupUpdated - c0.tupUpdated),
          rowsFetched: per(c1.tupFetched - c0.tupFetched - rows),
        },
        // The bench's completion polls are index scans on violations (left in: ≈ polls ÷ violations).
        postgresTablesPerViolation: tableStatsDelta(t0, t1, violations),
        benchPollsPerViolation: per(polls),
        fakes: await stack.fakes.stats(),
      };
    }
    if (escalate && results.escalate && cfg.burstItems > 0) {
      const seconds = cfg.burstItems / cfg.burstRate;
      say(
        `escalate: burst of ${cfg.burstItems} violations at ${cfg.burstRate}/s (open loop), then the drain`,
      );
      const burst = await runPhase({
        mode: 'fixed',
        rate: cfg.burstRate,
        inFlight: 0,
        seconds,
        warmupSeconds: 0,
        drainSeconds: cfg.burstDrainSeconds,
        processes: stack.processes,
        item: escalate.item,
        expire: escalate.expire,
      });
      say(
        `escalate burst → ${burst.completed}/${burst.sent} completed, accept p50/p99 ${burst.acceptLatencyMs.p50}/` +
          `${burst.acceptLatencyMs.p99} ms, drained after ${burst.lastCompletionSeconds} s` +
          `${Object.keys(burst.errors).length ? `, errors ${JSON.stringify(burst.errors)}` : ''}`,
      );
      results.escalate.burst = { ...burst, items: cfg.burstItems, rate: cfg.burstRate };
      await pause(2000);
    }
    if (escalate && cfg.profileSeconds > 0) {
      say(
        `escalate: ${cfg.profileSeconds} s more at saturation under the CPU profiler (not in the tables above)`,
      );
      mkdirSync(join(benchDir, 'out'), { recursive: true });
      const { summary } = await profileMainThread(
        () =>
          runPhase({
            mode: 'saturation',
            rate: 0,
            inFlight: cfg.saturationInFlight,
            seconds: cfg.profileSeconds,
            warmupSeconds: 2,
            maxWindowSeconds: cfg.profileSeconds,
            drainSeconds: cfg.drainSeconds,
            processes: stack.processes,
            item: escalate.item,
            expire: escalate.expire,
          }),
        join(benchDir, 'out', 'escalate-saturation.cpuprofile'),
      );
      results.profile = summary;
    }
    watcher.stop();

    if (results.baseline && results.escalate) {
      const b = results.baseline;
      const e = results.escalate;
      results.ratio = {
        saturationThroughput: round2(e.saturation.throughputPerSecond / b.saturation.throughputPerSecond),
        fixedE2eP50: round1(e.fixed.e2eLatencyMs.p50 / b.fixed.e2eLatencyMs.p50),
        fixedAcceptP50: round1(e.fixed.acceptLatencyMs.p50 / b.fixed.acceptLatencyMs.p50),
      };
    }

    if (cfg.only.has('scale') && cfg.tickets > 0) results.scale = await runScale(stack, cfg);

    results.final = {
      postgresDatabaseMiB: await pgDatabaseSizeMiB(stack.benchSql, DATABASE),
      temporalDbMiB: sqliteSizeMiB(stack.temporalDbFile),
    };
    results.machine.loadAverageAtEnd = loadAverage();
    results.durationSeconds = Math.round((performance.now() - began) / 1000);

    mkdirSync(cfg.outDir, { recursive: true });
    if (process.env.BENCH_BEFORE) {
      const before = JSON.parse(readFileSync(process.env.BENCH_BEFORE, 'utf8')) as BenchResults;
      results.comparison = compare(before, results, process.env.BENCH_CHANGE ?? '');
    }
    results.tuningLog = tuningLog(join(benchDir, 'tuning'));
    writeFileSync(join(cfg.outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(cfg.outDir, 'RESULTS.md'), renderResults(results));
    formatJson(join(cfg.outDir, 'results.json'));
    say(`wrote ${join(cfg.outDir, 'RESULTS.md')} and results.json (${results.durationSeconds} s)`);
  } finally {
    watcher.stop();
    say('stopping the stack');
    await stop();
  }
}

/** results.json is committed: leave it as `biome check` wants it (best effort). */
function formatJson(file: string) {
  try {
    execFileSync(join(benchDir, '..', 'node_modules', '.bin', 'biome'), ['format', '--write', file], {
      stdio: 'ignore',
    });
  } catch {
    // biome missing: the file is still valid JSON
  }
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: benchDir, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
    process.exit(1);
  },
);
