/**
 * resume: 1,000 live clients (200 with --quick) on one timeline disconnect,
 * 500 entries are recorded, then all reconnect at once and subscribe after
 * the last position they saw; catchup_ms is the time from the reconnect until
 * every client has received its 500 missed updates.
 *
 * catchup_ms is measured with `batch: true` in the subscribe, as our own client
 * (@timeline/client LiveFeed) resumes: the missed changes come as `updates`
 * messages of up to 500 updates. Then, on the same server, the clients go away
 * and come back once more without `batch` (one `update` message per change, as
 * a client that does not opt in gets): catchup_ms_unbatched.
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
  /** When every socket of the worker had its subscribe acknowledged. */
  subscribedAt: number;
  minReceived: number;
  maxReceived: number;
  duplicates: number;
}

interface TrialResult {
  batched: number;
  unbatched: number;
}

async function trial(clients: number, workerCount: number, workDir: string, log: (m: string) => void): Promise<TrialResult> {
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

    // Batched first (the headline figure), on the colder server; then unbatched.
    const batched = await awayAndBack(server, workers, base, clients, true, 100, log);
    const unbatched = await awayAndBack(server, workers, base, clients, false, 100 + MISSED, log);
    return { batched, unbatched };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The clients disconnect, MISSED entries are recorded, and they all reconnect at once: ms until every one has caught up. */
async function awayAndBack(
  server: Worker,
  workers: Worker[],
  base: string,
  clients: number,
  batch: boolean,
  firstIndex: number,
  log: (m: string) => void,
): Promise<number> {
  await Promise.all(workers.map((w) => w.request('disconnect')));
  await server.request('subscriptions', { count: 0, timeoutMs: 20_000 });

  let last = '';
  const indexes = Array.from({ length: MISSED }, (_, i) => i + firstIndex);
  const t = wallNow();
  await inPool(indexes, 16, async (i) => {
    const { written } = await recordEntry(base, SLUG, entryBody(i));
    if (written.position > last) last = written.position;
  });
  log(`  recorded ${MISSED} entries in ${Math.round(wallNow() - t)} ms while ${clients} clients were away`);

  // BENCH_RESUME_PROF=<dir>: CPU profiles of the server and each client worker during each reconnect
  // (resume-batched-server.cpuprofile, resume-batched-clients-0.cpuprofile, ...).
  const profileDir = process.env['BENCH_RESUME_PROF'];
  const profiled = [server, ...workers];
  if (profileDir) await Promise.all(profiled.map((w) => w.request('profile', { action: 'start' })));
  const cpu = () => Promise.all(profiled.map((w) => w.request<Answer & { user: number; system: number }>('cpu')));
  const cpuBefore = await cpu();
  const start = wallNow();
  const answers = await Promise.all(workers.map((w) => w.request<Reconnected>('reconnect', { last, batch, timeoutMs: 120_000 }, 150_000)));
  const cpuAfter = await cpu();
  // CPU seconds each process spent on the reconnect (server, then each client worker): where the 2 cores went.
  const cpuSpent = cpuAfter.map((a, i) => round((a.user + a.system - cpuBefore[i]!.user - cpuBefore[i]!.system) / 1e6, 2));
  if (profileDir) {
    for (const w of profiled) {
      const path = join(profileDir, `resume-${batch ? 'batched' : 'unbatched'}-${w.name.replace(/\W+/g, '-')}.cpuprofile`);
      await w.request('profile', { action: 'stop', path });
    }
  }
  const catchup = Math.max(...answers.map((a) => a.lastAt)) - start;
  const min = Math.min(...answers.map((a) => a.minReceived));
  const max = Math.max(...answers.map((a) => a.maxReceived));
  const duplicates = answers.reduce((n, a) => n + a.duplicates, 0);
  const how = batch ? 'batched' : 'unbatched';
  const subscribed = Math.max(...answers.map((a) => a.subscribedAt)) - start;
  log(
    `  ${clients} clients caught up (${how}) in ${round(catchup, 1)} ms (all subscribed after ${round(subscribed, 1)} ms); ` +
      `each received ${min}..${max} updates, ${duplicates} duplicates; CPU s: server ${cpuSpent[0]}, clients ${cpuSpent.slice(1).join(' + ')}`,
  );
  if (min !== MISSED || max !== MISSED || duplicates > 0) {
    throw new Error(`clients received ${min}..${max} updates (${duplicates} duplicates) instead of exactly ${MISSED} (${how})`);
  }
  return catchup;
}

export const resume: Benchmark = {
  name: 'resume',
  description:
    '1,000 live clients (200 with --quick; see `clients`) in worker processes reconnect at once, each 500 changes behind, and ' +
    'subscribe after their last position: ms from the reconnect until every client has all 500 updates (median over trials). ' +
    'catchup_ms: subscribing with `batch: true`, as @timeline/client resumes (the missed changes come as `updates` messages of at most ' +
    '500 updates or about 64 KB, here some 50 updates each); catchup_ms_unbatched: the same clients again without `batch` (one `update` message per change).',
  async run(options: BenchOptions): Promise<BenchFigures> {
    const clients = options.quick ? 200 : 1000;
    const workerCount = 2;
    const trials = Math.max(1, options.trials);
    const results: TrialResult[] = [];
    for (let i = 0; i < trials; i++) {
      options.log(`resume trial ${i + 1}/${trials}: ${clients} clients in ${workerCount} workers`);
      results.push(await trial(clients, workerCount, options.workDir, options.log));
    }
    return {
      clients,
      catchup_ms: round(median(results.map((r) => r.batched)), 1),
      catchup_ms_unbatched: round(median(results.map((r) => r.unbatched)), 1),
    };
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
