/**
 * fanout: N socket.io clients (2,000; 500 with --quick) subscribed to one
 * timeline while 25 entries/s are recorded; latency from the record's 201 to
 * each client's receipt of the update, and server memory per connection.
 * Floor: a plain socket.io server broadcasting the same payload to a room.
 *
 * Run alone: node -r @swc-node/register bench/fanout.bench.ts --quick
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import type { Benchmark, BenchFigures, BenchOptions } from './lib/bench';
import {
  entryBody,
  forkWorker,
  median,
  openTimeline,
  percentile,
  publishPaced,
  recordEntry,
  round,
  split,
  wallNow,
  type Answer,
  type Worker,
} from './workers/protocol';

const RATE_PER_S = 25;
export const WARMUP_S = 1;
const SLUG = 'fanout-bench';

/** How many clients, in how many worker processes, for how long (shared with sse-fanout.bench.ts). */
export interface Sizes {
  clients: number;
  workers: number;
  windowS: number;
}

interface PhaseResult {
  p50: number;
  p99: number;
  heapPerConn: number;
  rssPerConn: number;
  deliveries: number;
  missing: number;
  duplicates: number;
  updateBytes: number;
}

interface Mem extends Answer {
  rss: number;
  heapUsed: number;
  external: number;
  gc: boolean;
}

type Update = { timeline: string; position: string; type: string; entry: Record<string, unknown> };

export function sizesFor(quick: boolean): Sizes {
  return quick ? { clients: 500, workers: 2, windowS: 4 } : { clients: 2000, workers: 4, windowS: 10 };
}

