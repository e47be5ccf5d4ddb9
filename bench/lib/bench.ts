/**
 * The contract between the bench runner (bench/run.ts) and each benchmark
 * (bench/<name>.bench.ts). A benchmark measures ours, the floor (the bare
 * library) and, where there is one, a peer, side by side in one run, and
 * returns medians over repeated trials: only ratios within one run compare
 * across runs on these noisy machines.
 */
export interface BenchOptions {
  /** `npm run bench -- --quick`: fewer trials and smaller sizes; the whole suite under 3 minutes. */
  quick: boolean;
  /** Repeated trials per measurement; each figure is their median. */
  trials: number;
  /** Scratch space for data files; removed by the runner afterwards. */
  workDir: string;
  log(message: string): void;
  /**
   * Optional size overrides (e.g. { durationMs: 200, events: 1000 }) for smoke
   * tests; each benchmark documents the keys it reads and ignores the rest.
   */
  overrides?: Record<string, number>;
}

/** Figures keyed as in bench/results/latest.json, e.g. { ours_eps: 21000, floor_eps: 40000, peer_eps: 6000 }. */
export type BenchFigures = Record<string, number>;

export interface Benchmark {
  /** The key in latest.json: append64, http_record, query, fanout, rebuild, resume. */
  name: string;
  /** One line on what is measured, for latest.md. */
  description: string;
  run(options: BenchOptions): Promise<BenchFigures>;
}
