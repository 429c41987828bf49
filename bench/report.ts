/** Renders bench/RESULTS.md from the results object (the same data as results.json). */
import { renderComparison, renderTuningLog } from './compare.js';
import type { PhaseResult } from './phase.js';
import type { BenchResults } from './run.js';
import type { WebhookStep } from './scale.js';
import type { LatencySummary } from './stats.js';

const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

const lat = (s: LatencySummary) => [s.p50, s.p95, s.p99];
const errs = (e: Record<string, number>) => {
  const total = Object.values(e).reduce((a, b) => a + b, 0);
  return total === 0
    ? '0'
    : `${total} (${Object.entries(e)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; ')})`;
};

function phaseRow(name: string, p: PhaseResult): (string | number)[] {
  const offered =
    p.mode === 'fixed'
      ? `${p.offered}/s for ${p.seconds} s`
      : `${p.offered} in flight; ${p.seconds} s steady after ${p.rampUpSeconds} s ramp-up`;
  return [
    name,
    offered,
    p.sent,
    p.completed,
    errs(p.errors),
    ...lat(p.acceptLatencyMs),
    ...lat(p.e2eLatencyMs),
    `**${p.throughputPerSecond}**`,
  ];
}

function resourceRow(name: string, p: PhaseResult): (string | number)[] {
  return [
    name,
    p.coresUsed.bench ?? 0,
    p.coresUsed.temporal ?? 0,
    p.coresUsed.postgres ?? 0,
    p.coresUsed.fakes ?? 0,
    p.coresUsed.others ?? 0,
    p.eventLoopDelayMs.p99,
    p.eventLoopDelayMs.max,
    p.rssMiB.peakMiB,
    p.rssMiB.endMiB,
    errs(p.sdkWarnings ?? {}),
  ];
}

/** CPU ms per completed item at saturation over all our processes, and the ratio it implies. */
export function cpuRatio(r: BenchResults) {
  if (!r.baseline || !r.escalate) return undefined;
  const ms = (p: PhaseResult) => {
    const c = p.coresUsed;
    const cores = (c.bench ?? 0) + (c.temporal ?? 0) + (c.postgres ?? 0) + (c.fakes ?? 0);
    return p.throughputPerSecond > 0 ? (1000 * cores) / p.throughputPerSecond : Number.NaN;
  };
  const b = ms(r.baseline.saturation);
  const e = ms(r.escalate.saturation);
  return { baselineMs: Math.round(b), escalateMs: Math.round(e), ratio: Math.round((100 * b) / e) / 100 };
}

