/**
 * When things break: the event store cannot take writes (disk full, or its
 * write lock held by another process), and a poison event in the log. The
 * real service on a random port over a temporary SQLite store; the failures
 * are real SQLite failures (SQLITE_FULL from a capped file, SQLITE_BUSY from a
 * second connection), not mocks. Recovery happens without a restart.
 */
import { SqliteEventStore, type NewEvent } from '@timeline/event-store';
import { openSqlite } from '@timeline/event-store';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { MonitoredEventStore } from '../apps/timeline-service/src/health/monitored-event-store';
import { EVENT_STORE } from '../apps/timeline-service/src/store/store.tokens';
import { announcement, apiAt, expectError, openTimeline, recordEntry, signing, type Api, type Body } from './support/http';
import { startService, type RunningService } from './support/service';

jest.setTimeout(30_000);

/** The store adapter behind the service's monitor. */
function embeddedStore(s: RunningService): SqliteEventStore {
  const store = s.app.get<MonitoredEventStore>(EVENT_STORE);
  expect(store).toBeInstanceOf(MonitoredEventStore);
  expect(store.inner).toBeInstanceOf(SqliteEventStore);
  return store.inner as SqliteEventStore;
}

/** A summary this long makes the event bigger than a 4 KiB page: writing it always needs new pages. */
const LONG = 'A long account of the signing, '.repeat(125).slice(0, 4000);

async function snapshotOf(api: Api, slug: string, entryId: string) {
  const [timelines, entries, entry] = await Promise.all([api.get('/timelines'), api.get(`/timelines/${slug}/entries?includeRetracted=true`), api.get(`/entries/${entryId}`)]);
  expect([timelines.status, entries.status, entry.status]).toEqual([200, 200, 200]);
  return { timelines: timelines.body, entries: entries.body, entry: entry.body, etag: entry.headers.get('etag') };
}

