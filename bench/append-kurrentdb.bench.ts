/**
 * append_kurrentdb: the KurrentDB adapter's appends, through the wire-level
 * emulator (test/kurrentdb-emulator) in a process of its own, next to the bare
 * client through the same emulator (the floor) and the embedded store (the
 * peer), in one run.
 *
 * - latency, 1 writer: sequential single-event appends to new streams; median and p99 in ms.
 * - throughput, 64 writers: concurrent appends to new streams for `durationMs`; appends/s.
 *
 * What it does not say: how fast KurrentDB is. The emulator is JavaScript,
 * in memory, with no fsync; a real server writes to disk and replicates. It
 * shows what the adapter and the client cost on top of the wire, and how the
 * service's two stores compare on this machine.
 *
 * Overrides: latencyAppends (default 400, quick 100), durationMs (default 3000, quick 1000).
 */
import { jsonEvent, KurrentDBClient, NO_STREAM } from '@kurrent/kurrentdb-client';
import { SqliteEventStore, type EventStore } from '@timeline/event-store';
import { KurrentDbEventStore } from '../libs/event-store/src/kurrentdb/kurrentdb-event-store';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { BenchFigures, Benchmark, BenchOptions } from './lib/bench';
import { closedLoop, medianOf, nowMs, round } from './lib/stats';
import { newEntryEvent } from './lib/workload';

const EMULATOR_MAIN = join(__dirname, '..', 'test', 'kurrentdb-emulator', 'main.ts');

interface Emulator {
  connectionString: string;
  stop(): Promise<void>;
}

/** The emulator as its own process, so it does not share this event loop with what it measures. */
async function startEmulator(): Promise<Emulator> {
  const child: ChildProcess = spawn(process.execPath, ['-r', '@swc-node/register', EMULATOR_MAIN, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SWC_NODE_PROJECT: join(__dirname, '..', 'tsconfig.json') },
  });
  const connectionString = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('kurrentdb://'));
      if (line) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before printing its connection string`)));
  });
  return {
    connectionString,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

type Append = (i: number) => Promise<void>;

async function measure(append: Append, latencyAppends: number, durationMs: number): Promise<Record<string, number>> {
  const latencies: number[] = [];
  for (let i = 0; i < latencyAppends; i++) {
    const start = nowMs();
    await append(i);
    latencies.push(nowMs() - start);
  }
  latencies.sort((a, b) => a - b);
  let next = latencyAppends;
  const eps = await closedLoop(64, durationMs, () => append(next++));
  return {
    latency_ms: round(latencies[Math.floor(latencies.length / 2)], 2),
    p99_ms: round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))], 2),
    eps_64: round(eps),
  };
}

const throughStore = (store: EventStore): Append => async (i) => {
  const { stream, event } = newEntryEvent(i);
  await store.append(stream, [event], 'no-stream');
};

const throughClient = (client: KurrentDBClient): Append => async (i) => {
  const { stream, event } = newEntryEvent(i);
  await client.appendToStream(stream, jsonEvent({ id: event.id, type: event.type, data: event.data, metadata: event.metadata }), { streamState: NO_STREAM });
};

/** Warms a connection (ServerFeatures, the BatchAppend call) before the clock starts. */
async function warm(append: Append): Promise<void> {
  for (let i = 0; i < 20; i++) await append(1_000_000 + i);
}

const prefixed = (prefix: string, figures: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(figures).map(([key, value]) => [`${prefix}_${key}`, value]));

export const appendKurrentDb: Benchmark = {
  name: 'append_kurrentdb',
  description:
    'Single-event appends to new streams: 1 writer (median and p99 latency) and 64 writers (appends/s). ours: KurrentDbEventStore through the KurrentDB emulator ' +
    '(its own process, in memory); floor: the bare @kurrent/kurrentdb-client through the same emulator; peer: the embedded SqliteEventStore (WAL, synchronous=FULL).',
  async run(options: BenchOptions): Promise<BenchFigures> {
    const latencyAppends = options.overrides?.latencyAppends ?? (options.quick ? 100 : 400);
    const durationMs = options.overrides?.durationMs ?? (options.quick ? 1000 : 3000);
    const emulator = await startEmulator();
    try {
      return await medianOf(options.trials, async (trial) => {
        const store = KurrentDbEventStore.fromConnectionString(emulator.connectionString);
        const client = KurrentDBClient.connectionString(emulator.connectionString);
        const sqlite = new SqliteEventStore(join(options.workDir, `append-kurrentdb-peer-${trial}.sqlite`));
        try {
          const figures: Record<string, number> = {};
          // Interleaved in one trial, so the machine's drift touches all three alike.
          for (const [name, append] of [
            ['ours', throughStore(store)],
            ['floor', throughClient(client)],
            ['peer', throughStore(sqlite)],
          ] as const) {
            await warm(append);
            Object.assign(figures, prefixed(name, await measure(append, latencyAppends, durationMs)));
          }
          options.log(
            `ours ${figures.ours_latency_ms} ms (p99 ${figures.ours_p99_ms}), ${figures.ours_eps_64}/s at 64; floor ${figures.floor_latency_ms} ms, ${figures.floor_eps_64}/s; ` +
              `embedded ${figures.peer_latency_ms} ms, ${figures.peer_eps_64}/s`,
          );
          return figures;
        } finally {
          await Promise.all([store.close(), client.dispose(), sqlite.close()]);
        }
      });
    } finally {
      await emulator.stop();
    }
  },
};
