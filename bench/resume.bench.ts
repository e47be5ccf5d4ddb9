/**
 * resume: 1,000 live clients (200 with --quick) on one timeline disconnect,
 * 500 entries are recorded, then all reconnect at once and subscribe after
 * the last position they saw; catchup_ms is the time from the reconnect until
 * every client has received its 500 missed updates.
 *
 * Run alone: node -r @swc-node/register bench/resume.bench.ts --quick
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchFigures, BenchOptions } from './lib/bench';
import { entryBody, forkWorker, inPool, median, openTimeline, recordEntry, round, split, wallNow, type Answer, type Worker } from './workers/protocol';

const MISSED = 500;
const SLUG = 'resume-bench';

interface Reconnected extends Answer {
  lastAt: number;
  minReceived: number;
  maxReceived: number;
  duplicates: number;
}

async function trial(clients: number, workerCount: number, workDir: string, log: (m: string) => void): Promise<number> {
  const dataDir = mkdtempSync(join(workDir, 'resume-'));
  const server = forkWorker('server.ts', ['ours', dataDir], 'ours server');
  const workers: Worker[] = [];
  try {
    const { port } = await server.request<Answer & { port: number }>('start', {}, 60_000);
    const base = `http://127.0.0.1:${port}`;
    await openTimeline(base, SLUG);
    // A few changes the clients have already seen, so `after` is an entry's position.
    for (let i = 0; i < 5; i++) await recordEntry(base, SLUG, entryBody(i));

    const counts = split(clients, workerCount);
    for (const [i] of counts.entries()) workers.push(forkWorker('clients.ts', [], `clients ${i}`));
    await Promise.all(workers.map((w, i) => w.request('connect', { url: base, timeline: SLUG, count: counts[i] }, 120_000)));
    await server.request('subscriptions', { count: clients, timeoutMs: 10_000 });

    await Promise.all(workers.map((w) => w.request('disconnect')));
    await server.request('subscriptions', { count: 0, timeoutMs: 20_000 });

    let last = '';
    const indexes = Array.from({ length: MISSED }, (_, i) => i + 100);
    const t = wallNow();
    await inPool(indexes, 16, async (i) => {
      const { written } = await recordEntry(base, SLUG, entryBody(i));
      if (written.position > last) last = written.position;
    });
    log(`  recorded ${MISSED} entries in ${Math.round(wallNow() - t)} ms while ${clients} clients were away`);

    const start = wallNow();
    const answers = await Promise.all(workers.map((w) => w.request<Reconnected>('reconnect', { last, timeoutMs: 120_000 }, 150_000)));
    const catchup = Math.max(...answers.map((a) => a.lastAt)) - start;
    const min = Math.min(...answers.map((a) => a.minReceived));
    const max = Math.max(...answers.map((a) => a.maxReceived));
    const duplicates = answers.reduce((n, a) => n + a.duplicates, 0);
    log(`  ${clients} clients caught up in ${round(catchup, 1)} ms; each received ${min}..${max} updates, ${duplicates} duplicates`);
    if (min !== MISSED || max !== MISSED || duplicates > 0) {
      throw new Error(`clients received ${min}..${max} updates (${duplicates} duplicates) instead of exactly ${MISSED}`);
    }
    return catchup;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const resume: Benchmark = {
  name: 'resume',
  description:
    '1,000 live clients (200 with --quick; see `clients`) in worker processes reconnect at once, each 500 changes behind, and ' +
    'subscribe after their last position: ms from the reconnect until every client has all 500 updates (median over trials).',
  async run(options: BenchOptions): Promise<BenchFigures> {
    const clients = options.quick ? 200 : 1000;
    const workerCount = 2;
    const trials = Math.max(1, options.trials);
    const results: number[] = [];
    for (let i = 0; i < trials; i++) {
      options.log(`resume trial ${i + 1}/${trials}: ${clients} clients in ${workerCount} workers`);
      results.push(await trial(clients, workerCount, options.workDir, options.log));
    }
    return { clients, catchup_ms: round(median(results), 1) };
  },
};

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const trialsArg = process.argv.indexOf('--trials');
  const trials = trialsArg > 0 ? Math.max(1, Number(process.argv[trialsArg + 1]) || 1) : quick ? 1 : 3;
  const workDir = mkdtempSync(join(tmpdir(), 'bench-resume-'));
  const started = Date.now();
  resume
    .run({ quick, trials, workDir, log: (m) => console.error(m) })
    .then(
      (figures) => {
        console.log(JSON.stringify({ resume: figures, seconds: Math.round((Date.now() - started) / 100) / 10 }, null, 2));
      },
      (error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      },
    )
    .finally(() => rmSync(workDir, { recursive: true, force: true }));
}
