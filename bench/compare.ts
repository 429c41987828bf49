/**
 * "Before → after" of a tuning change: the headline figures of two results.json files side by
 * side (same bench, same machine, run one after the other). Rendered into RESULTS.md when the
 * run is given the earlier results (`BENCH_BEFORE=path/results.json`, or `render.ts --before`).
 */
import type { PhaseResult } from './phase.js';
import type { BenchResults } from './run.js';
import type { WebhookStep } from './scale.js';

type Row = [label: string, before: number | string | undefined, after: number | string | undefined];

const cpuMs = (p: PhaseResult | undefined, k: string) =>
  p && p.throughputPerSecond > 0
    ? Math.round((1000 * (p.coresUsed[k] ?? 0)) / p.throughputPerSecond)
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
