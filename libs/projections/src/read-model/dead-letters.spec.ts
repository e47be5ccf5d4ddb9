import type { RecordedEvent } from '@timeline/event-store';
import { openSqlite } from '@timeline/event-store';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFailure, isInfrastructureFailure } from './dead-letters';
import { SqliteReadModel } from './sqlite-read-model';
import { recordedAt, signingData, testPosition } from '../testing/recorded-events';

const position = testPosition;
const GHOST = '00000000-0000-4000-8000-00000000dead';

/** Events as the store records them, positions 1, 2, 3... */
class Log {
  private last = 0;
  readonly events: RecordedEvent[] = [];

  open(slug: string, data: Record<string, unknown> = { slug, title: `Timeline ${slug}`, description: '' }): RecordedEvent {
    return this.event(`timeline-${slug}`, 0, 'TimelineOpened', data);
  }

  record(timeline: string, entryId: string = randomUUID(), overrides: Record<string, unknown> = {}): RecordedEvent {
    return this.event(`entry-${entryId}`, 0, 'SigningRecorded', { ...signingData(timeline, entryId), ...overrides });
  }

  correct(timeline: string, entryId: string, revision: number, title: string): RecordedEvent {
    return this.event(`entry-${entryId}`, revision, 'EntryCorrected', { entryId, timeline, changes: { title }, reason: 'a better source' });
  }

  event(stream: string, revision: number, type: string, data: Record<string, unknown>): RecordedEvent {
    this.last += 1;
    const event = recordedAt(this.last, stream, revision, type, data);
    this.events.push(event);
    return event;
  }
}

