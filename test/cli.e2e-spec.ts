import { precisionOf } from '@timeline/domain';
import { SqliteEventStore } from '@timeline/event-store';
import { SqliteReadModel } from '@timeline/projections';
import type Database from 'better-sqlite3';
import { openSqlite } from '@timeline/event-store';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture, copyDataDir, runCli, tempDir, writeLog, type CliRun } from './support/cli';
import { generateLog } from '../libs/projections/src/testing/sample-log';
import { apiAt } from './support/http';
import { startService } from './support/service';
import { REPO_ROOT } from './support/ts-child';

interface SeedEntry {
  entryId: string;
  kind: string;
  occurredOn: string;
  title: string;
}
const SEED = JSON.parse(readFileSync(join(REPO_ROOT, 'seeds', 'japan-ukraine-support.json'), 'utf8')) as { timeline: { slug: string }; entries: SeedEntry[] };
const SLUG = SEED.timeline.slug;
/** Corrected once: its last event (revision 1) sits in the middle of the log. */
const B = SEED.entries[3].entryId;
/** Corrected three times: revisions 0 to 3, the last one the log's head. */
const A = SEED.entries[5].entryId;
/** Left as recorded: the read-model tamper target. */
const C = SEED.entries[8].entryId;
/** A position as the log writes it: 20 digits. */
const pos = (n: number) => String(n).padStart(20, '0');
/** The log's head after seeding: the timeline opened, then one event per seed entry. */
const SEEDED_HEAD = SEED.entries.length + 1;
/** The corrections the tampered store adds after the seeds: B's revision 1, then A's revisions 1 to 3. */
const B1 = SEEDED_HEAD + 1;
const [A1, A2, A3] = [SEEDED_HEAD + 2, SEEDED_HEAD + 3, SEEDED_HEAD + 4];

const dirs: string[] = [];
const dir = (name: string) => {
  const d = tempDir(name);
  dirs.push(d);
  return d;
};
const copy = (from: string, name: string) => {
  const d = copyDataDir(from, name);
  dirs.push(d);
  return d;
};
const cli = (dataDir: string, ...args: string[]) => runCli(args, { DATA_DIR: dataDir });
const headOf = async (dataDir: string) => {
  const store = new SqliteEventStore(join(dataDir, 'events.sqlite'));
  try {
    return await store.headPosition();
  } finally {
    await store.close();
  }
};
const digestOf = (dataDir: string) => {
  const readModel = new SqliteReadModel(join(dataDir, 'read-model.sqlite'));
  try {
    return readModel.digest();
  } finally {
    readModel.close();
  }
};
/** Opens the event store's file directly, as someone tampering with it would. */
const tamper = (dataDir: string, edit: (db: Database.Database) => void) => {
  const db = openSqlite(join(dataDir, 'events.sqlite'));
  try {
    edit(db);
  } finally {
    db.close();
  }
};
const position = (db: Database.Database, entryId: string, revision: number) =>
  (db.prepare('SELECT position FROM events WHERE stream = ? AND revision = ?').get(`entry-${entryId}`, revision) as { position: number }).position;
