import { SqliteEventStore, StoreUnavailableError, type EventStore, type RecordedEvent } from '@timeline/event-store';
import { openSqlite } from '@timeline/event-store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModel } from '../read-model/sqlite-read-model';
import { writeSampleLog } from '../testing/sample-log';
import { Projector } from './projector';
import { seededRandom } from '../testing/seeded-random';
import { signingData } from '../testing/recorded-events';
import { randomUUID } from 'node:crypto';

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function readEverything(store: SqliteEventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (let page = await store.readAll({ limit: 1000 }); page.length > 0; page = await store.readAll({ after: page[page.length - 1].position, limit: 1000 })) {
    all.push(...page);
  }
  return all;
}

describe('Projector', () => {
  let dir: string;
  let store: SqliteEventStore;
  const open = (name: string) => new SqliteReadModel(join(dir, name));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'timeline-projector-'));
    store = new SqliteEventStore(join(dir, 'events.sqlite'));
    await writeSampleLog(store, { timelines: 3, commands: 300, random: seededRandom(7) });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows the log to its head and releases waiters at their position', async () => {
    const readModel = open('read.sqlite');
    const projector = new Projector(store, readModel);
    projector.start();
    const head = (await store.headPosition())!;
    await expect(projector.waitFor(head, 5000)).resolves.toBe(true);
    expect(readModel.checkpoint()).toBe(head);
    const timelines = readModel.timelines();
    expect(timelines.map((t) => t.slug)).toEqual(['story-0', 'story-1', 'story-2']);
    // Counts agree with the entries themselves: nothing applied twice, nothing skipped.
    for (const t of timelines) {
      const all = readModel.entries({ timeline: t.slug, order: 'asc', limit: 500, includeRetracted: true }).items;
      expect(all.filter((e) => e.status === 'active')).toHaveLength(t.entryCount);
      expect(all.filter((e) => e.status === 'retracted')).toHaveLength(t.retractedCount);
    }
    await projector.stop();
    readModel.close();
  });

  it('resumes after a stop from its checkpoint and ends where a single run would', async () => {
    const events = await readEverything(store);
    const interrupted = open('interrupted.sqlite');
    interrupted.apply(events.slice(0, 137)); // the process "dies" here, between two transactions
    interrupted.close();

    const resumed = open('interrupted.sqlite');
    expect(resumed.checkpoint()).toBe(events[136].position);
    const projector = new Projector(store, resumed);
    projector.start();
    await projector.waitFor(events[events.length - 1].position, 5000);
    await projector.stop();

    const single = open('single.sqlite');
    single.apply(events);
    expect(resumed.digest()).toBe(single.digest());
    resumed.close();
    single.close();
  });

  it('ignores events it has already applied (re-delivery is harmless)', async () => {
    const events = await readEverything(store);
    const readModel = open('read.sqlite');
    readModel.apply(events.slice(0, 200));
    const digest = readModel.digest();
    expect(readModel.apply(events.slice(50, 200))).toEqual([]);
    expect(readModel.digest()).toBe(digest);
    readModel.close();
  });

  it('rebuild reproduces the read model exactly', async () => {
    const readModel = open('read.sqlite');
    const projector = new Projector(store, readModel);
    projector.start();
    await projector.waitFor((await store.headPosition())!, 5000);
    const before = readModel.digest();
    const progress: number[] = [];
    const rebuilt = await projector.rebuild((p) => progress.push(p.events));
    expect(rebuilt.digest).toBe(before);
    expect(rebuilt.events).toBe((await readEverything(store)).length);
    expect(progress[progress.length - 1]).toBe(rebuilt.events);
    await projector.stop();
    readModel.close();
  });

  const meta = { recordedBy: 't', correlationId: 'c', causationId: null, schemaVersion: 1 };
  const GHOST = '00000000-0000-4000-8000-00000000dead';

  it('sets an event it cannot apply aside as a dead letter, with its error, counts it, and goes on with the next ones', async () => {
    const readModel = open('read.sqlite');
    const errors: string[] = [];
    const projector = new Projector(store, readModel, { log: () => undefined, error: (m) => errors.push(m) }, 20);
    projector.start();
    await projector.waitFor((await store.headPosition())!, 5000);

    const good = await store.append('timeline-late', [{ id: '00000000-0000-4000-8000-000000000001', type: 'TimelineOpened', data: { slug: 'late', title: 'Late', description: '' }, metadata: meta }], 'no-stream');
    const poison = await store.append(`entry-${GHOST}`, [{ id: '00000000-0000-4000-8000-000000000002', type: 'EntryRetracted', data: { entryId: GHOST, timeline: 'late', reason: 'x' }, metadata: meta }], 'no-stream');
    const after = await store.append('timeline-later', [{ id: '00000000-0000-4000-8000-000000000003', type: 'TimelineOpened', data: { slug: 'later', title: 'Later', description: '' }, metadata: meta }], 'no-stream');

    await expect(projector.waitFor(after.position, 5000)).resolves.toBe(true);
    expect(readModel.checkpoint()).toBe(after.position);
    expect(readModel.timeline('late')).toBeDefined();
    expect(readModel.timeline('later')).toBeDefined();
    expect(projector.deadLetters).toBe(1);
    expect(readModel.deadLetters()).toEqual([
      expect.objectContaining({
        position: poison.position,
        stream: `entry-${GHOST}`,
        type: 'EntryRetracted',
        revision: 0,
        error: `Error: event at ${poison.position} changes unknown entry ${GHOST}`,
      }),
    ]);
    expect(projector.lastError).toBeNull(); // a poison event is not a failure of the projector
    expect(errors).toEqual([expect.stringContaining(`the event at ${poison.position} (EntryRetracted, entry-${GHOST} revision 0) cannot be projected`)]);

    // The dead letter is part of the read model: a rebuild reproduces it exactly.
    const digest = readModel.digest();
    await expect(projector.rebuild()).resolves.toMatchObject({ digest, deadLetters: 1 });
    await projector.stop();
    readModel.close();
  });

  it('does not dead-letter when the read model cannot be written: retries until it can, and says so meanwhile', async () => {
    const file = join(dir, 'read.sqlite');
    const readModel = new SqliteReadModel(file, { busyTimeoutMs: 10 });
    const errors: unknown[] = [];
    const projector = new Projector(store, readModel, { log: () => undefined, error: (_m, e) => errors.push(e) }, 20);
    projector.start();
    const head = (await store.headPosition())!;
    await projector.waitFor(head, 5000);

    const other = openSqlite(file);
    other.exec('BEGIN IMMEDIATE'); // another process holds the read model's write lock
    const late = await store.append('timeline-late', [{ id: '00000000-0000-4000-8000-000000000001', type: 'TimelineOpened', data: { slug: 'late', title: 'Late', description: '' }, metadata: meta }], 'no-stream');
    await expect(projector.waitFor(late.position, 300)).resolves.toBe(false);
    expect(readModel.checkpoint()).toBe(head);
    expect(projector.lastError).toMatchObject({ code: 'SQLITE_BUSY' });
    expect(projector.failingSince).toBeInstanceOf(Date);
    expect(errors.length).toBeGreaterThan(1); // it keeps trying
    expect(projector.deadLetters).toBe(0);

    other.exec('ROLLBACK');
    other.close();
    await expect(projector.waitFor(late.position, 5000)).resolves.toBe(true);
    expect(readModel.timeline('late')).toBeDefined();
    expect(projector.lastError).toBeNull();
    expect(projector.failingSince).toBeNull();
    expect(projector.deadLetters).toBe(0);
    await projector.stop();
    readModel.close();
  });

  it('when the log cannot be read, retries, and clears the error once the store answers again, even with nothing new to apply', async () => {
    let unavailable = false;
    const failing = new StoreUnavailableError('the embedded event store cannot be read: disk I/O error');
    const flaky: EventStore = {
      append: (...args) => store.append(...args),
      readStream: (...args) => store.readStream(...args),
      readAll: (...args) => store.readAll(...args),
      isPosition: (v) => store.isPosition(v),
      close: async () => undefined,
      headPosition: async () => {
        if (unavailable) throw failing;
        return store.headPosition();
      },
      // Polls like the embedded store's subscription: each read fails while the store is unavailable.
      subscribeToAll(options) {
        let after = options?.after;
        let closed = false;
        return {
          close: async () => {
            closed = true;
          },
          async *[Symbol.asyncIterator]() {
            while (!closed) {
              if (unavailable) throw failing;
              const page = await store.readAll({ after, limit: 500 });
              if (page.length > 0) {
                after = page[page.length - 1].position;
                yield page;
              } else {
                await new Promise((r) => setTimeout(r, 5));
              }
            }
          },
        };
      },
    };
    const readModel = open('read.sqlite');
    const projector = new Projector(flaky, readModel, undefined, 20);
    projector.start();
    const head = (await store.headPosition())!;
    await projector.waitFor(head, 5000);

    unavailable = true;
    await store.append('timeline-late', [{ id: '00000000-0000-4000-8000-000000000001', type: 'TimelineOpened', data: { slug: 'late', title: 'Late', description: '' }, metadata: meta }], 'no-stream');
    await waitUntil(() => projector.lastError === failing);
    expect(readModel.timeline('late')).toBeUndefined();

    unavailable = false;
    await waitUntil(() => projector.lastError === null);
    expect(readModel.timeline('late')).toBeDefined();

    // Fails again with nothing new in the log, and recovers with nothing to apply:
    // no batch will come to clear the error, the store answering again does.
    unavailable = true;
    await waitUntil(() => projector.lastError === failing);
    const checkpoint = readModel.checkpoint();
    unavailable = false;
    await waitUntil(() => projector.lastError === null);
    expect(readModel.checkpoint()).toBe(checkpoint);
    expect(checkpoint).toBe(await store.headPosition());
    await projector.stop();
    readModel.close();
  });
  it('publishes a batch one change at a time, answering each change\'s writer before the next goes out', async () => {
    const readModel = open('turns.sqlite');
    const projector = new Projector(store, readModel);
    projector.start();
    await projector.waitFor((await store.headPosition())!, 5000);
    const order: string[] = [];
    projector.onChanges((changes) => order.push(...changes.map((c) => `published ${c.entry.title}`)));
    // Three appends in one turn: group commit writes them in one transaction, the projector reads them as one batch.
    const appends = ['a', 'b', 'c'].map((name) => {
      const entryId = randomUUID();
      return store.append(`entry-${entryId}`, [{ id: randomUUID(), type: 'SigningRecorded', data: { ...signingData('story-0', entryId), title: name }, metadata: { recordedBy: 'test', correlationId: randomUUID(), causationId: null, schemaVersion: 1 } }], 'no-stream');
    });
    const written = await Promise.all(appends);
    await Promise.all(
      written.map(async ({ position }, i) => {
        await projector.waitFor(position, 5000);
        order.push(`answered ${'abc'[i]}`);
      }),
    );
    expect(order).toEqual(['published a', 'answered a', 'published b', 'answered b', 'published c', 'answered c']);
    await projector.stop();
    readModel.close();
  });
});