describe('store unavailable', () => {
  let s: RunningService;
  let api: Api;
  beforeEach(async () => {
    s = await startService();
    api = apiAt(s.url);
  });
  afterEach(async () => {
    await s.stop();
  });

  it('disk full: commands answer 503 and record nothing, queries keep answering, /health says why, and writes resume once there is room', async () => {
    const slug = await openTimeline(api, 'full');
    const a = await recordEntry(api, slug, signing());
    const before = await snapshotOf(api, slug, a.entryId);
    const head = await api.head();
    expect((await api.get('/health')).body).toMatchObject({ status: 'ok', store: 'ok', problems: [] });

    const cap = embeddedStore(s).limitSize(1); // no room to grow: SQLITE_FULL for any write that needs a page
    expect(cap).toBeGreaterThan(1);

    const b = randomUUID();
    const record = await api.post(`/timelines/${slug}/entries`, signing({ entryId: b, summary: LONG }));
    const correct = await api.patch(`/entries/${a.entryId}`, { changes: { summary: LONG }, reason: 'the full story' }, { 'If-Match': '"0"' });
    for (const reply of [record, correct]) {
      const body = expectError(reply, 503, 'store_unavailable');
      expect(body.message).toMatch(/^the event store is unavailable, nothing was recorded: the embedded event store cannot take writes: the disk is full \(SQLITE_FULL/);
    }

    // Nothing half-written, and the read model serves as before.
    expect(await api.head()).toBe(head);
    expect((await api.get(`/entries/${b}`)).status).toBe(404);
    expect(await snapshotOf(api, slug, a.entryId)).toEqual(before);

    const health = await api.get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', store: 'unavailable', checkpoint: head, head, lag: 0, deadLetters: 0 });
    expect(health.body.problems).toEqual([{ code: 'store_unavailable', message: expect.stringContaining('the disk is full') }]);
    expect(health.body.problems[0].message).toContain('refused the last write');

    // Room again: the very next command succeeds, no restart.
    embeddedStore(s).limitSize(null);
    const recorded = await recordEntry(api, slug, signing({ entryId: b, summary: LONG }));
    const corrected = await api.patch(`/entries/${a.entryId}`, { changes: { summary: LONG }, reason: 'the full story' }, { 'If-Match': '"0"' });
    expect(corrected.status).toBe(200);
    expect((await api.get(`/entries/${b}`)).body).toMatchObject({ entryId: b, summary: LONG });
    expect((await api.get(`/entries/${a.entryId}`)).body).toMatchObject({ revision: 1, summary: LONG });
    expect((await api.get('/health')).body).toEqual({
      status: 'ok',
      checkpoint: corrected.body.position,
      head: corrected.body.position,
      lag: 0,
      deadLetters: 0,
      store: 'ok',
      problems: [],
    });
    expect(recorded.position > head!).toBe(true);
  });

  it('write lock held by another process: a command waits without holding up queries, answers 503 when the lock is not released in time, and succeeds once it is', async () => {
    const slug = await openTimeline(api, 'locked');
    const a = await recordEntry(api, slug, announcement());
    const head = await api.head();

    const other = openSqlite(join(s.dataDir, 'events.sqlite'));
    try {
      other.exec('BEGIN IMMEDIATE'); // e.g. a CLI import, or an instance stuck mid-transaction

      // Released while the command waits: it just takes longer.
      const waiting = api.post('/timelines', { slug: `${slug}-b`, title: 'Waited' });
      await new Promise((r) => setTimeout(r, 300));
      other.exec('ROLLBACK');
      expect((await waiting).status).toBe(201);

      // Not released: 503 after the store's lock wait (5 s), and queries answer all along.
      const before = await snapshotOf(api, slug, a.entryId);
      other.exec('BEGIN IMMEDIATE');
      const started = Date.now();
      const refused = api.post('/timelines', { slug: `${slug}-c`, title: 'Refused' });
      let slowestQueryMs = 0;
      let queries = 0;
      let settled = false;
      void refused.finally(() => (settled = true));
      while (!settled) {
        const t = Date.now();
        expect(await snapshotOf(api, slug, a.entryId)).toEqual(before);
        slowestQueryMs = Math.max(slowestQueryMs, Date.now() - t);
        queries++;
        await new Promise((r) => setTimeout(r, 50));
      }
      const body = expectError(await refused, 503, 'store_unavailable');
      expect(body.message).toMatch(/the embedded event store cannot take writes: another connection holds its write lock \(SQLITE_BUSY/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
      expect(queries).toBeGreaterThan(20);
      expect(slowestQueryMs).toBeLessThan(500);

      const health = (await api.get('/health')).body;
      expect(health).toMatchObject({ status: 'degraded', store: 'unavailable', lag: 0 });
      expect(health.problems).toEqual([{ code: 'store_unavailable', message: expect.stringContaining('another connection holds its write lock') }]);
      expect((await api.get(`/timelines/${slug}-c`)).status).toBe(404);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }

    expect((await api.post('/timelines', { slug: `${slug}-c`, title: 'Accepted' })).status).toBe(201);
    expect((await api.get('/health')).body).toMatchObject({ status: 'ok', store: 'ok', problems: [] });
    expect((await api.head())! > head!).toBe(true);
  });
});

describe('poison events', () => {
  let s: RunningService;
  let api: Api;
  beforeAll(async () => {
    s = await startService();
    api = apiAt(s.url);
  });
  afterAll(async () => {
    await s?.stop();
  });

  const meta = () => ({ recordedBy: 'a-buggy-importer', correlationId: randomUUID(), causationId: null, schemaVersion: 1 });
  const raw = (type: string, data: Body): NewEvent => ({ id: randomUUID(), type, data, metadata: meta() });

  it('are set aside as dead letters with their error, counted in /health; later events are still projected and the service keeps answering', async () => {
    const slug = await openTimeline(api, 'poison');
    const a = await recordEntry(api, slug, signing());
    const store = s.app.get<MonitoredEventStore>(EVENT_STORE);

    // Written straight to the log, as a buggy importer or another application could:
    // a correction of an entry that does not exist, and a recording with malformed data.
    const ghost = randomUUID();
    const malformed = randomUUID();
    const p1 = await store.append(`entry-${ghost}`, [raw('EntryCorrected', { entryId: ghost, timeline: slug, changes: { title: 'Ghost' }, reason: 'x' })], 'no-stream');
    const p2 = await store.append(`entry-${malformed}`, [raw('SigningRecorded', { ...signing(), entryId: malformed, timeline: slug, actors: 42 })], 'no-stream');

    // The next command is projected (it answers only once the read model has applied it).
    const c = await recordEntry(api, slug, announcement());
    expect(c.position > p2.position && p2.position > p1.position).toBe(true);
    expect((await api.get(`/entries/${c.entryId}`)).status).toBe(200);
    const listed = await api.get(`/timelines/${slug}/entries`);
    expect(listed.body.items.map((e: Body) => e.entryId).sort()).toEqual([a.entryId, c.entryId].sort());
    expect((await api.get(`/timelines/${slug}`)).body).toMatchObject({ entryCount: 2 });
    expect((await api.get(`/entries/${ghost}`)).status).toBe(404);
    expect((await api.get(`/entries/${malformed}`)).status).toBe(404);

    const health = await api.get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', store: 'ok', deadLetters: 2, checkpoint: c.position, head: c.position, lag: 0 });
    expect(health.body.problems).toEqual([
      {
        code: 'dead_letters',
        message: expect.stringContaining(`2 events could not be projected and were set aside as dead letters`),
      },
    ]);
    expect(health.body.problems[0].message).toContain(`First: EntryCorrected at ${p1.position} (entry-${ghost} revision 0): Error: event at ${p1.position} changes unknown entry ${ghost}`);

    // Still writable, still readable.
    const d = await recordEntry(api, slug, signing({ title: 'After the poison' }));
    expect((await api.get(`/entries/${d.entryId}`)).body).toMatchObject({ title: 'After the poison' });
    expect((await api.get('/health')).body).toMatchObject({ deadLetters: 2, checkpoint: d.position });
  });

  it('stay dead letters across a restart: the count is part of the read model, not of the process', async () => {
    const before = (await api.get('/health')).body;
    const dataDir = s.dataDir;
    await s.stop({ removeData: false });
    s = await startService({}, dataDir);
    api = apiAt(s.url);
    expect((await api.get('/health')).body).toEqual(before);
  });

  it('a command on a stream that cannot be folded answers 500 corrupt_log, not 404: the log is damaged, not the request', async () => {
    const slug = await openTimeline(api, 'damaged');
    const store = s.app.get<MonitoredEventStore>(EVENT_STORE);
    const ghost = randomUUID(); // a stream whose first event is a correction: no recording to correct
    await store.append(`entry-${ghost}`, [raw('EntryCorrected', { entryId: ghost, timeline: slug, changes: { title: 'Ghost' }, reason: 'x' })], 'no-stream');
    const head = await api.head();

    const retraction = await api.post(`/entries/${ghost}/retraction`, { reason: 'r' });
    expect(expectError(retraction, 500, 'corrupt_log').message).toContain(`stream entry-${ghost} cannot be folded`);
    const correction = await api.patch(`/entries/${ghost}`, { changes: { title: 'x' }, reason: 'r' }, { 'If-Match': '"0"' });
    expectError(correction, 500, 'corrupt_log');
    expect(await api.head()).toBe(head); // nothing appended
  });
});
