/**
 * Acceptance: the maintenance CLI as the image runs it (`node dist/apps/timeline-cli/src/main.js …`,
 * see ./support/artifact.ts), on a data dir written by the BUILT service.
 *
 * The service is started on a fresh DATA_DIR (seeds on), a timeline is recorded over
 * HTTP (each kind, corrections, a retraction), what the service serves is kept, and
 * the service is stopped so that the SQLite files are free. Then it proves that:
 *   - `verify` passes (exit 0) on what the service wrote, and fails (exit 1, naming
 *     the stream and revision) on copies whose event store or read model was edited;
 *   - `export` writes the very NDJSON log and TimelineJS document the service served;
 *   - `rebuild` exits 0 with equal digests, rebuilds a deleted read model from the log,
 *     and a service restarted on the rebuilt data dir serves exactly what it served before;
 *   - `import` loads that export into an empty store (then verifies and rebuilds), refuses
 *     a store that holds events, and a service started on the imported store serves the
 *     same timeline.
 *
 * On either store (ACCEPTANCE_STORE, see ./support/store.ts). With KurrentDB the log is
 * in the test file's KurrentDB emulator and the data dir holds only the read model (a
 * SQLite file on both stores); the CLI is given EVENTSTORE_CONNECTION_STRING as the
 * service is. What only the embedded store has is chosen by store when the file is
 * loaded (describeOn): tampering with events.sqlite, its log numbered 1, 2, 3, …, and
 * a DATA_DIR without events.sqlite; KurrentDB has its counterpart (a KurrentDB that
 * cannot be reached).
 */
import Database from 'better-sqlite3';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  announcement as announcementBody,
  apiAt,
  delivery as deliveryBody,
  expectStatus,
  signing as signingBody,
  type Api,
  type Body,
  type Json,
  type LogItem,
  type TimelineJs,
  type Written,
} from './support/api';
import { freePort, runCli, SEEDED, startService, type CliResult, type RunningService } from './support/artifact';
import { describeOn, fileEmulator, ON_KURRENTDB, POSITION, POSITION_TEXT, startEmulator, type Emulator } from './support/store';

jest.setTimeout(60_000);

// ---------------------------------------------------------------------------
// Fixtures: the shared examples, trimmed to the lean bodies this spec records.
// (The builders are imported under other names: below, announcement, signing
// and delivery are what recording these bodies answered.)

const SLUG = 'acc-cli-desk';

const ANNOUNCEMENT: Body = announcementBody({}, { omit: ['summary', 'sources', 'tags'] });

const SIGNING: Body = signingBody({ occurredOn: '2024-06' }, { omit: ['sources', 'place'] });

const DELIVERY: Body = deliveryBody({ items: [{ category: 'body-armour', description: 'Bulletproof vests', quantity: 1900 }] }, { omit: ['value', 'channel'] });

/** A delivery that is recorded, then retracted. */
const RETRACTED: Body = { ...DELIVERY, occurredOn: '2023', title: 'A delivery that never happened' };

// ---------------------------------------------------------------------------
// Temporary folders, removed at the end

const dirs: string[] = [];
function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `timeline-acceptance-cli-${name}-`));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of a stopped service's data dir (event store and read model, with their WAL files). */
function copyOf(dataDir: string, name: string): string {
  const copy = tempDir(name);
  cpSync(dataDir, copy, { recursive: true });
  return copy;
}

