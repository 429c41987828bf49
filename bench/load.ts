/**
 * Load shapes. Open loop: items fire at fixed intended times whatever happens to earlier ones
 * (latency is measured from the intended time, so a stalled generator or event loop counts
 * against the system, no coordinated omission). Closed loop: `inFlight` items are kept in
 * flight; each slot starts its next item as soon as its previous one finished (saturation).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** When an item was meant to start: monotonic (for durations) and wall clock (vs database timestamps). */
export interface Stamp {
  mono: number;
  wall: number;
}

export const stampNow = (): Stamp => ({ mono: performance.now(), wall: Date.now() });

export async function openLoop(opts: {
  rate: number;
  seconds: number;
  fire: (at: Stamp, index: number) => Promise<unknown>;
}): Promise<{ pending: Promise<unknown>[]; elapsedMs: number }> {
  const pending: Promise<unknown>[] = [];
  const startMono = performance.now();
  const startWall = Date.now();
  const total = Math.max(0, Math.floor(opts.rate * opts.seconds));
  const interval = 1000 / opts.rate;
  for (let i = 0; i < total; i++) {
    const offset = i * interval;
    const wait = startMono + offset - performance.now();
    if (wait > 1) await sleep(wait);
    const at = { mono: startMono + offset, wall: startWall + offset };
    pending.push(opts.fire(at, i).catch(() => undefined));
  }
  return { pending, elapsedMs: performance.now() - startMono };
}

export async function closedLoop(opts: {
  inFlight: number;
  /** Asked before each new item; false ends the slot. */
  keepGoing: () => boolean;
  run: (at: Stamp, index: number) => Promise<unknown>;
  /** Slots join one by one over this many ms, so they do not move in lockstep batches. */
  rampMs?: number;
}): Promise<{ started: number; elapsedMs: number }> {
  const start = performance.now();
  let index = 0;
  const slot = async (k: number) => {
    if (opts.rampMs) await sleep((k * opts.rampMs) / opts.inFlight);
    while (opts.keepGoing()) {
      const i = index++;
      await opts.run(stampNow(), i).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: opts.inFlight }, (_, k) => slot(k)));
  return { started: index, elapsedMs: performance.now() - start };
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/** Resolves with `p`, or with `fallback` once `ms` passed. */
export function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
