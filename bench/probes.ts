/**
 * What the bench observes besides latencies: CPU and memory of every process it started (from
 * /proc, Linux only), event-loop delay of the bench process, PostgreSQL counters and sizes, and
 * the size of the Temporal dev server's SQLite file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type postgres from 'postgres';
import { mib, round1, round2 } from './stats.js';

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process (all its threads), in seconds; undefined when it is gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based in proc(5)).
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Proportional set size (shared pages split between sharers): the fair memory of a process group. */
function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : statusKb(pid, 'VmRSS');
  } catch {
    return statusKb(pid, 'VmRSS');
  }
}

function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The postmaster's pid (first line of postmaster.pid) and its backends. */
export function postgresPids(dataDir: string): number[] {
  try {
    const postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
    return postmaster ? [postmaster, ...childrenOf(postmaster)] : [];
  } catch {
    return [];
  }
}

export type Component = 'bench' | 'temporal' | 'postgres' | 'fakes';

export interface ProcessSnapshot {
  at: number;
  cpu: Record<Component, number>;
  /** Busy CPU seconds of the whole machine (/proc/stat: everything but idle and iowait). */
  machineBusy: number;
}

function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
    return busy / CLK_TCK;
  } catch {
    return 0;
  }
}

/** CPU per component; memory: bench RSS, Temporal RSS, PostgreSQL PSS (shared buffers counted once). */
export class Processes {
  constructor(private readonly pids: Record<Component, () => number[]>) {}

  snapshot(): ProcessSnapshot {
    const cpu = {} as Record<Component, number>;
    for (const [name, pids] of Object.entries(this.pids) as [Component, () => number[]][]) {
      cpu[name] = pids().reduce((s, pid) => s + (cpuSeconds(pid) ?? 0), 0);
    }
    return { at: performance.now(), cpu, machineBusy: machineBusySeconds() };
  }

  /** Cores used per component between two snapshots (1.0 = one core busy all the time). */
  static coresUsed(a: ProcessSnapshot, b: ProcessSnapshot): Record<Component | 'machine' | 'others', number> {
    const seconds = (b.at - a.at) / 1000;
    const out = {} as Record<Component | 'machine' | 'others', number>;
    let ours = 0;
    for (const k of Object.keys(a.cpu) as Component[]) {
      // A backend that exited between snapshots takes its CPU time with it: never report < 0.
      const used = Math.max(0, (b.cpu[k] - a.cpu[k]) / seconds);
      ours += used;
      out[k] = round2(used);
    }
    // The whole machine (all processes, from /proc/stat), and what was not ours: other test suites etc.
    const machine = Math.max(0, (b.machineBusy - a.machineBusy) / seconds);
    out.machine = round2(machine);
    out.others = round2(Math.max(0, machine - ours));
    return out;
  }

  memoryMiB(): Record<Component, number> {
    const kb = (name: Component, f: (pid: number) => number) =>
      this.pids[name]().reduce((s, pid) => s + f(pid), 0);
    return {
      bench: mib(process.memoryUsage().rss),
      temporal: round1(kb('temporal', (p) => statusKb(p, 'VmRSS')) / 1024),
      postgres: round1(kb('postgres', pssKb) / 1024),
      fakes: round1(kb('fakes', (p) => statusKb(p, 'VmRSS')) / 1024),
    };
  }
}

/** Peak and last RSS of this process (API + worker + load generator), sampled every `everyMs`. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  peak = 0;
  last = 0;

  start(everyMs = 500): this {
    this.peak = 0;
    const sample = () => {
      this.last = process.memoryUsage().rss;
      this.peak = Math.max(this.peak, this.last);
    };
    sample();
    this.timer = setInterval(sample, everyMs);
    this.timer.unref();
    return this;
  }

  stop(): { peakMiB: number; endMiB: number } {
    clearInterval(this.timer);
    this.last = process.memoryUsage().rss;
    this.peak = Math.max(this.peak, this.last);
    return { peakMiB: mib(this.peak), endMiB: mib(this.last) };
  }
}

/** Event-loop delay of the bench process (API handlers, activities and the load generator share it). */
export function eventLoopDelay() {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return () => {
    h.disable();
    const ms = (ns: number) => round1(ns / 1e6);
    return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
  };
}