export function renderResults(r: BenchResults): string {
  const m = r.machine;
  const file = r.config.temporalDb === 'file';
  const out: string[] = [];
  out.push(
    '# Benchmark results',
    '',
    `Produced by \`npm run bench\` (bench/run.ts) on ${r.date} at commit \`${r.commit}\`, in ${r.durationSeconds} s. ` +
      'Raw numbers: [results.json](results.json). Timings are measurements of this run on this machine, ' +
      'not guarantees; re-run to compare.',
    '',
    ...(r.comparison ? renderComparison(r.comparison) : []),
    ...renderTuningLog(r.tuningLog ?? []),
    '## Machine',
    '',
    table(
      ['', ''],
      [
        ['CPU', m.cpuModel],
        ['Cores', m.cores],
        ['Memory', `${m.memoryGiB} GiB`],
        ['Node.js', m.node],
        ['OS', m.platform],
        [
          'Temporal',
          `${r.temporal.version} (dev server, headless, ${r.config.temporalDb === 'file' ? 'SQLite file' : 'in-memory SQLite'})`,
        ],
        ['Load average (1/5/15 min) at start', m.loadAverage.join(' / ')],
        ['Load average at end', m.loadAverageAtEnd.join(' / ')],
      ],
    ),
    '',
    '> Shared machine: other test suites (vitest with their own Temporal dev server and PostgreSQL)',
    '> may have been running during this run; the load average above shows how busy the box was.',
    '> Everything below competes for the same cores, so absolute figures are pessimistic; the',
    '> ratio (b)/(a) is the robust number, both paths being measured in the same run on the same stack.',
    '',
    '## Setup',
    '',
    `- Layout: ${r.layout}.`,
    ...(Object.keys(r.config.workerOverrides).length
      ? [
          `- **Experiment**: BENCH_WORKER_OPTIONS=\`${JSON.stringify(r.config.workerOverrides)}\` merged over createWorker's options (both workers).`,
        ]
      : []),
    '- (a) baseline: `baselineWorkflow` (bench/baseline-workflows.ts) = one no-op activity, own bundle, own task queue, ' +
      'a worker created with **the very options `createWorker` passes to `Worker.create`** (captured at startup): ' +
      `\`${JSON.stringify(r.workerOptions)}\`. Start = \`client.workflow.start\` acknowledged; end-to-end = \`handle.result()\` returned.`,
    '- (b) escalate: `POST /v1/violations` over HTTP with an admin key (undici `request` on keep-alive connections: ' +
      "the load generator shares the process, and the baseline's client is Temporal's Rust one); one Jira connector (fake Jira Cloud v3) and one " +
      'Splunk HEC connector (fake), production retry defaults; every event has its own user, so none correlate and each ' +
      'opens its own Jira issue (and its TicketSyncWorkflow with an SLA timer). Accept = HTTP 202 received; end-to-end = ' +
      "the violation's `completed_at` (written by the workflow's last activity after both targets are done) minus the " +
      'intended send time; completion found by one batched PostgreSQL poll ' +
      `every ${r.config.pollMs} ms for all items in flight.`,
    `- Fixed offered load: open loop at ${r.fixedRate}/s ` +
      `(${r.config.rate === 'auto' ? "BENCH_RATE unset: half of escalate's saturation throughput, so both paths run below capacity" : 'BENCH_RATE'}) ` +
      `for ${r.config.fixedSeconds} s, latency measured from the ` +
      `intended start (no coordinated omission). Saturation: closed loop with ${r.config.saturationInFlight} items ` +
      `in flight (slots join over ${r.config.saturationWarmupSeconds} s); after the ramp-up (${r.config.saturationInFlight} ` +
      `items done, at least ${r.config.saturationWarmupSeconds} s) a steady window is measured, ${r.config.saturationSeconds} s ` +
      `or three ramp-ups if longer (at most ${r.config.saturationMaxSeconds} s): throughput = ` +
      'completions in the window, percentiles = items started in it, CPU = over it (at saturation, latency ≈ ' +
      'in-flight ÷ throughput: it is queueing, not service time). Order: (a) saturation, (b) saturation, (a) fixed, (b) fixed, (b) burst, (c). ' +
      `${r.config.warmupItems} warm-up items per path before measuring.`,
    '',
  );

  if (r.baseline || r.escalate) {
    const rows: (string | number)[][] = [];
    if (r.baseline) {
      rows.push(phaseRow('(a) baseline, fixed', r.baseline.fixed));
      rows.push(phaseRow('(a) baseline, saturation', r.baseline.saturation));
    }
    if (r.escalate) {
      rows.push(phaseRow('(b) escalate, fixed', r.escalate.fixed));
      rows.push(phaseRow('(b) escalate, saturation', r.escalate.saturation));
    }
    out.push(
      '## (a) bare Temporal vs (b) escalate',
      '',
      table(
        [
          'path, load',
          'offered',
          'sent',
          'completed',
          'errors',
          'accept p50 ms',
          'accept p95',
          'accept p99',
          'e2e p50 ms',
          'e2e p95',
          'e2e p99',
          'completed/s',
        ],
        rows,
      ),
      '',
    );
    if (r.ratio) {
      out.push(
        `**Ratio (b)/(a) of saturation throughput: ${r.ratio.saturationThroughput}** ` +
          `(escalate ${r.escalate!.saturation.throughputPerSecond} violations/s vs ` +
          `${r.baseline!.saturation.throughputPerSecond} bare workflows/s). ` +
          `At the fixed load, escalate's end-to-end p50 is ${r.ratio.fixedE2eP50}× the baseline's and its accept p50 ` +
          `${r.ratio.fixedAcceptP50}×.`,
        '',
      );
      const othersA = r.baseline!.saturation.coresUsed.others ?? 0;
      const othersB = r.escalate!.saturation.coresUsed.others ?? 0;
      if (Math.abs(othersA - othersB) > 0.3)
        out.push(
          `**Caution**: other processes on the box took ${othersA} cores during (a)'s saturation window and ` +
            `${othersB} during (b)'s, so this throughput ratio is skewed ${othersA > othersB ? 'in escalate’s favour' : 'against escalate'}; ` +
            'the CPU-per-item ratio below does not depend on them.',
          '',
        );
      const cpu = cpuRatio(r);
      if (cpu) {
        out.push(
          `CPU per item at saturation, all our processes together (API+worker, Temporal, PostgreSQL, fakes): ` +
            `${cpu.baselineMs} ms per bare workflow, ${cpu.escalateMs} ms per violation, so on a dedicated CPU-bound ` +
            `box the throughput ratio would be ≈ **${cpu.ratio}**. This figure does not depend on what else runs on ` +
            'the machine (throughput does: see "other processes" below).',
          '',
        );
      }
    }
    const burst = r.escalate?.burst;
    if (burst) {
      out.push(
        '### Burst absorption',
        '',
        `${burst.items} violations offered open-loop at ${burst.rate}/s (far above saturation: the backlog ` +
          'queues in Temporal, not in the API), after the phases above; accept latency measured from the ' +
          'intended send time; drain = from the first send until the last violation completed.',
        '',
        table(
          [
            'sent',
            'accepted (202)',
            'completed',
            'errors',
            'accept p50 ms',
            'accept p95',
            'accept p99',
            'accept max',
            'drain s',
            'e2e p99 ms',
          ],
          [
            [
              burst.sent,
              burst.accepted,
              burst.completed,
              errs(burst.errors),
              ...lat(burst.acceptLatencyMs),
              burst.acceptLatencyMs.max,
              burst.lastCompletionSeconds ?? '',
              burst.e2eLatencyMs.p99,
            ],
          ],
        ),
        '',
      );
    }
    out.push(
      '### Resources during each phase',
      '',
      'Cores used = CPU seconds ÷ wall seconds per process (2.0 would be both cores of a 2-core box); ' +
        '"other processes" = the whole machine (/proc/stat) minus ours: what concurrent test suites took. ' +
        '"bench" is the one Node process with API + both workers + load generator; its RSS is ' +
        '`process.memoryUsage().rss`, i.e. API + worker together (same process).',
      '',
    );
    const res: (string | number)[][] = [];
    if (r.baseline) {
      res.push(
        resourceRow('(a) fixed', r.baseline.fixed),
        resourceRow('(a) saturation', r.baseline.saturation),
      );
    }
    if (r.escalate) {
      res.push(
        resourceRow('(b) fixed', r.escalate.fixed),
        resourceRow('(b) saturation', r.escalate.saturation),
        ...(r.escalate.burst ? [resourceRow('(b) burst', r.escalate.burst)] : []),
      );
    }
    out.push(
      table(
        [
          'phase',
          'cores: bench',
          'Temporal',
          'PostgreSQL',
          'fakes',
          'other processes on the box',
          'event-loop delay p99 ms',
          'max ms',
          'API+worker RSS peak MiB',
          'at end MiB',
          'Temporal SDK warnings',
        ],
        res,
      ),
      '',
    );
  }

  if (r.escalate || r.baseline) {
    out.push('### Work per item', '');
    const rows: (string | number)[][] = [];
    for (const [name, h] of Object.entries({ ...r.baseline?.history, ...r.escalate?.history })) {
      rows.push([
        h.type && h.type !== name ? `${name} (${h.type})` : name,
        h.events,
        h.activities,
        h.localActivities ?? 'n/a',
      ]);
    }
    out.push(
      table(['workflow (one sampled run)', 'history events', 'activities', 'local activities'], rows),
      '',
    );
    if (r.escalate) {
      const p = r.escalate.postgresPerViolation;
      out.push(
        `Per violation (over the ${r.escalate.violations} violations of the measured escalate phases, bench polling excluded): ` +
          `${p.transactions} PostgreSQL transactions (statements outside a transaction count one each), ` +
          `${p.rowsInserted} rows inserted, ${p.rowsUpdated} rows updated, ${p.rowsFetched} rows fetched. ` +
          `Fakes at the end: ${r.escalate.fakes.jiraIssues} Jira issues (${r.escalate.fakes.jiraDuplicateCreates} ` +
          `idempotency keys created more than once), ${r.escalate.fakes.splunkEvents} Splunk HEC events.`,
        '',
      );
      out.push(
        'PostgreSQL activity per violation by table (`pg_stat_user_tables` deltas ÷ violations; ' +
          `includes the bench's completion polls on \`violations\`, ≈ ${r.escalate.benchPollsPerViolation} index scans per violation):`,
        '',
        table(
          ['table', 'seq scans', 'rows read by seq scans', 'index scans', 'inserted', 'updated'],
          r.escalate.postgresTablesPerViolation.map((t) => [
            t.table,
            t.seqScan,
            t.seqTupRead,
            t.idxScan,
            t.inserted,
            t.updated,
          ]),
        ),
        '',
      );
    }
    const phases: [string, PhaseResult | undefined][] = [
      ['(a) saturation', r.baseline?.saturation],
      ['(b) saturation', r.escalate?.saturation],
    ];
    const groups = [...new Set(phases.flatMap(([, p]) => Object.keys(p?.benchThreadCores ?? {})))];
    out.push(
      'Cores used by the bench process, by thread:',
      '',
      table(
        ['phase', ...groups],
        phases
          .filter(([, p]) => p)
          .map(([name, p]) => [name, ...groups.map((g) => p!.benchThreadCores[g] ?? 0)]),
      ),
      '',
    );
    const cpuPer = (p: PhaseResult | undefined, k: string) =>
      p && p.throughputPerSecond > 0
        ? Math.round((1000 * (p.coresUsed[k] ?? 0)) / p.throughputPerSecond)
        : NaN;
    if (r.baseline && r.escalate) {
      const b = r.baseline.saturation;
      const e = r.escalate.saturation;
      out.push(
        'CPU milliseconds per completed item at saturation (cores ÷ throughput):',
        '',
        table(
          ['per item', 'bench process (API + worker)', 'Temporal server', 'PostgreSQL', 'fakes'],
          [
            [
              '(a) bare workflow',
              cpuPer(b, 'bench'),
              cpuPer(b, 'temporal'),
              cpuPer(b, 'postgres'),
              cpuPer(b, 'fakes'),
            ],
            [
              '(b) violation',
              cpuPer(e, 'bench'),
              cpuPer(e, 'temporal'),
              cpuPer(e, 'postgres'),
              cpuPer(e, 'fakes'),
            ],
          ],
        ),
        '',
      );
    }
  }

  if (r.profile) {
    const p = r.profile;
    out.push(
      '### Profile of the API + worker process (escalate at saturation)',
      '',
      `A separate ${p.seconds} s escalate saturation run under the V8 sampling profiler (main thread only; ` +
        `the workflow sandbox thread and the Rust core are not in it). Main thread busy ${p.mainThreadBusyPercent}% ` +
        'of the samples. Shares below are of the busy samples (self time). Full profile: ' +
        '`bench/out/escalate-saturation.cpuprofile` (open in Chrome DevTools; not committed).',
      '',
      table(
        ['package / directory', '% self'],
        p.byGroup.map((g) => [g.group, g.percent]),
      ),
      '',
      table(
        ['hottest functions', 'where', '% self'],
        p.topFunctions.map((f) => [`\`${f.fn.replace(/\|/g, '\\|')}\``, f.group, f.percent]),
      ),
      '',
    );
  }

  if (r.scale) {
    const s = r.scale;
    // Results written before webhook steps existed had one object.
    const steps = Array.isArray(s.webhooks) ? s.webhooks : [s.webhooks as unknown as WebhookStep];
    out.push(
      '## (c) Scale: open TicketSyncWorkflows and status webhooks',
      '',
      `${s.tickets} ticket rows inserted into PostgreSQL (${s.insertSeconds} s), then ${s.tickets} ` +
        '`ticketSyncWorkflow` started by the client as `createTicket` starts it (search attributes, summary, and the ' +
        'ticket row just recorded, so the run needs no load); each sleeps on its start delay until its SLA deadline (4 h): no workflow task until then. Signed `POST /v1/webhooks/itsm` ' +
        '`{external_ticket_id, status: "in_progress"}` at fixed rates, each to a distinct ticket: lookup by external id, ' +
        'Temporal Update-with-start `setStatus` (validator + `recordTransition` local activity: ticket row, ticket_events, audit in one transaction).',
      '',
      table(
        ['', ''],
        [
          [
            'Workflows started',
            `${s.ticketsStarted} of ${s.tickets} (${s.startErrors} errors${s.ticketsStarted + s.startErrors < s.tickets ? `; start budget of ${r.config.ticketStartBudgetSeconds} s ran out` : ''})`,
          ],
          ['Start rate', `${s.startsPerSecond}/s over ${s.startSeconds} s`],
          ['Start latency p50 / p95 / p99 ms', lat(s.startLatencyMs).join(' / ')],
          [
            `All armed (a sample of ${s.armedSample} idle on their timer) after`,
            `${s.armedSeconds} s${
              s.armedComplete
                ? ''
                : ` (not all: the arm timeout of ${r.config.armTimeoutSeconds} s passed with a backlog of ` +
                  `${s.backlogAtArmEnd.workflow} workflow + ${s.backlogAtArmEnd.activity} activity tasks, which the webhooks below queue behind)`
            }`,
          ],
          [
            'Cores while starting and arming: bench / Temporal / PostgreSQL / other processes',
            `${s.creationCores.bench} / ${s.creationCores.temporal} / ${s.creationCores.postgres} / ${s.creationCores.others ?? '?'}`,
          ],
          [
            'API+worker RSS per cached TicketSyncWorkflow (slope over the scale run; webhooks wake and cache them)',
            s.rssPerCachedWorkflowKiB !== undefined && s.rssPerCachedWorkflowKiB > 0
              ? `≈ ${s.rssPerCachedWorkflowKiB} KiB`
              : `n/a (${s.rssPerCachedWorkflowKiB ?? 'no'} KiB: garbage collection outweighed the cache's growth; see the tuning log's scale run)`,
          ],
          ['Temporal SDK warnings while arming', errs(s.creationWarnings ?? {})],
        ],
      ),
      '',
      'Webhook steps, each on tickets no earlier webhook touched. "During the storm": sent while the workflows ' +
        'were still being started (from the moment a tenth of them were), to tickets whose workflow had started. ' +
        "The others: one after the other once armed; most of their tickets are not in the worker's workflow cache, " +
        "so each Update first replays its ticket's short history:",
      '',
      table(
        [
          'webhooks',
          'sent',
          'applied',
          'errors',
          '**p50 ms**',
          'p95',
          '**p99 ms**',
          'max',
          'cores: bench / Temporal / PG / others',
          'event-loop p99 ms',
          'SDK warnings',
        ],
        [
          ...(s.stormWebhooks
            ? [
                {
                  ...s.stormWebhooks,
                  label: `during the storm (${s.stormWebhooks.startedAtBegin} → ${s.stormWebhooks.startedAtEnd} started): ${s.stormWebhooks.rate}/s for ${s.stormWebhooks.seconds} s`,
                },
              ]
            : []),
          ...steps.map((w) => ({ ...w, label: `${w.rate}/s for ${w.seconds} s` })),
        ].map((w) => [
          w.label,
          w.sent,
          w.applied,
          errs(w.errors),
          `**${w.latencyMs.p50}**`,
          w.latencyMs.p95,
          `**${w.latencyMs.p99}**`,
          w.latencyMs.max,
          `${w.coresUsed.bench} / ${w.coresUsed.temporal} / ${w.coresUsed.postgres} / ${w.coresUsed.others ?? '?'}`,
          w.eventLoopDelayMs.p99,
          errs(w.sdkWarnings ?? {}),
        ]),
      ),
      '',
      table(
        ['footprint', 'after arming', 'after webhooks'],
        [
          [
            'API+worker RSS MiB (process.memoryUsage().rss, same process)',
            s.afterArming.workerRssMiB,
            s.afterWebhooks.workerRssMiB,
          ],
          ['API+worker peak RSS MiB', s.afterArming.peakWorkerRssMiB, s.afterWebhooks.peakWorkerRssMiB],
          [
            'Worker cached workflows (maxCachedWorkflows)',
            s.afterArming.cachedWorkflows,
            s.afterWebhooks.cachedWorkflows,
          ],
          [
            'Temporal dev server RSS MiB',
            s.afterArming.temporalServerRssMiB,
            s.afterWebhooks.temporalServerRssMiB,
          ],
          file
            ? [
                'Temporal SQLite file MiB (db + wal)',
                `${s.afterArming.temporalDbMiB.db} + ${s.afterArming.temporalDbMiB.wal}`,
                `${s.afterWebhooks.temporalDbMiB.db} + ${s.afterWebhooks.temporalDbMiB.wal}`,
              ]
            : [
                'Temporal DB',
                'in memory: inside the dev server RSS above (BENCH_TEMPORAL_DB=file for a file size)',
                '',
              ],
          [
            'PostgreSQL `pg_database_size` MiB',
            s.afterArming.postgresDatabaseMiB,
            s.afterWebhooks.postgresDatabaseMiB,
          ],
          ['PostgreSQL processes PSS MiB', s.afterArming.postgresPssMiB, s.afterWebhooks.postgresPssMiB],
        ],
      ),
      '',
      'The footprint includes everything earlier phases left behind (their violations, deliveries, tickets and ' +
        'their open TicketSyncWorkflows).',
      '',
    );
  }

  out.push(
    '## Final sizes',
    '',
    `PostgreSQL database: ${r.final.postgresDatabaseMiB} MiB; Temporal: ` +
      (file
        ? `SQLite file ${r.final.temporalDbMiB.db} MiB (+ ${r.final.temporalDbMiB.wal} MiB WAL).`
        : 'in memory (BENCH_TEMPORAL_DB=file reports its file size).'),
    '',
    '## Reproduce',
    '',
    '```sh',
    'npm run bench                        # defaults',
    `BENCH_RATE=${r.fixedRate} BENCH_FIXED_SECONDS=${r.config.fixedSeconds} BENCH_SATURATION_SECONDS=${r.config.saturationSeconds} \\`,
    `  BENCH_SATURATION_IN_FLIGHT=${r.config.saturationInFlight} BENCH_TICKETS=${r.config.tickets} \\`,
    `  BENCH_WEBHOOK_RATE=${(r.config.webhookRates ?? []).join(',')} BENCH_WEBHOOK_SECONDS=${r.config.webhookSeconds} \\`,
    `  BENCH_TICKET_START_BUDGET_SECONDS=${r.config.ticketStartBudgetSeconds} BENCH_ARM_TIMEOUT_SECONDS=${r.config.armTimeoutSeconds} \\`,
    `  BENCH_BURST_ITEMS=${r.config.burstItems ?? 0} BENCH_BURST_RATE=${r.config.burstRate ?? 100} BENCH_STORM_WEBHOOK_RATE=${r.config.stormWebhookRate ?? 0} \\`,
    `  BENCH_TEMPORAL_DB=${r.config.temporalDb} npm run bench`,
    'BENCH_ONLY=baseline,escalate npm run bench   # skip the scale run',
    '```',
    '',
    'All knobs: bench/config.ts. The bench starts and stops its own Temporal dev server, PostgreSQL and fakes in a temp dir.',
    '',
  );
  return out.join('\n');
}
