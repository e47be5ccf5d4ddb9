import type Database from 'better-sqlite3';
import { openSqlite } from './open-sqlite';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreUnavailableError } from '../event-store.errors';
import type { NewEvent } from '../event-store.port';
import { SqliteEventStore } from './sqlite-event-store';

const event = (size = 100): NewEvent => ({
  id: randomUUID(),
  type: 'Noted',
  data: { text: 'x'.repeat(size) },
  metadata: { recordedBy: 'test', correlationId: randomUUID(), causationId: null, schemaVersion: 1 },
});
/** Bigger than a 4 KiB page: SQLite must allocate overflow pages for it. */
const BIG = 6000;

/** Largest gap between ticks of a 5 ms interval while `work` runs: how long the event loop stood still. */
async function longestStall<T>(work: Promise<T>): Promise<{ result: PromiseSettledResult<T>; stallMs: number }> {
  let last = Date.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  const [result] = await Promise.allSettled([work]);
  clearInterval(timer);
  return { result, stallMs };
}

describe('SqliteEventStore when it cannot write', () => {
  let dir: string;
  let file: string;
  let store: SqliteEventStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'timeline-unavailable-'));
    file = join(dir, 'events.sqlite');
    store = new SqliteEventStore(file, { lockWaitMs: 400 });
    for (let i = 0; i < 20; i++) await store.append(`s-${i}`, [event()], 'no-stream');
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('disk full (max_page_count)', () => {
    it('fails every append of a group commit with StoreUnavailableError, writes none of them, and works again once there is room', async () => {
      const head = await store.headPosition();
      store.limitSize(1);
      const attempts = [store.append('a', [event(BIG)], 'no-stream'), store.append('b', [event(), event(BIG), event()], 'no-stream'), store.append('c', [event()], 'no-stream')];
      const results = await Promise.allSettled(attempts);

      for (const r of results) {
        expect(r.status).toBe('rejected');
        const error = (r as PromiseRejectedResult).reason as StoreUnavailableError;
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(error.message).toMatch(/^the embedded event store cannot take writes: the disk is full \(SQLITE_FULL: /);
      }
      expect(await store.headPosition()).toBe(head);
      for (const stream of ['a', 'b', 'c']) expect(await store.readStream(stream)).toEqual([]);
      // Reads go on.
      expect(await store.readAll({ limit: 100 })).toHaveLength(20);

      store.limitSize(null);
      const written = await store.append('b', [event(), event(BIG), event()], 'no-stream');
      expect(written.revision).toBe(2);
      expect((await store.readStream('b')).map((e) => e.revision)).toEqual([0, 1, 2]);
    });

    it('a failed write does not disturb subscriptions: they deliver what is written once there is room', async () => {
      const subscription = store.subscribeToAll();
      const iterator = subscription[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toHaveLength(20);
      store.limitSize(1);
      await expect(store.append('a', [event(BIG)], 'no-stream')).rejects.toBeInstanceOf(StoreUnavailableError);
      store.limitSize(null);
      await store.append('a', [event(BIG)], 'no-stream');
      const next = await iterator.next();
      expect(next.value.map((e: { stream: string }) => e.stream)).toEqual(['a']);
      await subscription.close();
    });
  });

  describe('write lock held by another process', () => {
    let other: Database.Database;
    beforeEach(() => {
      other = openSqlite(file);
      other.exec('BEGIN IMMEDIATE');
    });
    afterEach(() => {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    });

    it('waits up to lockWaitMs without stalling the event loop, then fails with StoreUnavailableError, having written nothing', async () => {
      const head = await store.headPosition();
      const started = Date.now();
      const { result, stallMs } = await longestStall(store.append('a', [event()], 'no-stream'));
      const waited = Date.now() - started;

      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as StoreUnavailableError;
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error.message).toMatch(/^the embedded event store cannot take writes: another connection holds its write lock \(SQLITE_BUSY: .*gave up after waiting 400 ms\)$/);
      expect(waited).toBeGreaterThanOrEqual(400);
      expect(waited).toBeLessThan(2000);
      expect(stallMs).toBeLessThan(150); // busy_timeout is 20 ms: the process kept running
      other.exec('ROLLBACK');
      expect(await store.headPosition()).toBe(head);
    });

    it('writes as soon as the lock is released within lockWaitMs, with the appends that arrived meanwhile', async () => {
      const first = store.append('a', [event()], 'no-stream');
      await new Promise((r) => setTimeout(r, 100));
      const second = store.append('b', [event()], 'no-stream');
      await new Promise((r) => setTimeout(r, 50));
      other.exec('ROLLBACK');
      const [a, b] = await Promise.all([first, second]);
      expect(a.revision).toBe(0);
      expect(b.position > a.position).toBe(true);
      expect((await store.readAll({ limit: 100 })).map((e) => e.stream).slice(-2)).toEqual(['a', 'b']);
    });

    it('keeps serving reads while the lock is held', async () => {
      const { result, stallMs } = await longestStall(Promise.all([store.readAll({ limit: 100 }), store.headPosition(), store.readStream('s-1')]));
      expect(result.status).toBe('fulfilled');
      expect(stallMs).toBeLessThan(100);
    });
  });
});