export interface PgCounters {
  xactCommit: number;
  tupInserted: number;
  tupUpdated: number;
  tupFetched: number;
}

export async function pgCounters(sql: postgres.Sql, database: string): Promise<PgCounters> {
  // Cumulative statistics are flushed by backends lazily; ask for a flush first (PostgreSQL ≥ 15).
  await sql`select pg_stat_force_next_flush()`.catch(() => undefined);
  const [row] = await sql<
    { xact_commit: string; tup_inserted: string; tup_updated: string; tup_fetched: string }[]
  >`
    select xact_commit, tup_inserted, tup_updated, tup_fetched from pg_stat_database where datname = ${database}`;
  return {
    xactCommit: Number(row?.xact_commit ?? 0),
    tupInserted: Number(row?.tup_inserted ?? 0),
    tupUpdated: Number(row?.tup_updated ?? 0),
    tupFetched: Number(row?.tup_fetched ?? 0),
  };
}

export interface TableStats {
  table: string;
  seqScan: number;
  seqTupRead: number;
  idxScan: number;
  inserted: number;
  updated: number;
}

export async function pgTableStats(sql: postgres.Sql): Promise<Map<string, TableStats>> {
  await sql`select pg_stat_force_next_flush()`.catch(() => undefined);
  const rows = await sql<
    {
      relname: string;
      seq_scan: string;
      seq_tup_read: string;
      idx_scan: string | null;
      n_tup_ins: string;
      n_tup_upd: string;
    }[]
  >`select relname, seq_scan, seq_tup_read, idx_scan, n_tup_ins, n_tup_upd from pg_stat_user_tables`;
  return new Map(
    rows.map((r) => [
      r.relname,
      {
        table: r.relname,
        seqScan: Number(r.seq_scan),
        seqTupRead: Number(r.seq_tup_read),
        idxScan: Number(r.idx_scan ?? 0),
        inserted: Number(r.n_tup_ins),
        updated: Number(r.n_tup_upd),
      },
    ]),
  );
}

/** Per-table activity between two snapshots, per item; tables with no activity left out. */
export function tableStatsDelta(
  a: Map<string, TableStats>,
  b: Map<string, TableStats>,
  items: number,
): TableStats[] {
  const per = (x: number) => round2(x / Math.max(1, items));
  const out: TableStats[] = [];
  for (const [name, after] of b) {
    const before = a.get(name);
    const d = {
      table: name,
      seqScan: per(after.seqScan - (before?.seqScan ?? 0)),
      seqTupRead: per(after.seqTupRead - (before?.seqTupRead ?? 0)),
      idxScan: per(after.idxScan - (before?.idxScan ?? 0)),
      inserted: per(after.inserted - (before?.inserted ?? 0)),
      updated: per(after.updated - (before?.updated ?? 0)),
    };
    if (d.seqScan || d.idxScan || d.inserted || d.updated) out.push(d);
  }
  return out.sort((x, y) => y.seqTupRead + y.idxScan - (x.seqTupRead + x.idxScan));
}

export async function pgDatabaseSizeMiB(sql: postgres.Sql, database: string): Promise<number> {
  const [row] = await sql<{ size: string }[]>`select pg_database_size(${database}) as size`;
  return mib(Number(row?.size ?? 0));
}

/** The SQLite file of the dev server with its WAL and shared-memory files. */
export function sqliteSizeMiB(file: string): { db: number; wal: number; total: number } {
  const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);
  const db = size(file);
  const wal = size(`${file}-wal`) + size(`${file}-shm`);
  return { db: mib(db), wal: mib(wal), total: mib(db + wal) };
}

export function machine() {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // not Linux
  }
  return {
    cpuModel,
    cores: cpus().length,
    memoryGiB: round1(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadAverage(),
  };
}

export const loadAverage = (): number[] => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
};
