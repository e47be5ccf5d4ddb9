/** Small statistics and timing helpers shared by the benchmarks. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs `trial` `trials` times (GC between when exposed) and returns the median of each figure. */
export async function medianOf(trials: number, trial: (index: number) => Promise<Record<string, number>>): Promise<Record<string, number>> {
  const runs: Array<Record<string, number>> = [];
  for (let i = 0; i < Math.max(1, trials); i++) {
    gc();
    runs.push(await trial(i));
  }
  const keys = new Set(runs.flatMap((r) => Object.keys(r)));
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = median(runs.map((r) => r[key]).filter((v) => typeof v === 'number'));
  return out;
}

/** Collects garbage when node runs with --expose-gc (the runner starts children that way). */
export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (typeof collect === 'function') collect();
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `writers` concurrent loops each calling `op(i)` until `durationMs` has passed;
 * returns completed operations per second. Failed operations throw.
 */
export async function closedLoop(writers: number, durationMs: number, op: (writer: number, i: number) => Promise<void>): Promise<number> {
  let done = 0;
  const start = nowMs();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      let i = 0;
      while (nowMs() < deadline) {
        await op(w, i++);
        done++;
      }
    }),
  );
  const elapsed = nowMs() - start;
  return (done / elapsed) * 1000;
}
