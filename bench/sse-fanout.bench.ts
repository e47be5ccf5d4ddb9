/**
 * sse_fanout: one change to 2,000 followers (500 with --quick), over SSE and
 * over socket.io, in one run against ONE service process: first 2,000 sockets
 * on /live, then (the sockets gone) 2,000 streams on GET /timelines/:slug/stream,
 * each phase with the same writes (entries recorded at 4/s). The figure is the
 * time from sending the write until the LAST of the 2,000 clients has the change
 * (median and p99 over the changes), per-delivery p99 beside it. From the send,
 * not the 201 (as fanout.bench.ts): the service pushes a change before it answers
 * the command, so a 201 can come after much of the fan-out it should be timed
 * against. Floor: a bare node:http server writing the same SSE message to 2,000
 * open responses (from the send of its POST /broadcast, so without our commit).
 *
 * Run alone: node -r @swc-node/register bench/sse-fanout.bench.ts --quick
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sizesFor, WARMUP_S, type Sizes } from './fanout.bench';
import type { Benchmark, BenchFigures, BenchOptions } from './lib/bench';
import { entryBody, forkWorker, median, openTimeline, percentile, publishPaced, recordEntry, round, split, wallNow, type Answer, type Worker } from './workers/protocol';

/**
 * Slow enough that each change fans out alone (at 25/s, as fanout.bench.ts, on a
 * 2-core machine the writes queue behind the fan-out of the ones before, and the
 * figure measures the queue): this measures one change reaching every client.
 */
const RATE_PER_S = 4;
const SLUG = 'sse-fanout-bench';

/** How one change reached every client: the time to the last of them, and each delivery. */
interface Reach {
  allP50: number;
  allP99: number;
  deliveryP99: number;
  missing: number;
  duplicates: number;
}

type Update = { timeline: string; position: string; type: string; entry: Record<string, unknown> };
type Publish = (i: number) => Promise<{ position: string; at: number }>;
type Collected = Answer & { latencies: number[]; allAt: Record<string, number>; missing: number; duplicates: number };


