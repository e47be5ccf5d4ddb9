import { openSqlite, SqliteEventStore, type RecordedEvent } from '@timeline/event-store';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Projector } from '../projector/projector';
import { recordedAt, signingData } from '../testing/recorded-events';
import { writeSampleLog } from '../testing/sample-log';
import { seededRandom } from '../testing/seeded-random';
import { RebuildWriteError } from './rebuild-writer';
import { SqliteReadModel } from './sqlite-read-model';

/**
 * The rebuild's fast path (startRebuild / BulkLoad) must end exactly where
 * one-by-one projection ends: with its batches written by a worker thread, as
 * a read model in a file is rebuilt, and on the calling thread, as a read
 * model in memory is.
 */
describe.each([
  ['a writer thread', false],
  ['the calling thread', true],
])('SqliteReadModel.startRebuild, writing on %s', (_, inThread) => {
  let dir: string;
  const models: SqliteReadModel[] = [];
  const open = (name = `${randomUUID()}.sqlite`) => {
    const model = new SqliteReadModel(join(dir, name));
    models.push(model);
    return model;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'timeline-bulk-load-'));
  });
  afterEach(() => {
    for (const m of models.splice(0)) if (m) m.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Each event in its own transaction: the reference. */
  function oneByOne(events: RecordedEvent[]): SqliteReadModel {
    const model = open();
    for (const event of events) model.project([event]);
    return model;
  }

  function rebuiltInBatches(events: RecordedEvent[], size: number, options: { maxDeferredEntries?: number } = {}): SqliteReadModel {
    const model = open();
    const rebuild = model.startRebuild({ ...options, inThread });
    for (let i = 0; i < events.length; i += size) rebuild.project(events.slice(i, i + size));
    rebuild.finish();
    return model;
  }

  function expectSame(actual: SqliteReadModel, expected: SqliteReadModel): void {
    expect(actual.checkpoint()).toBe(expected.checkpoint());
    expect(actual.deadLetters({ limit: 1000 })).toEqual(expected.deadLetters({ limit: 1000 }));
    expect(actual.digest()).toBe(expected.digest());
  }

  it('reproduces the sample log exactly, whatever the batch size, and leaves the query indexes in place', async () => {
    const store = new SqliteEventStore(join(dir, 'events.sqlite'));
    await writeSampleLog(store, { timelines: 3, commands: 400, random: seededRandom(11) });
    const events = await store.readAll({ limit: 10_000 });
    await store.close();
    const reference = oneByOne(events);
    for (const size of [1, 7, 100, events.length]) {
      const rebuilt = rebuiltInBatches(events, size);
      expectSame(rebuilt, reference);
      expect(rebuilt.entries({ timeline: 'story-1', order: 'asc', limit: 500, includeRetracted: true })).toEqual(
        reference.entries({ timeline: 'story-1', order: 'asc', limit: 500, includeRetracted: true }),
      );
    }
    // Holding at most 30 entries: the rows are written out midway, then batch by batch.
    expectSame(rebuiltInBatches(events, 50, { maxDeferredEntries: 30 }), reference);
  });

  /** Poison events, re-recorded entries and reopened timelines: what the fast path must hand over or mimic. */
  function awkwardLog(): RecordedEvent[] {
    const events: RecordedEvent[] = [];
    const add = (stream: string, revision: number, type: string, data: Record<string, unknown>) => {
      const event = recordedAt(events.length + 1, stream, revision, type, data);
      events.push(event);
      return event;
    };
    const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    add('timeline-news', 0, 'TimelineOpened', { slug: 'news', title: 'News', description: '' });
    add(`entry-${a}`, 0, 'SigningRecorded', signingData('news', a));
    add('entry-ghost', 1, 'EntryCorrected', { entryId: 'ghost', changes: { title: 'x' }, reason: 'r' }); // unknown entry
    add(`entry-${b}`, 0, 'SigningRecorded', signingData('nowhere', b)); // unknown timeline
    add('timeline-bad', 0, 'TimelineOpened', { slug: 'bad', title: null, description: '' }); // NOT NULL
    add(`entry-${c}`, 0, 'SigningRecorded', { ...signingData('news', c), actors: [{ not: 'a string' }] }); // cannot bind
    add(`entry-${c}`, 1, 'EntryCorrected', { entryId: c, changes: { actors: ['JP'] }, reason: 'r' }); // c never existed
    add(`entry-${a}`, 1, 'EntryCorrected', { entryId: a, changes: { title: 'A, corrected', actors: ['UA'] }, reason: 'r' });
    add('timeline-news', 1, 'TimelineOpened', { slug: 'news', title: 'News, again', description: 'reopened' }); // keeps opened_at
    add('timeline-sport', 0, 'TimelineOpened', { slug: 'sport', title: 'Sport', description: '' });
    add(`entry-${a}`, 2, 'SigningRecorded', signingData('sport', a)); // recorded again: keeps timeline and first position
    add(`entry-${d}`, 0, 'SigningRecorded', { ...signingData('news', d), occurredOn: null }); // NOT NULL
    add(`entry-${a}`, 3, 'EntryRetracted', { entryId: a, reason: 'duplicate' });
    add('elsewhere', 0, 'SomethingElse', { entryId: a });
    return events;
  }

  it('sets aside the same dead letters as one-by-one projection, and keeps what upserts keep', () => {
    const events = awkwardLog();
    const reference = oneByOne(events);
    expect(reference.deadLetterCount()).toBeGreaterThanOrEqual(5);
    for (const size of [1, 2, 3, 5, events.length]) expectSame(rebuiltInBatches(events, size), reference);
  });

  it('ignores events at or before the checkpoint, like project', () => {
    const events = [
      recordedAt(1, 'timeline-news', 0, 'TimelineOpened', { slug: 'news', title: 'News', description: '' }),
      recordedAt(2, 'entry-x', 0, 'SigningRecorded', signingData('news', 'x')),
    ];
    const model = open();
    const rebuild = model.startRebuild({ inThread });
    rebuild.project(events);
    expect(rebuild.project(events)).toEqual({ changes: [], deadLetters: [] });
    rebuild.finish();
    expectSame(model, oneByOne(events));
  });

  it('after a crash midway, reopens at its checkpoint with its indexes, and the projector catches up to the same read model', async () => {
    const store = new SqliteEventStore(join(dir, 'events.sqlite'));
    await writeSampleLog(store, { timelines: 2, commands: 200, random: seededRandom(5) });
    const events = await store.readAll({ limit: 10_000 });

    const crashed = new SqliteReadModel(join(dir, 'crashed.sqlite'));
    crashed.startRebuild({ inThread }).project(events.slice(0, 120)); // dies before finish
    crashed.close();

    const reopened = open('crashed.sqlite');
    expect(reopened.checkpoint()).toBe(events[119].position);
    // The entry rows, never written by the rebuild, were derived from the change log on open.
    expectSame(reopened, oneByOne(events.slice(0, 120)));
    expect(reopened.entriesAsOf({ timeline: 'story-0', order: 'asc', limit: 10, includeRetracted: true }, events[50].position).items.length).toBeGreaterThan(0);
    const projector = new Projector(store, reopened);
    projector.start();
    await projector.waitFor(events[events.length - 1].position, 5000);
    await projector.stop();
    await store.close();
    expectSame(reopened, oneByOne(events));
  });

  /** No poison event (one would make the rebuild write its entry rows early), but an entry recorded twice, corrected and retracted. */
  function rerecordedLog(): RecordedEvent[] {
    const [a, b] = [randomUUID(), randomUUID()];
    return [
      recordedAt(1, 'timeline-news', 0, 'TimelineOpened', { slug: 'news', title: 'News', description: '' }),
      recordedAt(2, 'timeline-sport', 0, 'TimelineOpened', { slug: 'sport', title: 'Sport', description: '' }),
      recordedAt(3, `entry-${a}`, 0, 'SigningRecorded', signingData('news', a)),
      recordedAt(4, `entry-${b}`, 0, 'SigningRecorded', signingData('sport', b)),
      recordedAt(5, `entry-${a}`, 1, 'DeliveryRecorded', { ...signingData('sport', a), supplier: 'JP', recipient: 'UA', items: [] }), // keeps timeline and kind
      recordedAt(6, `entry-${a}`, 2, 'EntryCorrected', { entryId: a, changes: { title: 'A, corrected', actors: ['UA', 'JP'] }, reason: 'r' }),
      recordedAt(7, `entry-${b}`, 1, 'EntryRetracted', { entryId: b, reason: 'duplicate' }),
    ];
  }

  it('after a crash at any point, derives on open exactly the entry rows one-by-one projection has', () => {
    for (const events of [rerecordedLog(), awkwardLog()]) {
      for (let cut = 1; cut <= events.length; cut++) {
        const name = `crashed-${randomUUID()}.sqlite`;
        const crashed = new SqliteReadModel(join(dir, name));
        const rebuild = crashed.startRebuild({ inThread });
        for (let i = 0; i < cut; i += 2) rebuild.project(events.slice(i, Math.min(i + 2, cut)));
        crashed.close(); // dies before finish
        expectSame(open(name), oneByOne(events.slice(0, cut)));
      }
    }
  });
});

