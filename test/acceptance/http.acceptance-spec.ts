/**
 * Acceptance: the HTTP contract of the BUILT timeline service, started as its own
 * process (see ./support/artifact.ts) and spoken to with global fetch only.
 *
 * It proves the main paths a newsroom relies on: the seeded timeline is served;
 * a timeline is opened and each kind of entry recorded; a timeline is listed with
 * its filters and keyset pagination, with page ETags answered 304; an entry is
 * read with its ETag, corrected with If-Match (412 when stale, 428 when missing)
 * and retracted; its history, the timeline as of a past moment, the audit log
 * (GET /events, JSON pages and NDJSON) and the TimelineJS export; and refusals
 * (400 `invalid` naming the field, 404 for unknown timelines and entries) that
 * append nothing to the log.
 *
 * Every write answers after the read model applied it, so nothing here sleeps.
 *
 * The same tests run on either store (ACCEPTANCE_STORE, see ./support/store.ts):
 * only the form of a position differs, as README documents it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  announcement,
  apiAt,
  delivery,
  expectStatus,
  signing,
  without,
  type Body,
  type Entry,
  type Health,
  type Json,
  type LogItem,
  type Page,
  type Reply,
  type TimelineJs,
  type Written,
} from './support/api';
import { APP_DIR, SEEDED, startService, type RunningService } from './support/artifact';
import { POSITION } from './support/store';

jest.setTimeout(60_000);

// ---------------------------------------------------------------------------
// The shapes only this spec reads (the shared ones are in ./support/api.ts)

interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  errors?: Array<{ field: string; problems: string[] }>;
}

interface Timeline {
  slug: string;
  title: string;
  description: string;
  entryCount: number;
  retractedCount: number;
  position: string;
}

interface HistoryItem {
  type: string;
  revision: number;
  position: string;
  recordedAt: string;
  recordedBy: string;
  data: Body;
  metadata: { hash: string; prevHash: string | null; [key: string]: Json };
}

interface SeedFile {
  timeline: { slug: string; title: string };
  entries: Array<{ entryId: string; kind: string; occurredOn: string; title: string }>;
}

// POSITION (./support/store.ts): a position of the store this run uses, as README documents it.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HASH = /^[0-9a-f]{64}$/;
const UNKNOWN_ENTRY = '00000000-0000-4000-8000-000000000000';

// ---------------------------------------------------------------------------
// One service for the whole file

let service: RunningService | undefined;

beforeAll(async () => {
  service = await startService();
});

afterAll(async () => {
  await service?.stop();
});

function baseUrl(): string {
  if (!service) throw new Error('the service did not start');
  return service.url;
}

const api = apiAt(baseUrl);
const { get, post, patch, record, correct, retract } = api;

/**
 * Headers for revalidating with an ETag as a browser does: fetch() would
 * otherwise add Cache-Control: no-cache next to If-None-Match, which forbids a 304.
 */
const revalidate = (etag: string): Record<string, string> => ({ 'if-none-match': etag, 'cache-control': 'max-age=0' });

/** GET /health's head: the position of the last event in the log. */
async function head(): Promise<string | null> {
  return (await api.health()).head;
}

/** The reply is an error of the documented shape, with this status and code (and naming the field, when given). */
function expectError(reply: Reply<unknown>, status: number, code: string, field?: string): ErrorBody {
  expect({ status: reply.status, body: reply.body }).toMatchObject({
    status,
    body: { statusCode: status, error: expect.any(String), code, message: expect.any(String) },
  });
  const body = reply.body as ErrorBody;
  if (field !== undefined) {
    expect((body.errors ?? []).map((e) => e.field)).toContain(field);
    const problem = body.errors!.find((e) => e.field === field)!;
    expect(problem.problems.join(' | ')).toContain(field);
  }
  return body;
}

let slugs = 0;
/** A slug of this file's own: acc-<prefix>-<n>. */
const uniqueSlug = (prefix: string): string => `acc-${prefix}-${++slugs}`;

const openTimeline = (prefix: string, title = 'An acceptance timeline'): Promise<string> => api.openTimeline({ slug: uniqueSlug(prefix), title });

async function list(slug: string, query = ''): Promise<Page> {
  const reply = await get<Page>(`/timelines/${slug}/entries${query}`);
  expect({ query, status: reply.status }).toEqual({ query, status: 200 });
  return reply.body;
}

async function history(entryId: string): Promise<HistoryItem[]> {
  return (await api.read<{ items: HistoryItem[] }>(`/entries/${entryId}/history`)).items;
}

