/**
 * "Before → after" of a tuning change: the headline figures of two results.json files side by
 * side (same bench, same machine, run one after the other). Rendered into RESULTS.md when the
 * run is given the earlier results (`BENCH_BEFORE=path/results.json`, or `render.ts --before`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PhaseResult } from './phase.js';
import type { BenchResults } from './run.js';
import type { WebhookStep } from './scale.js';

type Row = [label: string, before: number | string | undefined, after: number | string | undefined];

const cpuMs = (p: PhaseResult | undefined, k: string) =>
  p && p.throughputPerSecond > 0
    ? Math.round((1000 * (p.coresUsed[k] ?? 0)) / p.throughputPerSecond)
    : undefined;

const cpuTotal = (p: PhaseResult | undefined) =>
  p && p.throughputPerSecond > 0
    ? Math.round(
        (1000 * ['bench', 'temporal', 'postgres', 'fakes'].reduce((t, k) => t + (p.coresUsed[k] ?? 0), 0)) /
          p.throughputPerSecond,
      )
    : undefined;

const steps = (r: BenchResults): WebhookStep[] =>
  !r.scale
    ? []
    : Array.isArray(r.scale.webhooks)
      ? r.scale.webhooks
      : [r.scale.webhooks as unknown as WebhookStep];

function change(before: Row[1], after: Row[2]): string {
  if (typeof before !== 'number' || typeof after !== 'number' || before === 0) return '';
  const pct = Math.round((100 * (after - before)) / before);
  return `${pct > 0 ? '+' : ''}${pct}%`;
}

export function compareRows(before: BenchResults, after: BenchResults): Row[] {
  const rows: Row[] = [
    [
      '(a) bare Temporal, saturation throughput /s',
      before.baseline?.saturation.throughputPerSecond,
      after.baseline?.saturation.throughputPerSecond,
    ],
    [
      '(b) escalate, saturation throughput /s',
      before.escalate?.saturation.throughputPerSecond,
      after.escalate?.saturation.throughputPerSecond,
    ],
    ['**ratio (b)/(a)**', before.ratio?.saturationThroughput, after.ratio?.saturationThroughput],
    [
      '(b) fixed load: e2e p50 ms',
      before.escalate?.fixed.e2eLatencyMs.p50,
      after.escalate?.fixed.e2eLatencyMs.p50,
    ],
    [
      '(b) fixed load: e2e p99 ms',
      before.escalate?.fixed.e2eLatencyMs.p99,
      after.escalate?.fixed.e2eLatencyMs.p99,
    ],
    [
      '(b) fixed load: accept p99 ms',
      before.escalate?.fixed.acceptLatencyMs.p99,
      after.escalate?.fixed.acceptLatencyMs.p99,
    ],
    [
      'violationWorkflow history events',
      before.escalate?.history.violationWorkflow?.events,
      after.escalate?.history.violationWorkflow?.events,
    ],
    [
      'violationWorkflow activity tasks',
      before.escalate?.history.violationWorkflow?.activities,
      after.escalate?.history.violationWorkflow?.activities,
    ],
    [
      'PostgreSQL transactions per violation',
      before.escalate?.postgresPerViolation.transactions,
      after.escalate?.postgresPerViolation.transactions,
    ],
    [
      'Temporal server CPU ms per violation',
      cpuMs(before.escalate?.saturation, 'temporal'),
      cpuMs(after.escalate?.saturation, 'temporal'),
    ],
    [
      'API+worker CPU ms per violation',
      cpuMs(before.escalate?.saturation, 'bench'),
      cpuMs(after.escalate?.saturation, 'bench'),
    ],
    [
      'CPU ms per violation, all our processes (saturation)',
      cpuTotal(before.escalate?.saturation),
      cpuTotal(after.escalate?.saturation),
    ],
    [
      'CPU ms per bare workflow, all our processes (saturation)',
      cpuTotal(before.baseline?.saturation),
      cpuTotal(after.baseline?.saturation),
    ],
    [
      'other processes on the box, cores (bare saturation; noise)',
      before.baseline?.saturation.coresUsed.others,
      after.baseline?.saturation.coresUsed.others,
    ],
    [
      'other processes on the box, cores (escalate saturation; noise)',
      before.escalate?.saturation.coresUsed.others,
      after.escalate?.saturation.coresUsed.others,
    ],
    [
      'ticketSyncWorkflow history events (sampled after creation)',
      before.escalate?.history.ticketSyncWorkflow?.events,
      after.escalate?.history.ticketSyncWorkflow?.events,
    ],
    [
      'burst: accept p50 ms',
      before.escalate?.burst?.acceptLatencyMs.p50,
      after.escalate?.burst?.acceptLatencyMs.p50,
    ],
    [
      'burst: accept p99 ms',
      before.escalate?.burst?.acceptLatencyMs.p99,
      after.escalate?.burst?.acceptLatencyMs.p99,
    ],
    [
      'burst: errors',
      before.escalate?.burst && Object.values(before.escalate.burst.errors).reduce((a, b) => a + b, 0),
      after.escalate?.burst && Object.values(after.escalate.burst.errors).reduce((a, b) => a + b, 0),
    ],
    [
      'burst: drained after s',
      before.escalate?.burst?.lastCompletionSeconds,
      after.escalate?.burst?.lastCompletionSeconds,
    ],
    [
      'API+worker RSS peak MiB (saturation)',
      before.escalate?.saturation.rssMiB.peakMiB,
      after.escalate?.saturation.rssMiB.peakMiB,
    ],
  ];
  if (before.scale && after.scale) {
    rows.push(
      ['(c) TicketSyncWorkflows started /s', before.scale.startsPerSecond, after.scale.startsPerSecond],
      ['(c) started within the budget', before.scale.ticketsStarted, after.scale.ticketsStarted],
      ['(c) seconds until all armed', before.scale.armedSeconds, after.scale.armedSeconds],
      [
        '(c) backlog of workflow tasks when arming ended',
        before.scale.backlogAtArmEnd.workflow,
        after.scale.backlogAtArmEnd.workflow,
      ],
    );
    const bs = before.scale.stormWebhooks;
    const as = after.scale.stormWebhooks;
    if (bs || as)
      rows.push(
        [
          '(c) storm webhooks: applied of sent',
          bs && `${bs.applied}/${bs.sent}`,
          as && `${as.applied}/${as.sent}`,
        ],
        ['(c) storm webhooks: p50 ms', bs?.latencyMs.p50, as?.latencyMs.p50],
        ['(c) storm webhooks: p99 ms', bs?.latencyMs.p99, as?.latencyMs.p99],
      );
    rows.push([
      '(c) API+worker RSS KiB per cached ticket workflow',
      before.scale.rssPerCachedWorkflowKiB,
      after.scale.rssPerCachedWorkflowKiB,
    ]);
    const b = steps(before);
    const a = steps(after);
    for (const step of a) {
      const prior = b.find((s) => s.rate === step.rate);
      rows.push(
        [
          `(c) webhooks ${step.rate}/s: applied of sent`,
          prior && `${prior.applied}/${prior.sent}`,
          `${step.applied}/${step.sent}`,
        ],
        [`(c) webhooks ${step.rate}/s: p50 ms`, prior?.latencyMs.p50, step.latencyMs.p50],
        [`(c) webhooks ${step.rate}/s: p99 ms`, prior?.latencyMs.p99, step.latencyMs.p99],
      );
    }
  }
  return rows;
}

/** What RESULTS.md shows of a comparison; stored in results.json so it can be rendered again. */
export interface Comparison {
  change: string;
  before: { commit: string; date: string; loadAverage: number[] };
  rows: Row[];
}