describe('SqliteReadModel.startRebuild: a writer thread that fails', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'timeline-bulk-load-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stops the rebuild with the database error, at a checkpoint it fully reflects, which the projector resumes from', async () => {
    const store = new SqliteEventStore(join(dir, 'events.sqlite'));
    await writeSampleLog(store, { timelines: 2, commands: 200, random: seededRandom(3) });
    const events = await store.readAll({ limit: 10_000 });
    const reference = (upTo: number) => {
      const model = new SqliteReadModel(join(dir, `${randomUUID()}.sqlite`));
      for (const event of events.slice(0, upTo)) model.project([event]);
      return model;
    };

    const file = join(dir, 'read-model.sqlite');
    const model = new SqliteReadModel(file, { busyTimeoutMs: 10 });
    const rebuild = model.startRebuild();
    rebuild.project(events.slice(0, 40));
    const blocker = openSqlite(file);
    blocker.exec('BEGIN IMMEDIATE'); // another connection holds the write lock: the writer's next commit fails
    let failure: unknown;
    try {
      for (let i = 40; i < events.length; i += 20) rebuild.project(events.slice(i, i + 20));
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(RebuildWriteError);
    expect((failure as RebuildWriteError).code).toMatch(/^SQLITE_BUSY/);
    blocker.exec('ROLLBACK');
    blocker.close();
    rebuild.finish();

    const at = events.findIndex((e) => e.position === model.checkpoint()) + 1;
    const partial = reference(at);
    expect(model.digest()).toBe(partial.digest());
    partial.close();
    const projector = new Projector(store, model);
    projector.start();
    await projector.waitFor(events[events.length - 1].position, 5000);
    await projector.stop();
    await store.close();
    const whole = reference(events.length);
    expect(model.digest()).toBe(whole.digest());
    whole.close();
    model.close();
  });
});
