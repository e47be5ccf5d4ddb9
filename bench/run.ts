/**
 * `npm run bench [-- --quick] [--only append64,query] [--trials 5] [--in-process]`
 *
 * Runs each benchmark of the suite sequentially, each in its own node process
 * (isolation: no JIT, heap or socket state carried from one to the next), and
 * writes bench/results/latest.json and bench/results/latest.md.
 */
import { Command } from 'commander';
import { join } from 'node:path';
import { BENCH_DIR, SUITE, loadBenchmark, machineInfo, runInChild, runInProcess, writeResults, type BenchOutcome } from './lib/harness';
import { gc } from './lib/stats';

async function main(): Promise<void> {
  const program = new Command()
    .name('bench')
    .description('Benchmark suite: ours next to its floor and a peer, in one run on one machine')
    .option('--quick', 'fewer trials and smaller sizes: the whole suite in under 3 minutes', false)
    .option('--only <names>', `comma-separated benchmarks to run (${SUITE.map((s) => s.name).join(', ')})`)
    .option('--trials <n>', 'trials per figure (each figure is their median); default 3, or 1 with --quick', (v) => {
      const n = Number.parseInt(v, 10);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--trials must be a positive integer, not ${v}`);
      return n;
    })
    .option('--in-process', 'run every benchmark in this process instead of one child process each', false)
    .option('--out <dir>', 'results directory', join(BENCH_DIR, 'results'));
  program.parse();
  const opts = program.opts<{ quick: boolean; only?: string; trials?: number; inProcess: boolean; out: string }>();

  const known = SUITE.map((s) => s.name);
  const names = opts.only ? opts.only.split(',').map((s) => s.trim()).filter(Boolean) : known;
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) program.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const trials = opts.trials ?? (opts.quick ? 1 : 3);
  const settings = { quick: opts.quick, trials };

  const started = Date.now();
  const outcomes: BenchOutcome[] = [];
  for (const name of names) {
    process.stderr.write(`▶ ${name}${opts.quick ? ' (quick)' : ''}, ${trials} trial(s)\n`);
    let outcome: BenchOutcome;
    if (opts.inProcess) {
      const bench = loadBenchmark(name);
      outcome = bench ? await runInProcess(bench, settings) : { name, description: '', status: 'missing', figures: {}, seconds: 0 };
      gc();
    } else {
      outcome = await runInChild(name, settings);
    }
    outcomes.push(outcome);
    if (outcome.status === 'ok') process.stderr.write(`✔ ${name} in ${outcome.seconds.toFixed(1)} s: ${JSON.stringify(outcome.figures)}\n`);
    else if (outcome.status === 'missing') process.stderr.write(`– ${name}: module missing, skipped\n`);
    else process.stderr.write(`✘ ${name} failed: ${outcome.error}\n`);
  }
  const report = { machine: machineInfo(opts.quick, trials), total_seconds: (Date.now() - started) / 1000, outcomes };
  const written = writeResults(opts.out, report);
  process.stderr.write(`wrote ${written.json} and ${written.md} (${report.total_seconds.toFixed(0)} s)\n`);
  process.exitCode = outcomes.some((o) => o.status === 'failed') ? 1 : 0;
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