/** Resolves once the clock has moved past `ms`: the next write then has a recordedAt of its own. */
async function clockPast(ms: number): Promise<void> {
  while (Date.now() <= ms) await new Promise((resolve) => setImmediate(resolve));
}

// ---------------------------------------------------------------------------

describe('the seeded timeline', () => {
  const seed = JSON.parse(readFileSync(join(APP_DIR, 'seeds', `${SEEDED}.json`), 'utf8')) as SeedFile;

  it('is healthy at start, with the read model at the head of the log', async () => {
    const reply = await get<Health>('/health');
    expectStatus(reply, 200);
    expect(reply.body).toMatchObject({ status: 'ok', lag: 0 });
    expect(reply.body.head).toMatch(POSITION);
    expect(reply.body.checkpoint).toBe(reply.body.head);
  });

  it('is listed and served with every seeded entry, in date order', async () => {
    expect(seed.timeline.slug).toBe(SEEDED);
    expect(seed.entries.length).toBeGreaterThan(0);

    const timelines = await get<{ items: Timeline[] }>('/timelines');
    expectStatus(timelines, 200);
    expect(timelines.body.items.map((t) => t.slug)).toContain(SEEDED);

    const timeline = await get<Timeline>(`/timelines/${SEEDED}`);
    expectStatus(timeline, 200);
    expect(timeline.body).toMatchObject({ slug: SEEDED, title: seed.timeline.title, entryCount: seed.entries.length, retractedCount: 0 });

    const page = await list(SEEDED, '?limit=500&includeRetracted=true');
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((e) => e.entryId).sort()).toEqual(seed.entries.map((e) => e.entryId).sort());
    for (const item of page.items) {
      const seeded = seed.entries.find((e) => e.entryId === item.entryId)!;
      expect(item).toMatchObject({ kind: seeded.kind, occurredOn: seeded.occurredOn, title: seeded.title, timeline: SEEDED, status: 'active' });
    }
    // Dates at any precision sort as strings do: '2024' < '2024-06' < '2024-06-01'.
    const dates = page.items.map((e) => e.occurredOn);
    expect(dates).toEqual([...dates].sort());
  });
});

// ---------------------------------------------------------------------------

describe('opening a timeline', () => {
  it('POST /timelines answers 201 {slug, position}; GET /timelines/:slug and the list serve it', async () => {
    const slug = uniqueSlug('open');
    const reply = await post<{ slug: string; position: string }>('/timelines', { slug, title: 'Japan and NATO', description: 'Since 2022' });
    expectStatus(reply, 201);
    expect(reply.body).toEqual({ slug, position: expect.stringMatching(POSITION) });
    expect(await head()).toBe(reply.body.position);

    const timeline = await get<Timeline>(`/timelines/${slug}`);
    expectStatus(timeline, 200);
    expect(timeline.body).toMatchObject({ slug, title: 'Japan and NATO', description: 'Since 2022', entryCount: 0, retractedCount: 0 });
    const all = await get<{ items: Timeline[] }>('/timelines');
    expect(all.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ slug, title: 'Japan and NATO' })]));
  });

  it('answers 409 timeline_exists for a taken slug, and appends nothing', async () => {
    const slug = await openTimeline('taken', 'First');
    const before = await head();
    expectError(await post('/timelines', { slug, title: 'Second' }), 409, 'timeline_exists');
    expect(await head()).toBe(before);
    expect((await get<Timeline>(`/timelines/${slug}`)).body.title).toBe('First');
  });
});

// ---------------------------------------------------------------------------

