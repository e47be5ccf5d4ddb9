/**
 * append64: durable single-event appends per second to distinct entry streams
 * (each a new stream, as recording an entry is), with 1, 16 and 64 concurrent
 * writers, each awaiting its append before the next.
 *
 * - ours:  SqliteEventStore.append through the EventStore port (WAL,
 *          synchronous=FULL, group commit of the appends that arrive together).
 * - floor: better-sqlite3 alone, one INSERT per transaction (autocommit) into
 *          the same table, WAL + synchronous=FULL: what SQLite does with one
 *          fsync per event and nothing around it.
 * - peer:  @event-driven-io/emmett-sqlite (getSQLiteEventStore().appendToStream),
 *          same events, same durability (WAL; SQLite's default synchronous=FULL,
 *          checked on the file). For a file database its store opens a
 *          sqlite3 connection for each call and closes it afterwards, running
 *          each append in its own BEGIN IMMEDIATE transaction; called
 *          concurrently from one process its appends fail with SQLITE_BUSY
 *          (tried: 64 unqueued writers), so the writers' appends are queued and
 *          run one at a time, which is how it can be used correctly.
 *
 * The events are made before the clock starts (decided by the domain and
 * hash-chained, as the service appends them) and the same ones are offered
 * to ours, the floor and the peer, each writing into a fresh file. Making an
 * event costs ~25 µs of CPU (decide, canonical JSON, SHA-256), as much as an
 * append itself: made inside the timed loop it was measured as if it were the
 * store's, on the same thread, and it squeezed every ratio towards 1. The
 * command side as a whole (validate, decide, chain, append, project) is what
 * http_record measures.
 *
 * Options: overrides.durationMs (per measurement), overrides.writers (only
 * that writer count, e.g. 64).
 */
import { getSQLiteEventStore } from '@event-driven-io/emmett-sqlite';
import { SqliteEventStore } from '@timeline/event-store';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { BenchFigures, Benchmark, BenchOptions } from './lib/bench';
import { closedLoop, medianOf, round } from './lib/stats';
import { newEntryEvent } from './lib/workload';

type PooledEvent = ReturnType<typeof newEntryEvent>;

/**
 * Events made ahead of time. A run takes them in order; should it outrun the
 * pool, the rest are made as it goes (and counted, so a too-small pool shows).
 */
class EventPool {
  private readonly events: PooledEvent[] = [];
  madeInLoop = 0;
  constructor(size: number) {
    for (let i = 0; i < size; i++) this.events.push(newEntryEvent(i));
  }
  take(i: number): PooledEvent {
    if (i < this.events.length) return this.events[i];
    this.madeInLoop++;
    return newEntryEvent(i);
  }
}

/** Hands each append of one run the next event of the pool, across all writers. */
const takeInOrder = (pool: EventPool) => {
  let next = 0;
  return () => pool.take(next++);
};

const WRITER_COUNTS = [1, 16, 64] as const;

let fileCounter = 0;
const freshFile = (options: BenchOptions, what: string): string => join(options.workDir, `${what}-${++fileCounter}.sqlite`);

async function ours(options: BenchOptions, pool: EventPool, writers: number, durationMs: number): Promise<number> {
  const store = new SqliteEventStore(freshFile(options, 'ours'));
  const d = store.durability();
  if (d.journalMode !== 'wal' || d.synchronous !== 2) throw new Error(`ours is not WAL + synchronous=FULL: ${JSON.stringify(d)}`);
  const nextEvent = takeInOrder(pool);
  try {
    return await closedLoop(writers, durationMs, async () => {
      const { stream, event } = nextEvent();
      await store.append(stream, [event], 'no-stream');
    });
  } finally {
    await store.close();
  }
}