/** One phase: a server (ours or floor), N clients in worker processes, 25 records/s. */
async function phase(
  kind: 'ours' | 'floor',
  sizes: Sizes,
  workDir: string,
  template: Update | null,
  log: (m: string) => void,
): Promise<{ result: PhaseResult; template: Update }> {
  const dataDir = mkdtempSync(join(workDir, `fanout-${kind}-`));
  const server = forkWorker('server.ts', [kind, dataDir], `${kind} server`, ['--expose-gc']);
  const workers: Worker[] = [];
  try {
    const { port } = await server.request<Answer & { port: number }>('start', {}, 60_000);
    const base = `http://127.0.0.1:${port}`;

    // Publish one update the way the phase will, and look at it with one probe client:
    // it warms the server's paths and gives the floor the exact payload to send.
    let floorPosition = 0;
    const nextFloorPosition = () => String(++floorPosition).padStart(20, '0');
    if (kind === 'ours') await openTimeline(base, SLUG);
    const publish = async (i: number): Promise<{ position: string; at: number }> => {
      if (kind === 'ours') {
        const { written, at } = await recordEntry(base, SLUG, entryBody(i));
        return { position: written.position, at };
      }
      const position = nextFloorPosition();
      const update: Update = { ...template!, position, entry: { ...template!.entry, title: `${String(template!.entry['title'])}-${i}` } };
      const reply = await fetch(`${base}/broadcast`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(update) });
      await reply.text();
      const at = wallNow();
      if (reply.status !== 201) throw new Error(`floor broadcast answered ${reply.status}`);
      return { position, at };
    };
    const probe = io(`${base}/live`, { transports: ['websocket'], forceNew: true, reconnection: false });
    let seen: Update | null = null;
    try {
      await new Promise<void>((resolve, reject) => {
        probe.once('connect', () => resolve());
        probe.once('connect_error', reject);
      });
      const ack = (await probe.timeout(10_000).emitWithAck('subscribe', { timeline: SLUG })) as { ok: boolean };
      if (!ack.ok) throw new Error(`probe subscribe refused: ${JSON.stringify(ack)}`);
      const received = new Promise<Update>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the probe received no update within 10 s')), 10_000);
        probe.once('update', (u: Update) => {
          clearTimeout(timer);
          resolve(u);
        });
      });
      await publish(0);
      seen = await received;
    } finally {
      probe.disconnect();
    }
    await server.request('subscriptions', { count: 0, timeoutMs: 10_000 });
    const updateBytes = Buffer.byteLength(JSON.stringify(seen));

    const before = await server.request<Mem>('mem');
    const counts = split(sizes.clients, sizes.workers);
    for (const [i] of counts.entries()) workers.push(forkWorker('clients.ts', [], `clients ${i}`));
    const t = wallNow();
    await Promise.all(workers.map((w, i) => w.request('connect', { url: base, timeline: SLUG, count: counts[i] }, 120_000)));
    await server.request('subscriptions', { count: sizes.clients, timeoutMs: 10_000 });
    log(`  ${kind}: ${sizes.clients} clients connected and subscribed in ${Math.round(wallNow() - t)} ms`);
    const after = await server.request<Mem>('mem');

    const { t0, last } = await publishPaced(publish, RATE_PER_S, WARMUP_S, sizes.windowS);
    const answers = await Promise.all(
      workers.map((w) => w.request<Answer & { latencies: number[]; missing: number; duplicates: number }>('collect', { t0, last, timeoutMs: 60_000 }, 90_000)),
    );
    const latencies = answers.flatMap((a) => a.latencies).sort((a, b) => a - b);
    const result: PhaseResult = {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      heapPerConn: (after.heapUsed + after.external - before.heapUsed - before.external) / sizes.clients,
      rssPerConn: (after.rss - before.rss) / sizes.clients,
      deliveries: latencies.length,
      missing: answers.reduce((n, a) => n + a.missing, 0),
      duplicates: answers.reduce((n, a) => n + a.duplicates, 0),
      updateBytes,
    };
    log(
      `  ${kind}: p50 ${round(result.p50)} ms, p99 ${round(result.p99)} ms over ${result.deliveries} deliveries ` +
        `(${result.missing} missing, ${result.duplicates} duplicate or out of order); ${Math.round(result.heapPerConn)} B/conn heap+external, ` +
        `${Math.round(result.rssPerConn)} B/conn rss; update ${updateBytes} B`,
    );
    return { result, template: seen! };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const fanout: Benchmark = {
  name: 'fanout',
  description:
    '2,000 socket.io clients (500 with --quick; see `clients`) in worker processes on one timeline while 25 entries/s are recorded: ' +
    'latency from the 201 to receipt (p50/p99 after 1 s warm-up, 10 s window; 4 s with --quick), and server heapUsed+external ' +
    'after GC per connection (rss alongside); floor: plain socket.io room broadcast of the same payload. One trial with --quick.',
  async run(options: BenchOptions): Promise<BenchFigures> {
    const sizes = sizesFor(options.quick);
    const trials = options.quick ? 1 : Math.max(1, Math.min(options.trials, 3));
    const ours: PhaseResult[] = [];
    const floor: PhaseResult[] = [];
    for (let trial = 0; trial < trials; trial++) {
      options.log(`fanout trial ${trial + 1}/${trials}: ${sizes.clients} clients in ${sizes.workers} workers`);
      const o = await phase('ours', sizes, options.workDir, null, options.log);
      ours.push(o.result);
      floor.push((await phase('floor', sizes, options.workDir, o.template, options.log)).result);
    }
    const pick = (rs: PhaseResult[], f: (r: PhaseResult) => number) => median(rs.map(f));
    return {
      clients: sizes.clients,
      ours_p50_ms: round(pick(ours, (r) => r.p50)),
      ours_p99_ms: round(pick(ours, (r) => r.p99)),
      floor_p50_ms: round(pick(floor, (r) => r.p50)),
      floor_p99_ms: round(pick(floor, (r) => r.p99)),
      ours_bytes_per_conn: Math.round(pick(ours, (r) => r.heapPerConn)),
      floor_bytes_per_conn: Math.round(pick(floor, (r) => r.heapPerConn)),
      ours_rss_bytes_per_conn: Math.round(pick(ours, (r) => r.rssPerConn)),
      floor_rss_bytes_per_conn: Math.round(pick(floor, (r) => r.rssPerConn)),
      ours_missing: pick(ours, (r) => r.missing),
    };
  },
};

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const trialsArg = process.argv.indexOf('--trials');
  const trials = trialsArg > 0 ? Math.max(1, Number(process.argv[trialsArg + 1]) || 1) : quick ? 1 : 3;
  const workDir = mkdtempSync(join(tmpdir(), 'bench-fanout-'));
  const started = Date.now();
  fanout
    .run({ quick, trials, workDir, log: (m) => console.error(m) })
    .then(
      (figures) => {
        console.log(JSON.stringify({ fanout: figures, seconds: Math.round((Date.now() - started) / 100) / 10 }, null, 2));
        process.exitCode = 0;
      },
      (error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      },
    )
    .finally(() => rmSync(workDir, { recursive: true, force: true }));
}
