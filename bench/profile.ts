/**
 * Where the bench process spends its CPU: a sampling profile of the main thread (V8 inspector;
 * API handlers, activities, the Temporal core bridge's JS side, the load generator) grouped by
 * package / project directory, plus CPU per thread group from /proc (the workflow sandbox runs in
 * a worker thread, the Temporal core in Rust threads).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { CLK_TCK } from './probes.js';
import { round1 } from './stats.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ProfileSummary {
  seconds: number;
  /** Share of the main thread's busy samples (idle excluded), by package or project directory. */
  byGroup: { group: string; percent: number }[];
  /** Hottest functions by self time. */
  topFunctions: { fn: string; group: string; percent: number }[];
  /** Share of busy main-thread samples, of the whole phase wall time. */
  mainThreadBusyPercent: number;
}

const root = new URL('..', import.meta.url).href;

function groupOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return '(garbage collector)';
    if (functionName === '(program)') return '(program: native, unattributed)';
    if (functionName === '(idle)') return '(idle)';
    if (functionName.includes('::')) return 'Temporal core bridge (native)';
    return '(V8 / native built-ins: socket writes, microtasks, postMessage…)';
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return 'node (built-in modules)';
  if (url.startsWith(root)) {
    const rel = url.slice(root.length);
    return `escalate: ${rel.split('/')[0]}${rel.includes('/') ? '/' : ''}`;
  }
  return url.split('/').slice(-2).join('/');
}

export async function profileMainThread<T>(
  fn: () => Promise<T>,
  outFile?: string,
): Promise<{ result: T; summary: ProfileSummary }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  let result: T | undefined;
  let failure: unknown;
  try {
    result = await fn();
  } catch (err) {
    failure = err;
  }
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
  await session.post('Profiler.disable');
  session.disconnect();
  if (failure !== undefined) throw failure;
  if (outFile) writeFileSync(outFile, JSON.stringify(profile));

  const hits = new Map<string, number>();
  const fns = new Map<string, { group: string; hits: number }>();
  let busy = 0;
  let total = 0;
  for (const node of profile.nodes) {
    const n = node.hitCount ?? 0;
    if (!n) continue;
    total += n;
    const group = groupOf(node.callFrame);
    if (group === '(idle)') continue;
    busy += n;
    hits.set(group, (hits.get(group) ?? 0) + n);
    const { functionName, url, lineNumber } = node.callFrame;
    const key =
      `${functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-1)[0]}:${lineNumber + 1}` : ''}`.trim();
    const f = fns.get(key) ?? { group, hits: 0 };
    f.hits += n;
    fns.set(key, f);
  }
  const pct = (n: number) => round1((100 * n) / Math.max(1, busy));
  return {
    result: result as T,
    summary: {
      seconds: round1((profile.endTime - profile.startTime) / 1e6),
      mainThreadBusyPercent: round1((100 * busy) / Math.max(1, total)),
      byGroup: [...hits]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 15)
        .map(([group, n]) => ({ group, percent: pct(n) })),
      topFunctions: [...fns]
        .sort((a, b) => b[1].hits - a[1].hits)
        .slice(0, 15)
        .map(([fn, f]) => ({ fn, group: f.group, percent: pct(f.hits) })),
    },
  };
}

/** CPU seconds of this process's threads: the main thread, Rust/tokio threads, everything else. */
export function threadCpuSeconds(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
      const group =
        Number(tid) === process.pid
          ? 'main thread'
          : /tokio|temporal/i.test(comm)
            ? 'Temporal core (Rust)'
            : 'other threads (workflow sandbox, V8 GC/compiler, libuv)';
      out[group] = (out[group] ?? 0) + seconds;
    } catch {
      // thread gone
    }
  }
  return out;
}