const expectExit = (run: CliRun, code: number) => {
  if (run.code !== code) throw new Error(`expected exit ${code}, got ${run.code}:\n${run.output}`);
};

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('timeline CLI on the seeds', () => {
  let seeded: string;

  beforeAll(async () => {
    seeded = dir('seeded');
  });

  it('seed on an empty data dir records the seed timeline; a second seed adds nothing', async () => {
    const first = await cli(seeded, 'seed');
    expectExit(first, 0);
    expect(first.stdout).toContain(`recorded ${SEED.entries.length + 1} events`);
    expect(first.stdout).toContain(`opened timeline-${SLUG}`);
    const head = await headOf(seeded);
    expect(head).toBe(pos(SEEDED_HEAD));

    const second = await cli(seeded, 'seed');
    expectExit(second, 0);
    expect(second.stdout).toContain('recorded nothing');
    expect(await headOf(seeded)).toBe(head);
  }, 30_000);

  it('verify on a clean seeded store exits 0', async () => {
    const run = await cli(seeded, 'verify');
    expectExit(run, 0);
    expect(run.stdout).toContain(`hash chains: ${SEED.entries.length + 1} events in ${SEED.entries.length + 1} streams, all intact`);
    expect(run.stdout).toContain('the read model matches the log');
    expect(run.stdout).toMatch(/^verify: OK/m);
  }, 30_000);

  it('rebuild prints equal digests before and after, and the throughput', async () => {
    const original = digestOf(seeded);
    const run = await cli(seeded, 'rebuild');
    expectExit(run, 0);
    const before = capture(run, /digest before: ([0-9a-f]{64})/);
    const after = capture(run, /digest after: +([0-9a-f]{64})/);
    expect(before).toBe(original);
    expect(after).toBe(before);
    expect(run.stdout).toMatch(new RegExp(`rebuilt ${SEED.entries.length + 1} events in [\\d.]+ s \\(\\d+ events/s\\)`));
    expect(run.stdout).toContain('digests equal: yes');
    expect(digestOf(seeded)).toBe(original);
  }, 30_000);

  it('export --format timelinejs --timeline writes a TimelineJS document of the active entries', async () => {
    const out = join(dir('timelinejs'), 'timeline.json');
    const run = await cli(seeded, 'export', '--format', 'timelinejs', '--timeline', SLUG, '--out', out);
    expectExit(run, 0);
    const document = JSON.parse(readFileSync(out, 'utf8')) as {
      title: { text: { headline: string } };
      events: Array<{ start_date: Record<string, number>; text: { headline: string }; group: string; unique_id: string }>;
    };
    expect(document.title.text.headline).toContain('support for Ukraine');
    expect(document.events.map((e) => e.unique_id).sort()).toEqual(SEED.entries.map((e) => e.entryId).sort());
    for (const event of document.events) {
      const entry = SEED.entries.find((e) => e.entryId === event.unique_id)!;
      const [year, month, day] = entry.occurredOn.split('-').map(Number);
      const precision = precisionOf(entry.occurredOn);
      expect(event.start_date).toEqual(precision === 'year' ? { year } : precision === 'month' ? { year, month } : { year, month, day });
      expect(event.group).toBe(entry.kind);
      expect(typeof event.text.headline).toBe('string');
    }
    // In date order, as the timeline lists them.
    const dates = document.events.map((e) => [e.start_date.year, e.start_date.month ?? 0, e.start_date.day ?? 0]);
    expect(dates).toEqual([...dates].sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]));
  }, 30_000);

  it('export ndjson, import into an empty data dir: verify passes and the read model digest is the original one', async () => {
    const exported = join(dir('export'), 'log.ndjson');
    expectExit(await cli(seeded, 'export', '--format', 'ndjson', '--out', exported), 0);
    const lines = readFileSync(exported, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(SEED.entries.length + 1);
    expect(Object.keys(JSON.parse(lines[0]) as object)).toEqual(['position', 'id', 'stream', 'type', 'revision', 'recordedAt', 'data', 'metadata']);

    const restored = dir('restored');
    const imported = await cli(restored, 'import', exported);
    expectExit(imported, 0);
    const digest = capture(imported, /read model digest: ([0-9a-f]{64})/);
    expect(digest).toBe(digestOf(seeded));
    expect(digestOf(restored)).toBe(digestOf(seeded));

    expectExit(await cli(restored, 'verify'), 0);
    // The restored log exports to the very same bytes.
    const again = join(dir('export-again'), 'log.ndjson');
    expectExit(await cli(restored, 'export', '--format', 'ndjson', '--out', again), 0);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(exported, 'utf8'));

    // Into a store that holds events: refused, and nothing is added.
    const head = await headOf(seeded);
    const refused = await cli(seeded, 'import', exported);
    expectExit(refused, 1);
    expect(refused.stderr).toContain('the event store is not empty');
    expect(await headOf(seeded)).toBe(head);
  }, 60_000);

  it('import refuses a file with an invalid line and writes nothing', async () => {
    const file = join(dir('bad-import'), 'bad.ndjson');
    const good = { position: '00000000000000000001', id: 'x', stream: 'timeline-x', type: 'TimelineOpened', revision: 0, recordedAt: '2025-01-01T00:00:00.000Z', data: {}, metadata: { recordedBy: 'a', correlationId: 'b', causationId: null, schemaVersion: 1 } };
    writeFileSync(file, `${JSON.stringify(good)}\n${JSON.stringify({ ...good, position: '00000000000000000002', revision: -1 })}\n`);
    const target = dir('bad-import-target');
    const run = await cli(target, 'import', file);
    expectExit(run, 2);
    expect(run.stderr).toMatch(/line 2: revision must be a whole number/);
    expect(await headOf(target)).toBeNull();
  }, 30_000);

  it('bad usage exits 2 with a message', async () => {
    const unknown = await runCli(['frobnicate']);
    expectExit(unknown, 2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");

    const noFormat = await cli(seeded, 'export');
    expectExit(noFormat, 2);
    expect(noFormat.stderr).toContain("required option '--format <format>' not specified");

    const noTimeline = await cli(seeded, 'export', '--format', 'timelinejs');
    expectExit(noTimeline, 2);
    expect(noTimeline.stderr).toContain('needs --timeline');

    const noStore = await cli(join(seeded, 'no-such-dir'), 'verify');
    expectExit(noStore, 2);
    expect(noStore.stderr).toContain('no event store at');
  }, 30_000);
});