export function compare(before: BenchResults, after: BenchResults, change: string): Comparison {
  return {
    change,
    before: { commit: before.commit, date: before.date, loadAverage: before.machine.loadAverage },
    rows: compareRows(before, after).filter(([, b, a]) => b !== undefined || a !== undefined),
  };
}

/** One step of the tuning log (bench/tuning/steps.json): a change and the two runs around it. */
export interface TuningStep {
  change: string;
  commits: string[];
  /** The code the before run measured (a run records HEAD; a change was measured before its commit). */
  beforeCode: string;
  before: string;
  after: string;
}

/** The tuning log: each change that stayed, measured by the runs kept in bench/tuning/. */
export function tuningLog(dir: string): Comparison[] {
  const index = join(dir, 'steps.json');
  if (!existsSync(index)) return [];
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as BenchResults;
  return (JSON.parse(readFileSync(index, 'utf8')) as TuningStep[]).map((s) => {
    const c = compare(
      read(s.before),
      read(s.after),
      `${s.change} (${s.commits.map((x) => `\`${x}\``).join(', ')})`,
    );
    return { ...c, before: { ...c.before, commit: s.beforeCode } };
  });
}

export function renderTuningLog(log: Comparison[]): string[] {
  if (!log.length) return [];
  return [
    '## Tuning log: before → after, one change at a time',
    '',
    'Each change that stayed, measured by two bench runs one after the other on this shared box ' +
      '(raw results in [tuning/](tuning/), settings in each file). Other test suites ran at the same ' +
      'time: throughput moves with them, so compare the CPU per item and the ratio (both paths in the ' +
      'same run), and mind the "other processes" row.',
    '',
    ...log.flatMap((c) => [
      `### ${c.change}`,
      '',
      `Before: the code of \`${c.before.commit}\` (run of ${c.before.date}, load average ${c.before.loadAverage.join(' / ')}); after: the change, the next run.`,
      '',
      '| figure | before | after | change |',
      '| --- | ---: | ---: | ---: |',
      ...c.rows.map(([label, b, a]) => `| ${label} | ${b ?? 'n/a'} | ${a ?? 'n/a'} | ${change(b, a)} |`),
      '',
    ]),
  ];
}

export function renderComparison(c: Comparison): string[] {
  return [
    '## Tuning: before → after',
    '',
    `${c.change} Before: commit \`${c.before.commit}\` (${c.before.date}, load average at start ${c.before.loadAverage.join(' / ')}); ` +
      'after: this run. Same bench settings, same machine, one run after the other.',
    '',
    '| figure | before | after | change |',
    '| --- | ---: | ---: | ---: |',
    ...c.rows.map(([label, b, a]) => `| ${label} | ${b ?? 'n/a'} | ${a ?? 'n/a'} | ${change(b, a)} |`),
    '',
  ];
}