/** `clients` followers in worker processes (clients.ts: socket.io; sse-clients.ts: SSE), the paced writes, what they saw. */
async function measure(worker: 'clients.ts' | 'sse-clients.ts', base: string, server: Worker, publish: Publish, sizes: Sizes, log: (m: string) => void): Promise<Reach> {
  const workers: Worker[] = [];
  try {
    const counts = split(sizes.clients, sizes.workers);
    for (const [i] of counts.entries()) workers.push(forkWorker(worker, [], `${worker} ${i}`));
    const t = wallNow();
    await Promise.all(workers.map((w, i) => w.request('connect', { url: base, timeline: SLUG, count: counts[i] }, 120_000)));
    await server.request('subscriptions', { count: sizes.clients, timeoutMs: 10_000 });
    log(`  ${worker}: ${sizes.clients} clients following in ${Math.round(wallNow() - t)} ms`);
    const { t0, last } = await publishPaced(publish, RATE_PER_S, WARMUP_S, sizes.windowS);
    const answers = await Promise.all(workers.map((w) => w.request<Collected>('collect', { t0, last, timeoutMs: 60_000 }, 90_000)));
    const reachAll = Object.entries(t0)
      .map(([position, at]) => Math.max(...answers.map((a) => a.allAt[position] ?? Number.POSITIVE_INFINITY)) - at)
      .sort((a, b) => a - b);
    const deliveries = answers.flatMap((a) => a.latencies).sort((a, b) => a - b);
    const reach: Reach = {
      allP50: percentile(reachAll, 50),
      allP99: percentile(reachAll, 99),
      deliveryP99: percentile(deliveries, 99),
      missing: answers.reduce((n, a) => n + a.missing, 0),
      duplicates: answers.reduce((n, a) => n + a.duplicates, 0),
    };
    log(`  ${worker}: to all ${sizes.clients}: p50 ${round(reach.allP50)} ms, p99 ${round(reach.allP99)} ms; per delivery p99 ${round(reach.deliveryP99)} ms; ${reach.missing} missing, ${reach.duplicates} duplicate`);
    await Promise.all(workers.map((w) => w.request('disconnect', { forget: true })));
    await server.request('subscriptions', { count: 0, timeoutMs: 10_000 });
    return reach;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** Reads one SSE stream until its first update: the payload the floor sends. */
async function firstUpdate(url: string, publish: () => Promise<unknown>): Promise<Update> {
  const abort = new AbortController();
  const response = await fetch(url, { signal: abort.signal });
  const reader = response.body!.getReader();
  await publish();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the stream ended before its first update');
    text += new TextDecoder().decode(value);
    const data = /^data: (.+)$/m.exec(text);
    if (data) {
      abort.abort();
      return JSON.parse(data[1]!) as Update;
    }
  }
}

async function trial(sizes: Sizes, workDir: string, log: (m: string) => void): Promise<{ socket: Reach; sse: Reach; floor: Reach }> {
  const dataDir = mkdtempSync(join(workDir, 'sse-fanout-ours-'));
  const ours = forkWorker('server.ts', ['ours', dataDir], 'ours server', ['--expose-gc']);
  let template: Update;
  let socket: Reach;
  let sse: Reach;
  try {
    const { port } = await ours.request<Answer & { port: number }>('start', {}, 60_000);
    const base = `http://127.0.0.1:${port}`;
    await openTimeline(base, SLUG);
    // The same bodies in both phases: entry i of a phase is entryBody(i).
    const publish: Publish = async (i) => {
      const at = wallNow();
      const { written } = await recordEntry(base, SLUG, entryBody(i));
      return { position: written.position, at };
    };
    template = await firstUpdate(`${base}/timelines/${SLUG}/stream`, () => publish(0));
    await ours.request('subscriptions', { count: 0, timeoutMs: 10_000 });
    socket = await measure('clients.ts', base, ours, publish, sizes, log);
    sse = await measure('sse-clients.ts', base, ours, publish, sizes, log);
  } finally {
    await ours.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const floorServer = forkWorker('server.ts', ['sse-floor'], 'sse floor server');
  try {
    const { port } = await floorServer.request<Answer & { port: number }>('start', {}, 60_000);
    const base = `http://127.0.0.1:${port}`;
    // The floor numbers the updates itself (in the order it writes them) and answers the position.
    const publish: Publish = async (i) => {
      const update = { ...template, entry: { ...template.entry, title: `${String(template.entry['title'])}-${i}` } };
      const at = wallNow();
      const reply = await fetch(`${base}/broadcast`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(update) });
      const text = await reply.text();
      if (reply.status !== 201) throw new Error(`floor broadcast answered ${reply.status}`);
      return { position: (JSON.parse(text) as { position: string }).position, at };
    };
    const floor = await measure('sse-clients.ts', base, floorServer, publish, sizes, log);
    return { socket, sse, floor };
  } finally {
    await floorServer.stop();
  }
}

export const sseFanout: Benchmark = {
  name: 'sse_fanout',
  description:
    'One change to 2,000 followers (500 with --quick), socket.io then SSE, in one service process with the same writes (4 entries/s, one change at a time, ' +
    '1 s warm-up, 10 s window; 4 s with --quick): time from sending the write until the last client has it (p50/p99 over changes), and per-delivery p99; ' +
    'floor: bare node:http res.write of the same SSE message to 2,000 responses.',
  async run(options: BenchOptions): Promise<BenchFigures> {
    const sizes = { ...sizesFor(options.quick), ...(options.overrides as Partial<Sizes> | undefined) };
    const trials = options.quick ? 1 : Math.max(1, Math.min(options.trials, 3));
    const results: Array<{ socket: Reach; sse: Reach; floor: Reach }> = [];
    for (let t = 0; t < trials; t++) {
      options.log(`sse_fanout trial ${t + 1}/${trials}: ${sizes.clients} clients in ${sizes.workers} workers per phase`);
      results.push(await trial(sizes, options.workDir, options.log));
    }
    const pick = (f: (r: { socket: Reach; sse: Reach; floor: Reach }) => number) => median(results.map(f));
    const sseAll = pick((r) => r.sse.allP50);
    return {
      clients: sizes.clients,
      sse_all_p50_ms: round(sseAll),
      sse_all_p99_ms: round(pick((r) => r.sse.allP99)),
      socket_all_p50_ms: round(pick((r) => r.socket.allP50)),
      socket_all_p99_ms: round(pick((r) => r.socket.allP99)),
      floor_all_p50_ms: round(pick((r) => r.floor.allP50)),
      floor_all_p99_ms: round(pick((r) => r.floor.allP99)),
      sse_delivery_p99_ms: round(pick((r) => r.sse.deliveryP99)),
      socket_delivery_p99_ms: round(pick((r) => r.socket.deliveryP99)),
      sse_over_socket_p50: round(sseAll / pick((r) => r.socket.allP50)),
      sse_over_floor_p50: round(sseAll / pick((r) => r.floor.allP50)),
      sse_missing: pick((r) => r.sse.missing + r.sse.duplicates),
      socket_missing: pick((r) => r.socket.missing + r.socket.duplicates),
    };
  },
};

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const workDir = mkdtempSync(join(tmpdir(), 'bench-sse-fanout-'));
  sseFanout
    .run({ quick, trials: quick ? 1 : 3, workDir, log: (m) => console.error(m) })
    .then(
      (figures) => console.log(JSON.stringify({ sse_fanout: figures }, null, 2)),
      (error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      },
    )
    .finally(() => rmSync(workDir, { recursive: true, force: true }));
}
