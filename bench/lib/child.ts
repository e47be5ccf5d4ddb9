/**
 * One benchmark in its own process: `node -r @swc-node/register bench/lib/child.ts <name> <outcome.json> <settings-json>`.
 * Writes the BenchOutcome to <outcome.json>, then exits (benchmarks may leave handles open).
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { loadBenchmark, runInProcess, type BenchOutcome, type RunSettings } from './harness';

async function main(): Promise<void> {
  const [name, out, settingsJson] = process.argv.slice(2);
  const settings = JSON.parse(settingsJson) as RunSettings;
  let outcome: BenchOutcome;
  try {
    const bench = loadBenchmark(name);
    outcome = bench
      ? await runInProcess(bench, settings)
      : { name, description: '', status: 'missing', figures: {}, seconds: 0 };
  } catch (error) {
    outcome = { name, description: '', status: 'failed', figures: {}, seconds: 0, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  writeFileSync(out, JSON.stringify(outcome));
  process.exit(0);
}

void main();