/** Opens one of the data dir's SQLite files directly, as someone tampering with it would. */
function editFile(file: string, edit: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    edit(db);
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------
// Talking to the service and to the CLI

/** Everything the service serves about the data, to compare before and after the CLI touched it. */
interface Served {
  health: Json;
  timelines: Json;
  timeline: Json;
  entries: Json;
  seeded: Json;
  entry: Record<string, Json>;
  history: Record<string, Json>;
  timelineJs: TimelineJs;
  ndjson: string;
}

async function served(api: Api, entryIds: string[]): Promise<Served> {
  const entry: Record<string, Json> = {};
  const history: Record<string, Json> = {};
  for (const id of entryIds) {
    entry[id] = await api.read<Json>(`/entries/${id}`);
    history[id] = await api.read<Json>(`/entries/${id}/history`);
  }
  const ndjson = expectStatus(await api.get('/events?format=ndjson'), 200).text;
  return {
    health: await api.read<Json>('/health'),
    timelines: await api.read<Json>('/timelines'),
    timeline: await api.read<Json>(`/timelines/${SLUG}`),
    entries: await api.read<Json>(`/timelines/${SLUG}/entries?includeRetracted=true&limit=500`),
    seeded: await api.read<Json>(`/timelines/${SEEDED}/entries?includeRetracted=true&limit=500`),
    entry,
    history,
    timelineJs: await api.read<TimelineJs>(`/timelines/${SLUG}/export?format=timelinejs`),
    ndjson,
  };
}

// ---------------------------------------------------------------------------
// The store: the embedded one in each data dir, or the test file's KurrentDB (set in beforeAll)

let kurrentdb: Emulator | undefined;

/** What points the CLI at a store besides DATA_DIR: the KurrentDB's connection string, on KurrentDB. */
const storeEnv = (store: Emulator | undefined = kurrentdb): Record<string, string> =>
  store ? { EVENTSTORE_CONNECTION_STRING: store.connectionString } : {};

/** `timeline <args>` on a data dir (and on KurrentDB, the file's one), as the image runs it. */
const cli = (dataDir: string, ...args: string[]): CliResult => runCli(args, { DATA_DIR: dataDir, ...storeEnv() });

/** The run exited with `status`; otherwise fails showing everything it printed. */
function expectExit(run: CliResult, status: number): void {
  expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status, stdout: run.stdout, stderr: run.stderr });
}

/** The first group of `pattern` in the run's stdout, or a failure showing it. */
function capture(run: CliResult, pattern: RegExp): string {
  const match = pattern.exec(run.stdout);
  if (!match) throw new Error(`no ${pattern} in the output:\n${run.stdout}\n${run.stderr}`);
  return match[1];
}

const parseLines = (ndjson: string): LogItem[] => ndjson.trimEnd().split('\n').map((line) => JSON.parse(line) as LogItem);

// ---------------------------------------------------------------------------
// The data dir: written by a started, then stopped, service

let dataDir: string;
let announcement: Written;
let signing: Written;
let delivery: Written;
let retracted: Written;
let before: Served;
let stopped: { code: number | null; signal: NodeJS.Signals | null };

beforeAll(async () => {
  if (ON_KURRENTDB) kurrentdb = await fileEmulator();
  dataDir = tempDir('data');
  const service: RunningService = await startService({ dataDir, kurrentdb });
  try {
    const api = apiAt(service.url);
    await api.openTimeline({ slug: SLUG, title: 'The CLI desk', description: 'Recorded over HTTP, checked on the command line' });
    announcement = await api.record(SLUG, ANNOUNCEMENT);
    signing = await api.record(SLUG, SIGNING);
    delivery = await api.record(SLUG, DELIVERY);
    retracted = await api.record(SLUG, RETRACTED);
    // The signing gets revisions 0, 1 and 2: a stream with an event in the middle to tamper with.
    await api.correct(signing.entryId, { place: 'Bari' }, { reason: 'first source', revision: 0 });
    await api.correct(signing.entryId, { termYears: 9 }, { reason: 'second source', revision: 1 });
    await api.retract(retracted.entryId, 'never happened');
    before = await served(api, [announcement.entryId, signing.entryId, delivery.entryId, retracted.entryId]);
  } finally {
    stopped = await service.stop();
  }
});

/** How many events the log holds: the seeds, and what beforeAll recorded. */
const eventCount = () => parseLines(before.ndjson).length;

it('the service wrote the log and stopped cleanly on SIGTERM', () => {
  expect(stopped).toEqual({ code: 0, signal: null });
  const lines = parseLines(before.ndjson);
  expect(lines[lines.length - 1].position).toBe((before.health as { head: string }).head);
  const positions = lines.map((l) => l.position);
  expect(positions.every((p) => POSITION.test(p))).toBe(true);
  expect(new Set(positions).size).toBe(positions.length);
  expect(positions).toEqual([...positions].sort());
});

describeOn('sqlite', 'the embedded store', "KurrentDB's positions are byte offsets in its log, not a count", () => {
  it('numbers its log 1, 2, 3, …', () => {
    const lines = parseLines(before.ndjson);
    expect(lines.map((l) => l.position)).toEqual(lines.map((_, i) => String(i + 1).padStart(20, '0')));
  });
});

// ---------------------------------------------------------------------------