describe('recording entries', () => {
  let slug: string;
  beforeAll(async () => {
    slug = await openTimeline('record');
  });

  it.each([
    ['an announcement', announcement()],
    ['a signing', signing()],
    ['a delivery', delivery()],
  ])('records %s: 201 {entryId, revision 0, position}; the entry reads back with ETag "0"', async (_kind, body) => {
    const before = await head();
    const reply = await post<Written>(`/timelines/${slug}/entries`, body);
    expectStatus(reply, 201);
    expect(reply.body).toEqual({ entryId: expect.stringMatching(UUID), revision: 0, position: expect.stringMatching(POSITION) });
    expect(reply.body.position > before!).toBe(true);
    expect(await head()).toBe(reply.body.position);

    const stored = await get<Entry>(`/entries/${reply.body.entryId}`);
    expectStatus(stored, 200);
    expect(stored.headers.get('etag')).toBe('"0"');
    expect(stored.body).toMatchObject({ ...body, entryId: reply.body.entryId, timeline: slug, revision: 0, status: 'active', corrections: [] });
  });

  it('counts the recorded entries on the timeline', async () => {
    expect((await get<Timeline>(`/timelines/${slug}`)).body).toMatchObject({ entryCount: 3, retractedCount: 0 });
  });

  it('treats a repeat with the same client-chosen entryId and body as a safe retry, and a different body as 409 entry_id_conflict', async () => {
    const body = delivery({ entryId: randomUUID() });
    const first = await record(slug, body);
    expect(first.entryId).toBe(body.entryId);
    const again = await post<Written>(`/timelines/${slug}/entries`, body);
    expectStatus(again, 201);
    expect(again.body).toEqual(first);
    expect(await head()).toBe(first.position);

    expectError(await post(`/timelines/${slug}/entries`, { ...body, title: 'Something else' }), 409, 'entry_id_conflict');
    expect(await head()).toBe(first.position);
    expect(await history(first.entryId)).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------

describe('listing a timeline', () => {
  let slug: string;
  /** The fixture's entries by letter; f is retracted. */
  const id: Record<string, string> = {};
  let retraction: Written;

  /** The letters of the listed entries, in the order listed. */
  const letters = (page: Page): string[] => page.items.map((e) => Object.keys(id).find((k) => id[k] === e.entryId) ?? `?${e.entryId}`);

  beforeAll(async () => {
    slug = await openTimeline('listing');
    id.a = (await record(slug, announcement({ occurredOn: '2024-06-13', title: 'a', actors: ['JP', 'UA'] }))).entryId;
    id.b = (await record(slug, delivery({ occurredOn: '2022-03', title: 'b', actors: ['JP', 'UA'] }))).entryId;
    id.c = (await record(slug, signing({ occurredOn: '2024-06', title: 'c', actors: ['UA', 'US'], parties: ['UA', 'US'] }))).entryId;
    id.d = (await record(slug, announcement({ occurredOn: '2023', title: 'd', actors: ['NATO', 'JP'] }))).entryId;
    id.e = (await record(slug, delivery({ occurredOn: '2024-06-13', title: 'e', actors: ['US', 'UA'], supplier: 'US' }))).entryId;
    id.f = (await record(slug, signing({ occurredOn: '2025-01-20', title: 'f', actors: ['JP', 'NATO'], parties: ['JP', 'NATO'] }))).entryId;
    retraction = await retract(id.f);
  });

  it('orders by occurredOn (a month before its days, same date in recording order), leaves the retracted out, and answers the checkpoint', async () => {
    const page = await list(slug);
    expect(letters(page)).toEqual(['b', 'd', 'c', 'a', 'e']);
    expect(page.nextCursor).toBeNull();
    expect(page.position).toBe(retraction.position);
    expect(letters(await list(slug, '?order=desc'))).toEqual(['e', 'a', 'c', 'd', 'b']);
  });

  it('includes retracted entries, with status retracted, only with includeRetracted=true', async () => {
    const page = await list(slug, '?includeRetracted=true');
    expect(letters(page)).toEqual(['b', 'd', 'c', 'a', 'e', 'f']);
    expect(page.items.map((e) => e.status)).toEqual(['active', 'active', 'active', 'active', 'active', 'retracted']);
    expect(letters(await list(slug, '?includeRetracted=false'))).toEqual(['b', 'd', 'c', 'a', 'e']);
  });

  it.each([
    ['kind=announcement', ['d', 'a']],
    ['kind=signing', ['c']],
    ['kind=delivery', ['b', 'e']],
    ['actor=US', ['c', 'e']],
    ['actor=NATO', ['d']],
    ['actor=NATO&includeRetracted=true', ['d', 'f']],
    ['from=2024', ['c', 'a', 'e']],
    ['from=2024-06-13', ['a', 'e']],
    ['to=2023', ['b', 'd']],
    ['from=2023&to=2024-06', ['d', 'c', 'a', 'e']],
    ['kind=delivery&actor=US&from=2024', ['e']],
    ['kind=delivery&order=desc', ['e', 'b']],
    ['actor=KH', []],
  ])('filters with ?%s', async (query, expected) => {
    expect(letters(await list(slug, `?${query}`))).toEqual(expected);
  });

  it.each([
    ['asc', ['b', 'd', 'c', 'a', 'e', 'f']],
    ['desc', ['f', 'e', 'a', 'c', 'd', 'b']],
  ])('pages %s with limit=2, following nextCursor to the end, each entry once', async (order, expected) => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?order=${order}&includeRetracted=true&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await list(slug, query);
      pages.push(letters(page));
      cursor = page.nextCursor;
    } while (cursor !== null && pages.length < 10);
    expect(pages).toEqual([expected.slice(0, 2), expected.slice(2, 4), expected.slice(4, 6)]);
  });

  it('pages filtered results too, and refuses a forged cursor with 400 naming cursor', async () => {
    const first = await list(slug, '?kind=delivery&limit=1');
    expect(letters(first)).toEqual(['b']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await list(slug, `?kind=delivery&limit=1&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(letters(second)).toEqual(['e']);
    expect(second.nextCursor).toBeNull();

    expectError(await get(`/timelines/${slug}/entries?cursor=not-a-cursor`), 400, 'invalid', 'cursor');
  });

  it.each([
    ['kind=treaty', 'kind'],
    ['from=2024-02-30', 'from'],
    ['to=June', 'to'],
    ['order=sideways', 'order'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['includeRetracted=yes', 'includeRetracted'],
  ])('answers 400 invalid naming the parameter for ?%s', async (query, field) => {
    expectError(await get(`/timelines/${slug}/entries?${query}`), 400, 'invalid', field);
  });

  it('tags each page with a weak ETag: 304 for If-None-Match until a write changes the page, then the new page', async () => {
    const own = await openTimeline('etag');
    await record(own, announcement({ title: 'first' }));
    const path = `/timelines/${own}/entries?limit=10`;
    const first = await get<Page>(path);
    expectStatus(first, 200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^W\/".+"$/);

    const unchanged = await get(path, revalidate(etag!));
    expect(unchanged.status).toBe(304);
    expect(unchanged.text).toBe('');

    const second = await record(own, announcement({ title: 'second' }));
    const changed = await get<Page>(path, revalidate(etag!));
    expectStatus(changed, 200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(changed.body.items.map((e) => e.title)).toEqual(['first', 'second']);
    expect(changed.body.position).toBe(second.position);
  });
});

// ---------------------------------------------------------------------------

describe('an entry: read, correct, retract, history', () => {
  let slug: string;
  beforeAll(async () => {
    slug = await openTimeline('entry');
  });

  it('GET /entries/:id answers ETag "<revision>", and 304 to If-None-Match with it', async () => {
    const written = await record(slug, signing());
    const reply = await get<Entry>(`/entries/${written.entryId}`);
    expectStatus(reply, 200);
    expect(reply.headers.get('etag')).toBe('"0"');
    expect(reply.body).toMatchObject({ entryId: written.entryId, revision: 0, status: 'active' });

    const unchanged = await get(`/entries/${written.entryId}`, revalidate('"0"'));
    expect(unchanged.status).toBe(304);
    expect(unchanged.text).toBe('');
  });

  it('PATCH with the current If-Match corrects: 200 revision 1 and ETag "1"; the entry shows the change and the correction', async () => {
    const written = await record(slug, signing());
    const reply = await patch<Written>(
      `/entries/${written.entryId}`,
      { changes: { place: 'Bari, Italy', termYears: null }, reason: 'place confirmed by a second source' },
      { 'if-match': '"0"' },
    );
    expectStatus(reply, 200);
    expect(reply.body).toEqual({ entryId: written.entryId, revision: 1, position: expect.stringMatching(POSITION) });
    expect(reply.body.position > written.position).toBe(true);
    expect(reply.headers.get('etag')).toBe('"1"');

    const after = await get<Entry>(`/entries/${written.entryId}`);
    expect(after.headers.get('etag')).toBe('"1"');
    expect(after.body).toMatchObject({ place: 'Bari, Italy', title: signing().title, revision: 1, status: 'active' });
    expect(after.body).not.toHaveProperty('termYears');
    expect(after.body.corrections).toEqual([expect.objectContaining({ revision: 1, reason: 'place confirmed by a second source' })]);
    expect([...after.body.corrections[0].fields].sort()).toEqual(['place', 'termYears']);
    // The old tag no longer matches: a conditional GET gets the new version.
    expect((await get(`/entries/${written.entryId}`, revalidate('"0"'))).status).toBe(200);
  });

  it('PATCH with a stale If-Match answers 412 stale_revision, and appends nothing', async () => {
    const written = await record(slug, announcement());
    await correct(written.entryId, { title: 'One' }, { revision: 0 });
    const before = await head();
    expectError(await patch(`/entries/${written.entryId}`, { changes: { title: 'Two' }, reason: 'r' }, { 'if-match': '"0"' }), 412, 'stale_revision');
    expect(await head()).toBe(before);
    expect((await get<Entry>(`/entries/${written.entryId}`)).body).toMatchObject({ title: 'One', revision: 1 });
  });

  it('PATCH without If-Match answers 428 precondition_required, and appends nothing', async () => {
    const written = await record(slug, announcement());
    const before = await head();
    expectError(await patch(`/entries/${written.entryId}`, { changes: { title: 'Two' }, reason: 'r' }), 428, 'precondition_required');
    expect(await head()).toBe(before);
    expect((await get<Entry>(`/entries/${written.entryId}`)).body).toMatchObject({ title: announcement().title, revision: 0 });
  });

  it('retracts: 200 with the next revision; the entry stays readable as retracted, leaves the list, and refuses a second retraction and corrections', async () => {
    const kept = await record(slug, delivery({ title: 'kept' }));
    const written = await record(slug, delivery({ title: 'to retract' }));
    const countBefore = (await get<Timeline>(`/timelines/${slug}`)).body;
    const reply = await post<Written>(`/entries/${written.entryId}/retraction`, { reason: 'recorded in the wrong timeline' });
    expectStatus(reply, 200);
    expect(reply.body).toEqual({ entryId: written.entryId, revision: 1, position: expect.stringMatching(POSITION) });

    const after = await get<Entry>(`/entries/${written.entryId}`);
    expect(after.headers.get('etag')).toBe('"1"');
    expect(after.body).toMatchObject({ status: 'retracted', revision: 1, retraction: { reason: 'recorded in the wrong timeline' } });
    const ids = (await list(slug, '?limit=500')).items.map((e) => e.entryId);
    expect(ids).toContain(kept.entryId);
    expect(ids).not.toContain(written.entryId);
    expect((await get<Timeline>(`/timelines/${slug}`)).body).toMatchObject({
      entryCount: countBefore.entryCount - 1,
      retractedCount: countBefore.retractedCount + 1,
    });

    const before = await head();
    expectError(await post(`/entries/${written.entryId}/retraction`, { reason: 'again' }), 409, 'entry_retracted');
    expectError(await patch(`/entries/${written.entryId}`, { changes: { title: 'x' }, reason: 'r' }, { 'if-match': '"1"' }), 409, 'entry_retracted');
    expect(await head()).toBe(before);
  });

  it('a retraction with a stale If-Match answers 412 and leaves the entry active', async () => {
    const written = await record(slug, signing());
    await correct(written.entryId, { place: 'Rome' }, { revision: 0 });
    expectError(await post(`/entries/${written.entryId}/retraction`, { reason: 'stale' }, { 'if-match': '"0"' }), 412, 'stale_revision');
    expect((await get<Entry>(`/entries/${written.entryId}`)).body.status).toBe('active');
  });

  it('GET /entries/:id/history lists every event of the entry oldest first, hash-chained, with the correlation id sent', async () => {
    const recorded = await record(slug, announcement(), { 'x-correlation-id': 'acceptance-record' });
    const corrected = await correct(recorded.entryId, { title: 'Japan withdraws the pledge', pledge: null }, { revision: 0 });
    const retracted = await retract(recorded.entryId);

    const items = await history(recorded.entryId);
    expect(items.map((i) => [i.type, i.revision, i.position])).toEqual([
      ['AnnouncementRecorded', 0, recorded.position],
      ['EntryCorrected', 1, corrected.position],
      ['EntryRetracted', 2, retracted.position],
    ]);
    expect(items[0].metadata.correlationId).toBe('acceptance-record');
    expect(items[1].data).toMatchObject({ entryId: recorded.entryId, timeline: slug, changes: { title: 'Japan withdraws the pledge', pledge: null }, reason: 'a better source' });
    expect(items[2].data).toMatchObject({ entryId: recorded.entryId, reason: 'never happened' });
    for (const item of items) {
      expect(item.recordedBy).toBe('anonymous'); // development mode: no keys
      expect(item.metadata.hash).toMatch(HASH);
    }
    expect(items.map((i) => i.metadata.prevHash)).toEqual([null, items[0].metadata.hash, items[1].metadata.hash]);
    const times = items.map((i) => i.recordedAt);
    expect(times).toEqual([...times].sort());
  });
});

// ---------------------------------------------------------------------------

describe('a timeline as of a past moment (?asOf=)', () => {
  let slug: string;
  /** The writes, in order: A recorded, B recorded, A corrected, B retracted, C recorded. */
  const w: Written[] = [];
  /** When each write was recorded, from the entries' history. */
  let at: string[];

  const titles = (page: Page) => page.items.map((e) => `${e.title} (${e.status}, r${e.revision})`);

  beforeAll(async () => {
    slug = await openTimeline('asof');
    const write = async (doing: () => Promise<Written>) => {
      await clockPast(Date.now()); // each write gets a millisecond of its own
      w.push(await doing());
    };
    await write(() => record(slug, announcement({ occurredOn: '2024-06-13', title: 'A' })));
    await write(() => record(slug, delivery({ occurredOn: '2022-03', title: 'B' })));
    await write(() => correct(w[0].entryId, { title: 'A corrected' }, { revision: 0 }));
    await write(() => retract(w[1].entryId));
    await write(() => record(slug, signing({ occurredOn: '2024-06', title: 'C' })));
    const [ha, hb, hc] = [await history(w[0].entryId), await history(w[1].entryId), await history(w[4].entryId)];
    const events = [ha[0], hb[0], ha[1], hb[1], hc[0]];
    expect(events.map((h) => h.position)).toEqual(w.map((x) => x.position));
    at = events.map((h) => h.recordedAt);
  });

  it('as of each write position, shows exactly what stood then, echoing asOf', async () => {
    const expected = [
      ['A (active, r0)'],
      ['B (active, r0)', 'A (active, r0)'],
      ['B (active, r0)', 'A corrected (active, r1)'],
      ['B (retracted, r1)', 'A corrected (active, r1)'],
      ['B (retracted, r1)', 'C (active, r0)', 'A corrected (active, r1)'],
    ];
    for (const [i, written] of w.entries()) {
      const page = await list(slug, `?includeRetracted=true&asOf=${written.position}`);
      expect({ i, titles: titles(page), position: page.position, asOf: page.asOf }).toEqual({ i, titles: expected[i], position: written.position, asOf: written.position });
    }
    // Without includeRetracted, a retraction that had happened by then hides the entry.
    expect(titles(await list(slug, `?asOf=${w[3].position}`))).toEqual(['A corrected (active, r1)']);
    // The live list, for contrast, has everything applied and no asOf.
    const live = await list(slug, '?includeRetracted=true');
    expect(titles(live)).toEqual(expected[4]);
    expect(live).not.toHaveProperty('asOf');
  });

  it('resolves an instant to the last change of the timeline at or before it, in any offset', async () => {
    for (const [i, instant] of at.entries()) {
      const page = await list(slug, `?includeRetracted=true&asOf=${encodeURIComponent(instant)}`);
      expect({ i, position: page.position, asOf: page.asOf }).toEqual({ i, position: w[i].position, asOf: instant });
    }
    // The moment of A's correction, written at +02:00: the correction applied, B not yet retracted.
    const shifted = new Date(Date.parse(at[2]) + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    const page = await list(slug, `?asOf=${encodeURIComponent(shifted)}`);
    expect(page.position).toBe(w[2].position);
    expect(titles(page)).toEqual(['B (active, r0)', 'A corrected (active, r1)']);
  });

  it('answers an empty page before the first change, and filters the past version', async () => {
    expect(await list(slug, '?asOf=2000-01-01T00:00:00Z')).toEqual({ items: [], nextCursor: null, position: null, asOf: '2000-01-01T00:00:00Z' });
    expect(titles(await list(slug, `?asOf=${w[2].position}&kind=delivery`))).toEqual(['B (active, r0)']);
    expect(titles(await list(slug, `?asOf=${w[2].position}&from=2024`))).toEqual(['A corrected (active, r1)']);
  });

  it('answers 400 invalid naming asOf for a moment that is not one', async () => {
    for (const asOf of ['yesterday', '2024-06-13', '2024-02-30T00:00:00Z']) {
      expectError(await get(`/timelines/${slug}/entries?asOf=${encodeURIComponent(asOf)}`), 400, 'invalid', 'asOf');
    }
  });
});

// ---------------------------------------------------------------------------

describe('GET /events: the audit log', () => {
  let slug: string;
  let written: Written;

  beforeAll(async () => {
    slug = await openTimeline('log');
    written = await record(slug, signing(), { 'x-correlation-id': 'acceptance-log-42' });
    await correct(written.entryId, { place: 'Bari' }, { revision: 0 });
  });

  /** The whole log from one page (it is far shorter than 1,000 events here). */
  async function wholeLog(): Promise<LogItem[]> {
    const reply = await get<{ items: LogItem[]; next: string | null }>('/events?limit=1000');
    expectStatus(reply, 200);
    expect(reply.body.next).toBeNull();
    return reply.body.items;
  }

  it('answers {items, next}: every event once, in log order, up to the head, with the writes of this test', async () => {
    const all = await wholeLog();
    const positions = all.map((e) => e.position);
    expect(positions).toEqual([...positions].sort());
    expect(new Set(positions).size).toBe(all.length);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(positions[positions.length - 1]).toBe(await head());
    for (const item of all) {
      expect(Object.keys(item).sort()).toEqual(['data', 'id', 'metadata', 'position', 'recordedAt', 'revision', 'stream', 'type']);
      expect(item.metadata.hash).toMatch(HASH);
    }
    // The seeded timeline is in the log too.
    expect(all).toEqual(expect.arrayContaining([expect.objectContaining({ stream: `timeline-${SEEDED}`, type: 'TimelineOpened' })]));

    const ours = all.filter((e) => e.stream === `entry-${written.entryId}`);
    expect(ours.map((e) => [e.type, e.revision])).toEqual([
      ['SigningRecorded', 0],
      ['EntryCorrected', 1],
    ]);
    expect(ours[0]).toMatchObject({ position: written.position, data: { entryId: written.entryId, timeline: slug }, metadata: { correlationId: 'acceptance-log-42' } });
    expect(all.find((e) => e.stream === `timeline-${slug}`)).toMatchObject({ type: 'TimelineOpened', revision: 0, data: { slug } });
  });

  it('pages with limit and after, following next, to the same events', async () => {
    const all = await wholeLog();
    const seen: LogItem[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const reply: Reply<{ items: LogItem[]; next: string | null }> = await get<{ items: LogItem[]; next: string | null }>(`/events?limit=7${after ? `&after=${after}` : ''}`);
      expectStatus(reply, 200);
      seen.push(...reply.body.items);
      after = reply.body.next;
      pages++;
    } while (after !== null && pages < 100);
    expect(seen).toEqual(all);
    expect(await get(`/events?after=${all[all.length - 1].position}`)).toMatchObject({ status: 200, body: { items: [], next: null } });
  });

  it('streams the same log as NDJSON with ?format=ndjson, and from ?after=', async () => {
    const all = await wholeLog();
    const response = await fetch(`${baseUrl()}/events?format=ndjson`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await response.text();
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n').map((line) => JSON.parse(line) as LogItem)).toEqual(all);

    const tail = await (await fetch(`${baseUrl()}/events?format=ndjson&after=${all[all.length - 3].position}`)).text();
    expect(tail.trimEnd().split('\n').map((line) => JSON.parse(line) as LogItem)).toEqual(all.slice(-2));
  });

  it('answers 400 invalid naming the parameter for a bad limit, after or format', async () => {
    expectError(await get('/events?limit=1001'), 400, 'invalid', 'limit');
    expectError(await get('/events?after=abc'), 400, 'invalid', 'after');
    expectError(await get('/events?format=xml'), 400, 'invalid', 'format');
  });
});

// ---------------------------------------------------------------------------

describe('exporting a timeline as TimelineJS', () => {
  it('answers the active entries in date order, at each date precision, group = kind, unique_id = entryId, text escaped', async () => {
    const slug = uniqueSlug('export');
    expectStatus(await post('/timelines', { slug, title: 'Japan & Ukraine', description: 'Support <since> 2022' }), 201);
    const pledge = await record(slug, announcement({ occurredOn: '2024-06-13', title: 'The <b>pledge</b>' }));
    const vests = await record(slug, delivery({ occurredOn: '2022-03', title: 'Vests' }));
    const accord = await record(slug, signing({ occurredOn: '2023', title: 'Accord' }));
    const gone = await record(slug, announcement({ occurredOn: '2023-05', title: 'Never happened' }));
    await retract(gone.entryId);

    const reply = await get<TimelineJs>(`/timelines/${slug}/export?format=timelinejs`);
    expectStatus(reply, 200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reply.body.title.text).toEqual({ headline: 'Japan &amp; Ukraine', text: 'Support &lt;since&gt; 2022' });
    expect(reply.body.events.map((e) => [e.unique_id, e.group, e.start_date, e.text.headline])).toEqual([
      [vests.entryId, 'delivery', { year: 2022, month: 3 }, 'Vests'],
      [accord.entryId, 'signing', { year: 2023 }, 'Accord'],
      [pledge.entryId, 'announcement', { year: 2024, month: 6, day: 13 }, 'The &lt;b&gt;pledge&lt;/b&gt;'],
    ]);
  });

  it('answers 400 naming format for a format it does not know, 404 for an unknown timeline', async () => {
    expectError(await get(`/timelines/${SEEDED}/export?format=csv`), 400, 'invalid', 'format');
    expectError(await get(`/timelines/${SEEDED}/export`), 400, 'invalid', 'format');
    expectError(await get(`/timelines/${uniqueSlug('nowhere')}/export?format=timelinejs`), 404, 'timeline_not_found');
  });

  it('exports the seeded timeline with every seeded entry', async () => {
    const reply = await get<TimelineJs>(`/timelines/${SEEDED}/export?format=timelinejs`);
    expectStatus(reply, 200);
    const listed = await list(SEEDED, '?limit=500');
    expect(reply.body.events.map((e) => e.unique_id)).toEqual(listed.items.map((e) => e.entryId));
  });
});

// ---------------------------------------------------------------------------

describe('refusals', () => {
  let slug: string;
  beforeAll(async () => {
    slug = await openTimeline('refusals');
  });

  it.each([
    ['an impossible date', 'occurredOn', signing({ occurredOn: '2024-02-30' })],
    ['an unknown field', 'colour', delivery({ colour: 'red' })],
    ['a missing required field', 'stage', without(announcement(), 'stage')],
    ['a wrongly typed field', 'termYears', signing({ termYears: '10' })],
    ['an out-of-range number', 'termYears', signing({ termYears: 101 })],
    ['fewer than two different parties', 'parties', signing({ parties: ['JP', 'JP'] })],
    ['an unknown kind', 'kind', signing({ kind: 'treaty' })],
    ['a title over 200 characters', 'title', announcement({ title: 'T'.repeat(201) })],
    ['a nested field of the wrong type', 'pledge.amount', announcement({ pledge: { amount: 'lots', currency: 'USD' } })],
  ])('POST /timelines/:slug/entries with %s: 400 invalid naming %s, and nothing appended', async (_case, field, body) => {
    const before = await head();
    const countBefore = (await get<Timeline>(`/timelines/${slug}`)).body.entryCount;
    const error = expectError(await post(`/timelines/${slug}/entries`, body), 400, 'invalid', field);
    expect(error.error).toBe('Bad Request');
    expect(await head()).toBe(before);
    expect((await get<Timeline>(`/timelines/${slug}`)).body.entryCount).toBe(countBefore);
  });

  it('refuses a body that is not JSON, naming body, and appends nothing', async () => {
    const before = await head();
    const response = await fetch(`${baseUrl()}/timelines/${slug}/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"kind": "signing", "title": ',
    });
    const body = (await response.json()) as ErrorBody;
    expect({ status: response.status, code: body.code, fields: (body.errors ?? []).map((e) => e.field) }).toEqual({ status: 400, code: 'invalid', fields: ['body'] });
    expect(await head()).toBe(before);
  });

  it.each([
    ['a bad slug', 'slug', { slug: 'Japan_Ukraine!', title: 'T' }],
    ['a missing title', 'title', { slug: 'acc-no-title' }],
    ['an unknown field', 'owner', { slug: 'acc-unknown-field', title: 'T', owner: 'me' }],
  ])('POST /timelines with %s: 400 invalid naming %s, and nothing opened', async (_case, field, body) => {
    const before = await head();
    expectError(await post('/timelines', body), 400, 'invalid', field);
    expect(await head()).toBe(before);
  });

  it('answers 404 timeline_not_found for an unknown timeline, reading or writing, and appends nothing', async () => {
    const unknown = uniqueSlug('nowhere');
    const before = await head();
    expectError(await get(`/timelines/${unknown}`), 404, 'timeline_not_found');
    expectError(await get(`/timelines/${unknown}/entries`), 404, 'timeline_not_found');
    expectError(await post(`/timelines/${unknown}/entries`, signing()), 404, 'timeline_not_found');
    expect(await head()).toBe(before);
  });

  it('answers 404 entry_not_found for an unknown entry, and 400 naming id for a malformed one', async () => {
    const before = await head();
    expectError(await get(`/entries/${UNKNOWN_ENTRY}`), 404, 'entry_not_found');
    expectError(await get(`/entries/${UNKNOWN_ENTRY}/history`), 404, 'entry_not_found');
    expectError(await patch(`/entries/${UNKNOWN_ENTRY}`, { changes: { title: 'x' }, reason: 'r' }, { 'if-match': '"0"' }), 404, 'entry_not_found');
    expectError(await post(`/entries/${UNKNOWN_ENTRY}/retraction`, { reason: 'r' }), 404, 'entry_not_found');
    expectError(await get('/entries/not-a-uuid'), 400, 'invalid', 'id');
    expect(await head()).toBe(before);
  });

  it('refuses a correction that is not valid for the kind with 400 naming the change, and leaves the entry as it was', async () => {
    const written = await record(slug, announcement());
    const before = await head();
    expectError(await patch(`/entries/${written.entryId}`, { changes: { termYears: 5 }, reason: 'r' }, { 'if-match': '"0"' }), 400, 'invalid', 'changes.termYears');
    expectError(await patch(`/entries/${written.entryId}`, { changes: { kind: 'signing' }, reason: 'r' }, { 'if-match': '"0"' }), 400, 'invalid', 'changes.kind');
    expect(await head()).toBe(before);
    expect((await get<Entry>(`/entries/${written.entryId}`)).body).toMatchObject({ revision: 0, kind: 'announcement' });
  });
});
