/**
 * The verifier against a real embedded store: a hash-chained log is written
 * once (writeSampleLog chains every append), then each test tampers with its
 * own copy of the file through better-sqlite3, the way someone with write
 * access to the file would, and reopens the store to verify it.
 */
import { SqliteEventStore, type RecordedEvent } from '@timeline/event-store';
import type Database from 'better-sqlite3';
import { openSqlite } from '@timeline/event-store';
import type { EventRow as Row } from '../../event-store/src/sqlite/sqlite-schema';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSampleLog } from '../../projections/src/testing/sample-log';
import { verifyChains, type ChainReport, type VerifyOptions } from './chain-verifier';
import { eventHash } from './event-hash';
import { seededRandom } from '../../projections/src/testing/seeded-random';

jest.setTimeout(20_000);


describe('verifyChains', () => {
  let dir: string;
  let pristine: string;
  let log: RecordedEvent[];
  let streams: Map<string, RecordedEvent[]>;
  let copies = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'timeline-verify-'));
    pristine = join(dir, 'pristine.sqlite');
    const store = new SqliteEventStore(pristine);
    await writeSampleLog(store, { timelines: 3, commands: 120, random: seededRandom(42) });
    log = await store.readAll({ limit: 10_000 });
    await store.close();
    streams = new Map();
    for (const e of log) streams.set(e.stream, [...(streams.get(e.stream) ?? []), e]);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of the pristine file, tampered with by `tamper` while no store has it open. */
  function tampered(tamper: (db: Database.Database) => void): string {
    const file = join(dir, `copy-${++copies}.sqlite`);
    copyFileSync(pristine, file);
    for (const suffix of ['-wal', '-shm']) if (existsSync(pristine + suffix)) copyFileSync(pristine + suffix, file + suffix);
    const db = openSqlite(file);
    try {
      tamper(db);
    } finally {
      db.close();
    }
    return file;
  }

  async function verify(file: string, options?: VerifyOptions): Promise<ChainReport> {
    const store = new SqliteEventStore(file);
    try {
      return await verifyChains(store, options);
    } finally {
      await store.close();
    }
  }

  const rowAt = (db: Database.Database, position: string) =>
    db.prepare(`SELECT * FROM events WHERE position = ?`).get(Number(position)) as Row;

  /** Changes exactly one byte of the stored data: one hex digit of the entryId (or a letter of the slug). */
  function changeOneByte(db: Database.Database, event: RecordedEvent): void {
    const { data } = rowAt(db, event.position);
    const marker = data.includes('"entryId":"') ? '"entryId":"' : '"slug":"';
    const at = data.indexOf(marker) + marker.length;
    const changed = data.slice(0, at) + (data[at] === 'a' ? 'b' : 'a') + data.slice(at + 1);
    expect(Buffer.from(changed).length).toBe(Buffer.from(data).length);
    expect([...changed].filter((c, i) => c !== data[i])).toHaveLength(1);
    JSON.parse(changed); // still valid JSON: only the hash can tell
    db.prepare(`UPDATE events SET data = ? WHERE position = ?`).run(changed, Number(event.position));
  }

  const deleteEvent = (db: Database.Database, event: RecordedEvent) =>
    expect(db.prepare(`DELETE FROM events WHERE position = ?`).run(Number(event.position)).changes).toBe(1);

  /** A stream of at least `length` events (an entry that was corrected or retracted). */
  function streamWith(length: number, accept: (events: RecordedEvent[]) => boolean = () => true): RecordedEvent[] {
    const found = [...streams.values()].find((events) => events.length >= length && accept(events));
    if (!found) throw new Error(`the sample log has no stream of ${length}+ events`);
    return found;
  }

  const problem = (event: RecordedEvent, text: RegExp) => ({
    stream: event.stream,
    revision: event.revision,
    position: event.position,
    problem: expect.stringMatching(text),
  });

  it('finds no problem in an untouched hash-chained log, with or without sequential positions', async () => {
    expect(log.length).toBeGreaterThan(100);
    expect(Math.max(...[...streams.values()].map((s) => s.length))).toBeGreaterThanOrEqual(3);
    const file = tampered(() => {});
    for (const sequentialPositions of [false, true]) {
      const report = await verify(file, { sequentialPositions });
      expect(report).toEqual({ events: log.length, streams: streams.size, problems: [] });
    }
  });

  it('every stored event carries prevHash (the stored hash before it, null first) and its own hash', () => {
    for (const events of streams.values()) {
      events.forEach((e, i) => {
        expect(e.revision).toBe(i);
        expect(e.metadata.hash).toBe(eventHash(e));
        expect(e.metadata.prevHash).toBe(i === 0 ? null : events[i - 1].metadata.hash);
      });
    }
  });

  it('reports one byte changed in the data of a middle event, at that event', async () => {
    const target = streamWith(3)[1];
    const report = await verify(tampered((db) => changeOneByte(db, target)));
    expect(report.problems[0]).toEqual(problem(target, /content does not match its hash/));
    // The next event links to the stored hash, which was left alone: only the altered event is reported.
    expect(report.problems).toHaveLength(1);
    expect(report.events).toBe(log.length);
  });

  it('reports one byte changed in the last event of a stream', async () => {
    const events = streamWith(2);
    const target = events[events.length - 1];
    const report = await verify(tampered((db) => changeOneByte(db, target)));
    expect(report.problems).toEqual([problem(target, /content does not match its hash/)]);
  });

  it('reports one byte changed in the only event of a timeline stream', async () => {
    const target = streams.get('timeline-story-1')![0];
    const report = await verify(tampered((db) => changeOneByte(db, target)));
    expect(report.problems).toEqual([problem(target, /content does not match its hash/)]);
  });

  it('reports a changed metadata field (recordedBy) and a removed hash', async () => {
    const events = streamWith(3);
    const report = await verify(
      tampered((db) => {
        const row = rowAt(db, events[0].position);
        const metadata = { ...JSON.parse(row.metadata), recordedBy: 'mallory' };
        db.prepare(`UPDATE events SET metadata = ? WHERE position = ?`).run(JSON.stringify(metadata), row.position);
        const last = rowAt(db, events[2].position);
        const { hash: _removed, ...rest } = JSON.parse(last.metadata);
        db.prepare(`UPDATE events SET metadata = ? WHERE position = ?`).run(JSON.stringify(rest), last.position);
      }),
    );
    expect(report.problems[0]).toEqual(problem(events[0], /content does not match its hash/));
    expect(report.problems).toContainEqual(problem(events[2], /has no hash/));
  });

  it('reports a deleted middle event at the event after it (its revision is missing, its prevHash breaks)', async () => {
    const events = streamWith(3);
    const report = await verify(tampered((db) => deleteEvent(db, events[1])));
    expect(report.problems[0]).toEqual(problem(events[2], /revision 1 is missing/));
    expect(report.problems).toContainEqual(problem(events[2], /prevHash does not match/));
    expect(report.problems.every((p) => p.stream === events[2].stream)).toBe(true);
    expect(report.events).toBe(log.length - 1);
  });

  it('reports a deleted first event of a stream (the new first has a prevHash)', async () => {
    const events = streamWith(2);
    const report = await verify(tampered((db) => deleteEvent(db, events[0])));
    expect(report.problems[0]).toEqual(problem(events[1], /revision 0 is missing/));
    expect(report.problems).toContainEqual(problem(events[1], /prevHash should be null/));
  });

  it('with sequentialPositions, also reports the gap a deleted middle event leaves in the log', async () => {
    const events = streamWith(3);
    const report = await verify(tampered((db) => deleteEvent(db, events[1])), { sequentialPositions: true });
    const after = log[log.findIndex((e) => e.position === events[1].position) + 1];
    expect(report.problems).toContainEqual(problem(after, /missing from the log/));
    expect(report.problems).toContainEqual(problem(events[2], /revision 1 is missing/));
  });

  describe('a deleted last event of a stream', () => {
    /** The last event of a stream of 2+ events, not the last event of the whole log. */
    const target = () => {
      const events = streamWith(2, (s) => s[s.length - 1].position !== log[log.length - 1].position);
      return events[events.length - 1];
    };

    it('is caught with sequentialPositions: true, as the gap before the next event of the log', async () => {
      const deleted = target();
      const report = await verify(tampered((db) => deleteEvent(db, deleted)), { sequentialPositions: true });
      const next = log[log.findIndex((e) => e.position === deleted.position) + 1];
      const gap = Number(deleted.position);
      expect(report.problems).toEqual([problem(next, new RegExp(`positions ${gap} to ${gap} are missing from the log`))]);
    });

    it('is NOT detectable with sequentialPositions: false (no chain link follows it): a documented limit', async () => {
      const report = await verify(tampered((db) => deleteEvent(db, target())), { sequentialPositions: false });
      expect(report.problems).toEqual([]);
      expect(report.events).toBe(log.length - 1);
    });

    it('is NOT detectable even with sequentialPositions when it is the last event of the whole log: a documented limit', async () => {
      const last = log[log.length - 1];
      const report = await verify(tampered((db) => deleteEvent(db, last)), { sequentialPositions: true });
      expect(report.problems).toEqual([]);
    });
  });

  it('reports two events of a stream whose contents were swapped, at the first of them', async () => {
    const events = streamWith(3);
    const [a, b] = [events[1], events[2]];
    const report = await verify(
      tampered((db) => {
        const [ra, rb] = [rowAt(db, a.position), rowAt(db, b.position)];
        const update = db.prepare(`UPDATE events SET type = ?, data = ?, metadata = ? WHERE position = ?`);
        update.run(rb.type, rb.data, rb.metadata, ra.position);
        update.run(ra.type, ra.data, ra.metadata, rb.position);
      }),
    );
    expect(report.problems[0]).toEqual(problem(a, /prevHash does not match the hash of revision 0/));
    expect(report.problems).toContainEqual(problem(b, /prevHash does not match the hash of revision 1/));
  });

  it('reports the contents of the first two events of a stream swapped, at revision 0', async () => {
    const events = streamWith(2);
    const report = await verify(
      tampered((db) => {
        const [r0, r1] = [rowAt(db, events[0].position), rowAt(db, events[1].position)];
        const update = db.prepare(`UPDATE events SET type = ?, data = ?, metadata = ? WHERE position = ?`);
        update.run(r1.type, r1.data, r1.metadata, r0.position);
        update.run(r0.type, r0.data, r0.metadata, r1.position);
      }),
    );
    expect(report.problems[0]).toEqual(problem(events[0], /prevHash should be null/));
  });

  it('reports an altered middle event whose hash was recomputed, at the next event (its prevHash breaks)', async () => {
    const events = streamWith(3);
    const report = await verify(
      tampered((db) => {
        const row = rowAt(db, events[1].position);
        const data = { ...JSON.parse(row.data), reason: 'rewritten' };
        const metadata = JSON.parse(row.metadata);
        metadata.hash = eventHash({ type: row.type, data, metadata });
        db.prepare(`UPDATE events SET data = ?, metadata = ? WHERE position = ?`).run(JSON.stringify(data), JSON.stringify(metadata), row.position);
      }),
    );
    expect(report.problems).toEqual([problem(events[2], /prevHash does not match the hash of revision 1/)]);
  });

  it('stops collecting at maxProblems and reports progress', async () => {
    const [x, y] = [streamWith(3)[1], streams.get('timeline-story-0')![0]];
    const file = tampered((db) => {
      changeOneByte(db, x);
      changeOneByte(db, y);
    });
    expect((await verify(file)).problems).toHaveLength(2);
    const progress: number[] = [];
    const report = await verify(file, { maxProblems: 1, onProgress: (n) => progress.push(n) });
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0].position).toBe([x, y].map((e) => e.position).sort()[0]);
    expect(progress[progress.length - 1]).toBe(log.length);
  });
});