describe('timeline verify', () => {
  it('passes on what the service wrote: exit 0, every hash chain intact, the read model matching the log', () => {
    const run = cli(dataDir, 'verify');
    expectExit(run, 0);
    const streams = new Set(parseLines(before.ndjson).map((l) => l.stream)).size;
    expect(run.stdout).toContain(`hash chains: ${eventCount()} events in ${streams} streams, all intact`);
    expect(run.stdout).toMatch(/the read model matches the log/);
    expect(run.stdout).toMatch(new RegExp(`^verify: OK: ${eventCount()} events in ${streams} streams`, 'm'));
  });

  // The embedded store's file, edited behind the service's back. A KurrentDB log cannot be edited
  // from outside (only appended to), and a data dir on KurrentDB has no events.sqlite.
  describeOn('sqlite', 'on a tampered event store', 'it edits events.sqlite, which a service on KurrentDB does not have', () => {
    it.each([
      [
        'a byte changed in the middle of a stream',
        () => signing.entryId,
        (db: Database.Database, entryId: string) =>
          db.prepare(`UPDATE events SET data = replace(data, 'Bari', 'Bali') WHERE stream = ? AND revision = 1`).run(`entry-${entryId}`).changes,
        /revision 1 at position \d{20}: content does not match its hash/,
      ],
      [
        'an event deleted from the middle of a stream',
        () => signing.entryId,
        (db: Database.Database, entryId: string) => db.prepare('DELETE FROM events WHERE stream = ? AND revision = 1').run(`entry-${entryId}`).changes,
        /revision 2 at position \d{20}: revision 1 is missing/,
      ],
      [
        "a byte changed in a stream's only event",
        () => delivery.entryId,
        (db: Database.Database, entryId: string) =>
          db.prepare(`UPDATE events SET data = replace(data, '1900', '9100') WHERE stream = ? AND revision = 0`).run(`entry-${entryId}`).changes,
        /revision 0 at position \d{20}: content does not match its hash/,
      ],
    ])('fails on a copy with %s in the event store: exit 1, naming the stream and revision', (_case, target, edit, problem) => {
      const copy = copyOf(dataDir, 'tampered');
      const entryId = target();
      editFile(join(copy, 'events.sqlite'), (db) => expect(edit(db, entryId)).toBe(1));
      const run = cli(copy, 'verify');
      expectExit(run, 1);
      expect(run.stdout).toMatch(new RegExp(`^  entry-${entryId} ${problem.source}`, 'm'));
      expect(run.stdout).toMatch(new RegExp(`^verify: FAILED: .*the first: entry-${entryId} revision`, 'm'));
    });
  });

  it("fails on a copy whose read model was edited: exit 1, naming the entry that differs from the log's replay", () => {
    const copy = copyOf(dataDir, 'read-model');
    editFile(join(copy, 'read-model.sqlite'), (db) => {
      const row = db.prepare('SELECT body FROM entries WHERE entry_id = ?').get(announcement.entryId) as { body: string };
      const body = JSON.parse(row.body) as { title: string };
      db.prepare('UPDATE entries SET body = ? WHERE entry_id = ?').run(JSON.stringify({ ...body, title: `${body.title}!` }), announcement.entryId);
    });
    const run = cli(copy, 'verify');
    expectExit(run, 1);
    expect(run.stdout).toContain('all intact'); // the log itself is fine
    expect(run.stdout).toMatch(new RegExp(`^  entry-${announcement.entryId} revision 0 at position ${POSITION_TEXT}: the read model's entry differs .*title`, 'm'));
    expect(run.stdout).toMatch(/^verify: FAILED/m);
  });

  describeOn('sqlite', 'without a store', 'the embedded store is DATA_DIR/events.sqlite; on KurrentDB, see the test below', () => {
    it('exits 2 naming the missing store when DATA_DIR holds none', () => {
      const empty = tempDir('empty');
      const run = cli(empty, 'verify');
      expectExit(run, 2);
      expect(run.stderr).toContain(`no event store at ${join(empty, 'events.sqlite')}`);
    });
  });

  describeOn('kurrentdb', 'without a store', 'the embedded store is a file in DATA_DIR, never unreachable; see the test above', () => {
    it('exits 2 naming EVENTSTORE_CONNECTION_STRING when KurrentDB cannot be reached', async () => {
      const nobody = `kurrentdb://127.0.0.1:${await freePort()}?tls=false`;
      const run = runCli(['verify'], { DATA_DIR: tempDir('unreachable'), EVENTSTORE_CONNECTION_STRING: nobody });
      expectExit(run, 2);
      expect(run.stdout).toContain(`event store: KurrentDB ${nobody}`);
      expect(run.stderr).toMatch(/^timeline: KurrentDB is unavailable.*check DATA_DIR or EVENTSTORE_CONNECTION_STRING/m);
    });
  });
});

// ---------------------------------------------------------------------------