async function floor(options: BenchOptions, pool: EventPool, writers: number, durationMs: number): Promise<number> {
  const db = new Database(freshFile(options, 'floor'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL,
    revision INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL,
    recorded_at TEXT NOT NULL, UNIQUE (stream, revision))`);
  const insert = db.prepare(`INSERT INTO events (event_id, stream, revision, type, data, metadata, recorded_at) VALUES (?, ?, 0, ?, ?, ?, ?)`);
  const nextEvent = takeInOrder(pool);
  try {
    return await closedLoop(writers, durationMs, async () => {
      const { stream, event } = nextEvent();
      // One row, one (autocommit) transaction, one fsync.
      insert.run(event.id, stream, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata), new Date().toISOString());
    });
  } finally {
    db.close();
  }
}

async function peer(options: BenchOptions, pool: EventPool, writers: number, durationMs: number): Promise<number> {
  const file = freshFile(options, 'peer');
  const store = getSQLiteEventStore({ fileName: file, schema: { autoMigration: 'CreateOrUpdate' } });
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  // Now and then its COMMIT fails with "SQLITE_BUSY: cannot commit transaction - SQL statements in
  // progress" (sqlite3 had not yet finalized a statement of the same connection); emmett has rolled
  // the append back by then, so it is tried again, as a careful caller would. Only successes count.
  let retries = 0;
  const appendOnce = (stream: string, event: PooledEvent['event']) =>
    store.appendToStream(stream, [{ type: event.type, data: event.data, metadata: event.metadata }]);
  const append = async (stream: string, event: PooledEvent['event']): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await serial(() => appendOnce(stream, event));
        return;
      } catch (error) {
        if (attempt >= 5 || !String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY')) throw error;
        retries++;
      }
    }
  };
  const nextEvent = takeInOrder(pool);
  const rate = await closedLoop(writers, durationMs, async () => {
    const { stream, event } = nextEvent();
    await append(stream, event);
  });
  await queue;
  if (retries > 0) options.log(`peer ${writers} writer(s): ${retries} append(s) retried after SQLITE_BUSY at COMMIT`);
  // Same durability as ours: emmett sets WAL; synchronous is SQLite's default, FULL. Check it on the file.
  const check = new Database(file, { readonly: true });
  try {
    const mode = check.pragma('journal_mode', { simple: true });
    if (mode !== 'wal') throw new Error(`peer file is not in WAL mode (${String(mode)})`);
  } finally {
    check.close();
  }
  return rate;
}

export const append64: Benchmark = {
  name: 'append64',
  description:
    'Durable single-event appends/s to distinct entry streams, 1/16/64 concurrent writers. ours: SqliteEventStore (EventStore port, group commit); ' +
    'floor: better-sqlite3, one INSERT per transaction, WAL + synchronous=FULL; peer: @event-driven-io/emmett-sqlite 0.38.5 appendToStream (a connection and a transaction per append; appends queued, as concurrent ones fail with SQLITE_BUSY).',
  async run(options: BenchOptions): Promise<BenchFigures> {
    const durationMs = options.overrides?.durationMs ?? (options.quick ? 1000 : 2500);
    const writerCounts = options.overrides?.writers ? [options.overrides.writers] : [...WRITER_COUNTS];
    // Enough for ~60,000 appends/s for the whole measurement; made once, before any clock starts.
    const pool = new EventPool(Math.ceil((durationMs / 1000) * 60_000));
    const figures = await medianOf(options.trials, async (trial) => {
      const figures: BenchFigures = {};
      for (const writers of writerCounts) {
        const suffix = writers === 64 ? '' : `_${writers}`;
        // Alternate the order across trials so no side always runs on a warmer disk.
        const order = trial % 2 === 0 ? (['ours', 'floor', 'peer'] as const) : (['peer', 'floor', 'ours'] as const);
        for (const who of order) {
          const run = who === 'ours' ? ours : who === 'floor' ? floor : peer;
          const eps = await run(options, pool, writers, durationMs);
          figures[`${who}_eps${suffix}`] = round(eps);
          options.log(`${who} ${writers} writer(s): ${round(eps)} events/s`);
        }
      }
      return figures;
    });
    if (pool.madeInLoop > 0) options.log(`warning: the event pool ran out; ${pool.madeInLoop} events were made inside timed loops`);
    return figures;
  },
};