/**
 * Tampering with the files directly. The store: seeds, then corrections through
 * the real service, so that streams have several events:
 * entry B: revisions 0, 1 (position B1); entry A: revisions 0, 1, 2, 3 (positions A1 to A3, A3 the head).
 */
describe('timeline verify on a tampered store', () => {
  let prepared: string;
  /** The read model as it stood after seeding, before the corrections: 4 events behind. */
  let seededReadModel: Buffer;

  beforeAll(async () => {
    prepared = dir('prepared');
    expectExit(await cli(prepared, 'seed'), 0);
    seededReadModel = readFileSync(join(prepared, 'read-model.sqlite'));
    const service = await startService({}, prepared);
    try {
      const api = apiAt(service.url);
      const correct = async (entryId: string, revision: number, title: string) => {
        const reply = await api.patch(`/entries/${entryId}`, { changes: { title }, reason: 'a better source' }, { 'If-Match': `"${revision}"` });
        if (reply.status !== 200) throw new Error(`PATCH answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      };
      await correct(B, 0, 'Corrected title of B');
      await correct(A, 0, 'Corrected title of A, first');
      await correct(A, 1, 'Corrected title of A, second');
      await correct(A, 2, 'Corrected title of A, third');
    } finally {
      await service.stop({ removeData: false });
    }
    expect(await headOf(prepared)).toBe(pos(A3));
  }, 60_000);

  const verifyCopy = async (name: string, edit: (db: Database.Database) => void) => {
    const copyDir = copy(prepared, name);
    tamper(copyDir, edit);
    return cli(copyDir, 'verify');
  };

  it('the prepared store verifies clean', async () => {
    expectExit(await cli(prepared, 'verify'), 0);
  }, 30_000);

  it('a byte changed in an event in the middle of a stream', async () => {
    const run = await verifyCopy('byte-middle', (db) => {
      const changed = db.prepare(`UPDATE events SET data = replace(data, 'Corrected title', 'corrected title') WHERE stream = ? AND revision = 1`).run(`entry-${A}`);
      expect(changed.changes).toBe(1);
    });
    expectExit(run, 1);
    expect(run.stdout).toMatch(new RegExp(`^  entry-${A} revision 1 at position ${pos(A1)}: content does not match its hash`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^verify: FAILED: .*the first: entry-${A} revision 1 at position ${pos(A1)}$`, 'm'));
  }, 30_000);

  it("a byte changed in a stream's last event", async () => {
    const run = await verifyCopy('byte-last', (db) => {
      const changed = db.prepare(`UPDATE events SET data = replace(data, 'Corrected title', 'corrected title') WHERE stream = ? AND revision = 3`).run(`entry-${A}`);
      expect(changed.changes).toBe(1);
    });
    expectExit(run, 1);
    expect(run.stdout).toMatch(new RegExp(`^  entry-${A} revision 3 at position ${pos(A3)}: content does not match its hash`, 'm'));
  }, 30_000);

  it('an event deleted in the middle of a stream', async () => {
    const run = await verifyCopy('delete-middle', (db) => {
      expect(db.prepare('DELETE FROM events WHERE stream = ? AND revision = 1').run(`entry-${A}`).changes).toBe(1);
    });
    expectExit(run, 1);
    expect(run.stdout).toMatch(new RegExp(`^  entry-${A} revision 2 at position ${pos(A2)}: revision 1 is missing`, 'm'));
    expect(run.stdout).toContain(`positions ${A1} to ${A1} are missing from the log`);
  }, 30_000);

  it("a stream's last event deleted (the log goes on after it)", async () => {
    const run = await verifyCopy('delete-last', (db) => {
      expect(position(db, B, 1)).toBe(B1);
      expect(db.prepare('DELETE FROM events WHERE stream = ? AND revision = 1').run(`entry-${B}`).changes).toBe(1);
    });
    expectExit(run, 1);
    // No chain link follows it: the gap in the positions gives it away, and the read model names it.
    expect(run.stdout).toContain(`positions ${B1} to ${B1} are missing from the log: events were deleted`);
    expect(run.stdout).toMatch(new RegExp(`^  entry-${B} revision 1 at position ${pos(B1)}: the read model shows revision 1 .*the log only reaches revision 0`, 'm'));
  }, 30_000);

  it("the log's very last event deleted: the read model is ahead of the log and names it", async () => {
    const run = await verifyCopy('delete-head', (db) => {
      expect(db.prepare('DELETE FROM events WHERE stream = ? AND revision = 3').run(`entry-${A}`).changes).toBe(1);
    });
    expectExit(run, 1);
    expect(run.stdout).toContain(`hash chains: ${A2} events in ${SEEDED_HEAD} streams, all intact`);
    expect(run.stdout).toContain(`the read model is ahead of the log (checkpoint ${pos(A3)}, head ${pos(A2)})`);
    expect(run.stdout).toMatch(new RegExp(`^  entry-${A} revision 3 at position ${pos(A3)}: the read model shows revision 3`, 'm'));
  }, 30_000);

  it('two events of a stream swapped', async () => {
    const run = await verifyCopy('swap', (db) => {
      const one = position(db, A, 1);
      const two = position(db, A, 2);
      db.transaction(() => {
        db.prepare('UPDATE events SET revision = -1 WHERE position = ?').run(one);
        db.prepare('UPDATE events SET revision = 1 WHERE position = ?').run(two);
        db.prepare('UPDATE events SET revision = 2 WHERE position = ?').run(one);
      })();
    });
    expectExit(run, 1);
    // Log order now reads revisions 0, 2, 1, 3 for this stream; the first break is named first.
    expect(run.stdout).toMatch(new RegExp(`^  entry-${A} revision 2 at position ${pos(A1)}: revision 1 is missing`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^  entry-${A} revision 1 at position ${pos(A2)}: revision 1 comes after revision 2`, 'm'));
    expect(run.stdout.indexOf(`revision 2 at position ${pos(A1)}`)).toBeLessThan(run.stdout.indexOf(`revision 1 at position ${pos(A2)}`));
  }, 30_000);

  it("two events' contents swapped (type, data and metadata)", async () => {
    const run = await verifyCopy('swap-content', (db) => {
      const one = position(db, A, 1);
      const two = position(db, A, 2);
      type Content = { type: string; data: string; metadata: string };
      const read = db.prepare('SELECT type, data, metadata FROM events WHERE position = ?');
      const write = db.prepare('UPDATE events SET type = @type, data = @data, metadata = @metadata WHERE position = @position');
      const first = read.get(one) as Content;
      const second = read.get(two) as Content;
      db.transaction(() => {
        write.run({ ...second, position: one });
        write.run({ ...first, position: two });
      })();
    });
    expectExit(run, 1);
    expect(run.stdout).toMatch(new RegExp(`^  entry-${A} revision 1 at position ${pos(A1)}: prevHash does not match the hash of revision 0`, 'm'));
  }, 30_000);

  /** A copy of the prepared store whose read model has one entry's title changed. */
  const withTamperedReadModel = (name: string) => {
    const copyDir = copy(prepared, name);
    const db = openSqlite(join(copyDir, 'read-model.sqlite'));
    try {
      const row = db.prepare('SELECT body FROM entries WHERE entry_id = ?').get(C) as { body: string };
      const body = JSON.parse(row.body) as { title: string };
      db.prepare('UPDATE entries SET body = ? WHERE entry_id = ?').run(JSON.stringify({ ...body, title: `${body.title}!` }), C);
    } finally {
      db.close();
    }
    return copyDir;
  };

  it("a row of the read model's entries changed: a projection mismatch", async () => {
    const copyDir = withTamperedReadModel('read-model');
    const run = await cli(copyDir, 'verify');
    expectExit(run, 1);
    expect(run.stdout).toContain('all intact');
    const stored = capture(run, /stored digest: +([0-9a-f]{64})/);
    const replayed = capture(run, /replayed digest: +([0-9a-f]{64})/);
    expect(stored).not.toBe(replayed);
    expect(run.stdout).toContain("digest mismatch: the read model is at the log's head");
    expect(run.stdout).toMatch(new RegExp(`^  entry-${C} revision 0 at position ${pos(10)}: the read model's entry differs from the log's replay in title`, 'm'));
  }, 30_000);

  it('rebuild over a changed read model that was at the head: digest mismatch, exit 1', async () => {
    const copyDir = withTamperedReadModel('rebuild-mismatch');
    const run = await cli(copyDir, 'rebuild');
    expectExit(run, 1);
    expect(capture(run, /digest before: ([0-9a-f]{64})/)).not.toBe(capture(run, /digest after: +([0-9a-f]{64})/));
    expect(run.stdout).toContain('digest mismatch');
    // The rebuilt read model is the log's own again.
    expectExit(await cli(copyDir, 'verify'), 0);
  }, 30_000);

  it('a read model behind the log is reported as behind, with both digests', async () => {
    const copyDir = copy(prepared, 'behind');
    for (const suffix of ['-wal', '-shm']) rmSync(join(copyDir, `read-model.sqlite${suffix}`), { force: true });
    writeFileSync(join(copyDir, 'read-model.sqlite'), seededReadModel);
    const run = await cli(copyDir, 'verify');
    expectExit(run, 1);
    expect(run.stdout).toContain('all intact');
    expect(run.stdout).toContain(`the read model is behind the log (checkpoint ${pos(SEEDED_HEAD)}, head ${pos(A3)}); up to its checkpoint it matches the log`);
    expect(capture(run, /stored digest: +([0-9a-f]{64})/)).not.toBe(capture(run, /replayed digest: +([0-9a-f]{64})/));

    // rebuild says so too, and is not a failure.
    const rebuilt = await cli(copyDir, 'rebuild');
    expectExit(rebuilt, 0);
    expect(rebuilt.stdout).toContain(`the read model is not at the log's head (checkpoint ${pos(SEEDED_HEAD)}, head ${pos(A3)})`);
    expect(rebuilt.stdout).toContain('digests equal: no, as expected');
  }, 30_000);
});

describe('timeline export --format ndjson --timeline', () => {
  it("writes only that timeline's streams, which import and verify on their own", async () => {
    const dataDir = dir('stories');
    const events = generateLog(600, { timelines: 3 });
    await writeLog(dataDir, events);
    const out = join(dir('story-export'), 'story-1.ndjson');
    const run = await cli(dataDir, 'export', '--format', 'ndjson', '--timeline', 'story-1', '--out', out);
    expectExit(run, 0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; stream: string; data: { timeline?: string } });
    const expected = events.filter((e) => e.stream === 'timeline-story-1' || e.data.timeline === 'story-1');
    expect(expected.length).toBeGreaterThan(100);
    expect(expected.length).toBeLessThan(events.length);
    expect(lines.map((l) => l.id)).toEqual(expected.map((e) => e.id));

    const alone = dir('story-alone');
    const imported = await cli(alone, 'import', out);
    expectExit(imported, 0);
    expect(imported.stdout).toContain('positions renumbered');
    const verified = await cli(alone, 'verify');
    expectExit(verified, 0);

    const unknown = await cli(dataDir, 'export', '--format', 'ndjson', '--timeline', 'no-such-story');
    expectExit(unknown, 2);
    expect(unknown.stderr).toContain("no timeline 'no-such-story' in the log");
  }, 60_000);
});

describe('timeline rebuild on a generated log of 100,000 events', () => {
  const COUNT = 100_000;

  it('projects it, then rebuilds it to the same digest, printing the throughput', async () => {
    const dataDir = dir('large');
    const events = generateLog(COUNT, { timelines: 8 });
    await writeLog(dataDir, events);

    const first = await cli(dataDir, 'rebuild');
    expectExit(first, 0);
    expect(first.stdout).toContain("the read model is not at the log's head (checkpoint none");
    expect(first.stdout).toMatch(/rebuilt 100000 events in/);
    // Plain progress lines when not on a terminal.
    expect(first.stderr).toMatch(/^rebuild: \d+\/100000 events \(\d+ events\/s\)$/m);
    const projected = capture(first, /digest after: +([0-9a-f]{64})/);

    const second = await cli(dataDir, 'rebuild');
    expectExit(second, 0);
    expect(capture(second, /digest before: ([0-9a-f]{64})/)).toBe(projected);
    expect(capture(second, /digest after: +([0-9a-f]{64})/)).toBe(projected);
    expect(second.stdout).toContain('digests equal: yes');
    const throughput = Number(capture(second, /rebuilt 100000 events in [\d.]+ s \((\d+) events\/s\)/));
    expect(throughput).toBeGreaterThan(0);
    process.stdout.write(`rebuild of ${COUNT} events: ${throughput} events/s\n`);
  }, 180_000);
});