describe('timeline export', () => {
  it('--format ndjson writes to stdout the very log GET /events?format=ndjson served, the recorded entries in it', () => {
    const run = cli(dataDir, 'export', '--format', 'ndjson');
    expectExit(run, 0);
    expect(run.stdout).toBe(before.ndjson);
    expect(run.stderr).toContain(`exported ${eventCount()} events as NDJSON to stdout`);

    const lines = parseLines(run.stdout);
    expect(lines.filter((l) => l.stream === `entry-${signing.entryId}`).map((l) => [l.type, l.revision])).toEqual([
      ['SigningRecorded', 0],
      ['EntryCorrected', 1],
      ['EntryCorrected', 2],
    ]);
    expect(lines.filter((l) => l.stream === `entry-${retracted.entryId}`).map((l) => l.type)).toEqual(['DeliveryRecorded', 'EntryRetracted']);
    expect(lines.find((l) => l.stream === `timeline-${SLUG}`)).toMatchObject({ type: 'TimelineOpened', data: { slug: SLUG } });
  });

  it('--format ndjson --timeline --out writes only that timeline\'s events to the file', () => {
    const out = join(tempDir('ndjson'), 'desk.ndjson');
    const run = cli(dataDir, 'export', '--format', 'ndjson', '--timeline', SLUG, '--out', out);
    expectExit(run, 0);
    const ours = parseLines(before.ndjson).filter((l) => l.stream === `timeline-${SLUG}` || l.data.timeline === SLUG);
    // The timeline, four recordings, two corrections, one retraction.
    expect(ours).toHaveLength(8);
    expect(parseLines(readFileSync(out, 'utf8'))).toEqual(ours);
    expect(run.stdout).toContain(`exported 8 events of timeline '${SLUG}' as NDJSON to ${out}`);
  });

  it('--format timelinejs --timeline writes the TimelineJS document the service served: the active entries in date order', () => {
    const run = cli(dataDir, 'export', '--format', 'timelinejs', '--timeline', SLUG);
    expectExit(run, 0);
    const document = JSON.parse(run.stdout) as TimelineJs;
    expect(document).toEqual(before.timelineJs);
    expect(document.title.text.headline).toBe('The CLI desk');
    expect(document.events.map((e) => [e.unique_id, e.group, e.start_date])).toEqual([
      [delivery.entryId, 'delivery', { year: 2022, month: 3 }],
      [signing.entryId, 'signing', { year: 2024, month: 6 }],
      [announcement.entryId, 'announcement', { year: 2024, month: 6, day: 13 }],
    ]);
  });

  it('exits 2 for an unknown timeline, and for timelinejs without --timeline', () => {
    const unknown = cli(dataDir, 'export', '--format', 'timelinejs', '--timeline', 'no-such-story');
    expectExit(unknown, 2);
    expect(unknown.stderr).toContain("no timeline 'no-such-story'");
    const noTimeline = cli(dataDir, 'export', '--format', 'timelinejs');
    expectExit(noTimeline, 2);
    expect(noTimeline.stderr).toContain('needs --timeline');
  });
});

// ---------------------------------------------------------------------------

/** Starts the service on `dir` (and on KurrentDB, on `store`), reads what it serves, and stops it whatever happens. */
async function servedAfterRestart(dir: string, store: Emulator | undefined = kurrentdb): Promise<Served> {
  const service = await startService({ dataDir: dir, kurrentdb: store });
  try {
    return await served(apiAt(service.url), [announcement.entryId, signing.entryId, delivery.entryId, retracted.entryId]);
  } finally {
    await service.stop();
  }
}