describe('SqliteReadModel: dead letters', () => {
  let dir: string;
  const models: SqliteReadModel[] = [];
  const open = (name = `${randomUUID()}.sqlite`, options = {}) => {
    const model = new SqliteReadModel(join(dir, name), options);
    models.push(model);
    return model;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'timeline-dead-letters-'));
  });
  afterEach(() => {
    for (const m of models.splice(0)) m.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** open news, record A, correct an entry that does not exist (poison), correct A, record B. */
  function logWithPoison() {
    const log = new Log();
    const a = randomUUID();
    const b = randomUUID();
    log.open('news');
    log.record('news', a);
    const poison = log.correct('news', GHOST, 1, 'Nobody home');
    log.correct('news', a, 1, 'Corrected A');
    log.record('news', b);
    return { log, a, b, poison };
  }

  it('sets a poison event aside with its error, applies the events around it once, and moves the checkpoint past it', () => {
    const { log, a, b, poison } = logWithPoison();
    const model = open();

    const result = model.project(log.events);

    expect(result.changes.map((c) => [c.type, c.entry.entryId])).toEqual([
      ['entry.recorded', a],
      ['entry.corrected', a],
      ['entry.recorded', b],
    ]);
    expect(result.deadLetters).toEqual([
      {
        position: poison.position,
        stream: poison.stream,
        type: 'EntryCorrected',
        revision: 1,
        error: `Error: event at ${poison.position} changes unknown entry ${GHOST}`,
        event: poison,
        recordedAt: poison.recordedAt,
      },
    ]);
    expect(model.checkpoint()).toBe(log.events[log.events.length - 1].position);
    expect(model.deadLetterCount()).toBe(1);
    expect(model.deadLetters()).toEqual(result.deadLetters);
    expect(model.entry(a)).toMatchObject({ title: 'Corrected A', revision: 1 });
    expect(model.timeline('news')).toMatchObject({ entryCount: 2 });
    expect(model.entry(GHOST)).toBeUndefined();
  });

  it('keeps the count across a reopen, and a re-delivered batch neither re-applies nor re-records anything', () => {
    const { log } = logWithPoison();
    const model = open('read.sqlite');
    model.apply(log.events);
    const digest = model.digest();

    expect(model.project(log.events)).toEqual({ changes: [], deadLetters: [] });
    expect(model.digest()).toBe(digest);
    model.close();
    models.pop();

    const reopened = open('read.sqlite');
    expect(reopened.deadLetterCount()).toBe(1);
    expect(reopened.digest()).toBe(digest);
  });

  it('is deterministic: however the log is cut into batches, the read model and its dead letters come out identical', () => {
    const { log } = logWithPoison();
    const later = new Log();
    // more events after the poison, including a second poison of another kind
    for (let i = 0; i < 5; i++) later.record('news');
    const events = [...log.events, ...later.events.map((e, i) => ({ ...e, position: position(log.events.length + i + 1) }))];
    events.push({ ...log.events[0], id: randomUUID(), stream: 'timeline-broken', position: position(events.length + 1), data: { slug: 'broken' } });

    const whole = open();
    whole.apply(events);
    const oneByOne = open();
    for (const e of events) oneByOne.apply([e]);
    const inPairs = open();
    for (let i = 0; i < events.length; i += 2) inPairs.apply(events.slice(i, i + 2));

    expect(whole.deadLetterCount()).toBe(2);
    expect(oneByOne.digest()).toBe(whole.digest());
    expect(inPairs.digest()).toBe(whole.digest());
    expect(whole.timeline('news')).toMatchObject({ entryCount: 7 });
  });

  it('dead-letters events whose data has the wrong shape, whatever the projection trips over', () => {
    const log = new Log();
    log.open('news');
    const noTitle = log.open('untitled', { slug: 'untitled', title: null, description: '' }); // NOT NULL constraint
    const objectTitle = log.open('odd', { slug: 'odd', title: { text: 'not a string' }, description: '' }); // cannot bind
    const actorsNotList = log.record('news', randomUUID(), { actors: 42 }); // not iterable
    const unknownTimeline = log.record('nowhere');
    const good = log.record('news');
    const model = open();

    const { deadLetters } = model.project(log.events);

    expect(deadLetters.map((d) => d.position)).toEqual([noTitle, objectTitle, actorsNotList, unknownTimeline].map((e) => e.position));
    expect(deadLetters[0].error).toBe('SqliteError (SQLITE_CONSTRAINT_NOTNULL): NOT NULL constraint failed: timelines.title');
    expect(deadLetters[1].error).toMatch(/^TypeError: SQLite3 can only bind/);
    expect(deadLetters[2].error).toMatch(/^TypeError: /);
    expect(deadLetters[3].error).toBe(`Error: event at ${unknownTimeline.position} refers to unknown timeline 'nowhere'`);
    expect(model.entry(good.data.entryId as string)).toBeDefined();
    expect(model.entry(actorsNotList.data.entryId as string)).toBeUndefined(); // rolled back whole, not half-saved
    expect(model.timelines().map((t) => t.slug)).toEqual(['news']);
  });

  it('does not dead-letter when the database fails: the batch is rolled back whole and the error thrown, to be retried', () => {
    const { log } = logWithPoison();
    const file = join(dir, 'locked.sqlite');
    const model = open('locked.sqlite', { busyTimeoutMs: 10 });
    model.apply(log.events.slice(0, 2));
    const digest = model.digest();

    const other = openSqlite(file);
    other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
    try {
      expect(() => model.apply(log.events.slice(2))).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
      expect(model.checkpoint()).toBe(log.events[1].position);
      expect(model.deadLetterCount()).toBe(0);
      expect(model.digest()).toBe(digest);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }

    expect(model.project(log.events.slice(2)).deadLetters).toHaveLength(1);
    expect(model.checkpoint()).toBe(log.events[log.events.length - 1].position);
  });

  it('is emptied by reset and counted in the digest', () => {
    const { log } = logWithPoison();
    const withPoison = open();
    withPoison.apply(log.events);
    const without = open();
    without.apply(log.events.filter((e) => e.stream !== `entry-${GHOST}`));
    expect(withPoison.digest()).not.toBe(without.digest());

    withPoison.reset();
    expect(withPoison.deadLetterCount()).toBe(0);
    expect(withPoison.deadLetters()).toEqual([]);
  });
});

describe('isInfrastructureFailure', () => {
  const sqlite = (code: string) => Object.assign(new Error(code), { name: 'SqliteError', code });

  it.each(['SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_NOMEM', 'SQLITE_CORRUPT', 'SQLITE_ERROR'])(
    '%s is the database, to be retried',
    (code) => {
      expect(isInfrastructureFailure(sqlite(code), true)).toBe(true);
    },
  );

  it.each(['SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG'])('%s is the event, a poison', (code) => {
    expect(isInfrastructureFailure(sqlite(code), true)).toBe(false);
  });

  it('an error thrown by the projection is the event; any error once the database is closed is the database', () => {
    expect(isInfrastructureFailure(new Error('event at 1 changes unknown entry x'), true)).toBe(false);
    expect(isInfrastructureFailure(new TypeError('x is not iterable'), true)).toBe(false);
    expect(isInfrastructureFailure(new TypeError('The database connection is not open'), false)).toBe(true);
  });

  it('describes an error the same way every time, and briefly', () => {
    expect(describeFailure(sqlite('SQLITE_CONSTRAINT_NOTNULL'))).toBe('SqliteError (SQLITE_CONSTRAINT_NOTNULL): SQLITE_CONSTRAINT_NOTNULL');
    expect(describeFailure('plain')).toBe('thrown: plain');
    expect(describeFailure(new Error('x'.repeat(5000))).length).toBe(2000);
  });
});