describe('timeline rebuild', () => {
  it('replays the log: exit 0, equal digests; the service restarted on the data dir serves the same entries as before', async () => {
    const run = cli(dataDir, 'rebuild');
    expectExit(run, 0);
    const digestBefore = capture(run, /digest before: ([0-9a-f]{64})/);
    const digestAfter = capture(run, /digest after: +([0-9a-f]{64})/);
    expect(digestAfter).toBe(digestBefore);
    expect(run.stdout).toContain('digests equal: yes');
    expect(run.stdout).toMatch(new RegExp(`rebuilt ${eventCount()} events in [\\d.]+ s`));

    expect(await servedAfterRestart(dataDir)).toEqual(before);
    expectExit(cli(dataDir, 'verify'), 0);
  });

  it('rebuilds a deleted read model from the log alone: verify passes, and the restarted service serves the same entries', async () => {
    const copy = copyOf(dataDir, 'no-read-model');
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(copy, `read-model.sqlite${suffix}`), { force: true });

    const run = cli(copy, 'rebuild');
    expectExit(run, 0);
    expect(run.stdout).toContain("the read model is not at the log's head (checkpoint none");
    expect(run.stdout).toMatch(new RegExp(`rebuilt ${eventCount()} events in`));
    // verify compares the rebuilt read model with its own replay of the log: no service involved.
    const verified = cli(copy, 'verify');
    expectExit(verified, 0);
    // The same read model, to the byte, as the one the service had projected.
    const original = cli(dataDir, 'verify');
    expectExit(original, 0);
    const digest = /the read model matches the log \(digest ([0-9a-f]{64})\)/;
    expect(capture(run, /digest after: +([0-9a-f]{64})/)).toBe(capture(original, digest));
    expect(capture(verified, digest)).toBe(capture(original, digest));

    expect(await servedAfterRestart(copy)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------

describe('timeline import', () => {
  /** The export of the log the service wrote, as a file to import. */
  let file: string;
  /** The store imported into: a fresh data dir, and on KurrentDB a fresh, empty KurrentDB. */
  let target: { dataDir: string; kurrentdb: Emulator | undefined };
  let imported: CliResult;
  const importInto = (into: typeof target, path: string): CliResult => runCli(['import', path], { DATA_DIR: into.dataDir, ...storeEnv(into.kurrentdb) });
  const exportOf = (from: typeof target): CliResult => runCli(['export', '--format', 'ndjson'], { DATA_DIR: from.dataDir, ...storeEnv(from.kurrentdb) });

  beforeAll(async () => {
    file = join(tempDir('import-file'), 'log.ndjson');
    expectExit(cli(dataDir, 'export', '--format', 'ndjson', '--out', file), 0);
    target = { dataDir: tempDir('imported'), kurrentdb: ON_KURRENTDB ? await startEmulator() : undefined };
    imported = importInto(target, file);
  });

  it('loads the export into an empty store: exit 0, every hash chain intact, the read model rebuilt', () => {
    expectExit(imported, 0);
    const streams = new Set(parseLines(before.ndjson).map((l) => l.stream)).size;
    expect(imported.stdout).toContain(`${eventCount()} events, every line valid`);
    expect(imported.stdout).toContain(`hash chains: ${eventCount()} events in ${streams} streams, all intact`);
    expect(imported.stdout).toMatch(new RegExp(`^import: OK: ${eventCount()} events$`, 'm'));
    expectExit(runCli(['verify'], { DATA_DIR: target.dataDir, ...storeEnv(target.kurrentdb) }), 0);
  });

  it('keeps every event: the same ids, streams, types, revisions, data and metadata, in the same order', () => {
    const original = parseLines(before.ndjson);
    const run = exportOf(target);
    expectExit(run, 0);
    const copy = parseLines(run.stdout);
    if (ON_KURRENTDB) {
      // README "Command line" / import --help: KurrentDB keeps its own clock and numbers its own log.
      const content = ({ position: _p, recordedAt: _r, ...rest }: LogItem) => rest;
      expect(copy.map(content)).toEqual(original.map(content));
      const positions = copy.map((l) => l.position);
      expect(positions.every((p) => POSITION.test(p))).toBe(true);
      expect(positions).toEqual([...positions].sort());
    } else {
      // The embedded store restores the events as they were: positions and recordedAt too.
      expect(run.stdout).toBe(before.ndjson);
    }
  });

  it('refuses a store that already holds events: exit 1, nothing written', () => {
    const exported = exportOf(target).stdout;
    const again = importInto(target, file);
    expectExit(again, 1);
    expect(again.stderr).toContain('refusing to import: the event store is not empty');
    expect(exportOf(target).stdout).toBe(exported);
  });

  it('a service started on the imported store serves the same timeline', async () => {
    const after = await servedAfterRestart(target.dataDir, target.kurrentdb);
    if (ON_KURRENTDB) {
      // The same entries, revisions, corrections and retraction; only the times and positions are KurrentDB's own.
      expect(withoutTimesAndPositions(after.entries)).toEqual(withoutTimesAndPositions(before.entries));
      expect(withoutTimesAndPositions(after.entry)).toEqual(withoutTimesAndPositions(before.entry));
      expect(after.timelineJs).toEqual(before.timelineJs);
    } else {
      expect(after).toEqual(before);
    }
  });
});

/** A copy of `value` without the fields that are times or positions (recordedAt, updatedAt, correctedAt, position, ...). */
function withoutTimesAndPositions(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutTimesAndPositions);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !/At$|^position$/.test(key)).map(([key, v]) => [key, withoutTimesAndPositions(v)]));
}
