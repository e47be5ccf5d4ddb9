/**
 * The HTTP contract of the timeline service, end to end: the whole app on a
 * random port over a fresh SQLite store (see ./support/service.ts).
 *
 * Every write answers only after the read model applied it, so each test reads
 * its own writes straight away: there are no sleeps anywhere.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, useService, type RunningService } from './support/service';
import {
  announcement,
  apiAt,
  delivery,
  expectError,
  expectFieldError,
  openTimeline,
  recordEntry,
  signing,
  uniqueSlug,
  type Api,
  type Body,
  type Written,
} from './support/http';

jest.setTimeout(20_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const POSITION = expect.stringMatching(/^\S+$/);
const ISO_TIME = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
const UNKNOWN_ENTRY = '00000000-0000-4000-8000-000000000000';

const entriesOf = async (api: Api, slug: string, query = '') => {
  const reply = await api.get(`/timelines/${slug}/entries${query}`);
  expect(reply.status).toBe(200);
  return reply.body as { items: Body[]; nextCursor: string | null; position: string | null };
};

const timelineOf = async (api: Api, slug: string) => {
  const reply = await api.get(`/timelines/${slug}`);
  expect(reply.status).toBe(200);
  return reply.body as Body;
};

const entry = async (api: Api, id: string) => {
  const reply = await api.get(`/entries/${id}`);
  expect(reply.status).toBe(200);
  return reply;
};

describe('GET /health', () => {
  const { api } = useService();

  it('answers 200 with status ok, and head and checkpoint null on an empty log', async () => {
    const reply = await api().get('/health');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'ok', checkpoint: null, head: null, lag: 0, deadLetters: 0, store: 'ok', problems: [] });
  });

  it('reports as head and checkpoint the position of the last write', async () => {
    const opened = await api().post('/timelines', { slug: uniqueSlug('health'), title: 'Health' });
    const reply = await api().get('/health');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      status: 'ok',
      checkpoint: opened.body.position,
      head: opened.body.position,
      lag: 0,
      deadLetters: 0,
      store: 'ok',
      problems: [],
    });
  });
});

describe('POST /timelines', () => {
  const { api } = useService();

  it('opens a timeline: 201 {slug, position}, then GET /timelines/:slug finds it', async () => {
    const slug = uniqueSlug('open');
    const reply = await api().post('/timelines', { slug, title: 'Japan and Ukraine', description: 'Support since 2022' });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({ slug, position: POSITION });
    expect(await api().head()).toBe(reply.body.position);
    expect(await timelineOf(api(), slug)).toMatchObject({ slug, title: 'Japan and Ukraine', description: 'Support since 2022', entryCount: 0 });
  });

  it('accepts a slug of exactly 64 characters and a title of exactly 200', async () => {
    const slug = `b${Date.now().toString(36)}-`.padEnd(64, 'x');
    const reply = await api().post('/timelines', { slug, title: 'T'.repeat(200) });
    expect(reply.status).toBe(201);
    expect(reply.body.slug).toBe(slug);
  });

  it('answers 409 timeline_exists when the slug is taken, and appends nothing', async () => {
    const slug = await openTimeline(api(), 'taken', 'First');
    const head = await api().head();
    const reply = await api().post('/timelines', { slug, title: 'Second' });
    expectError(reply, 409, 'timeline_exists');
    expect(await api().head()).toBe(head);
    expect((await timelineOf(api(), slug)).title).toBe('First');
  });

  it.each([
    ['bad slug characters', { slug: 'japan_ukraine!', title: 'T' }, 'slug'],
    ['an uppercase slug', { slug: 'Japan-Ukraine', title: 'T' }, 'slug'],
    ['a slug of 65 characters', { slug: 'a'.repeat(65), title: 'T' }, 'slug'],
    ['a slug with a double dash', { slug: 'japan--ukraine', title: 'T' }, 'slug'],
    ['a missing title', { slug: 'no-title' }, 'title'],
    ['a title of 201 characters', { slug: 'long-title', title: 'T'.repeat(201) }, 'title'],
    ['a title of only spaces', { slug: 'blank-title', title: '   ' }, 'title'],
    ['an unknown field', { slug: 'unknown-field', title: 'T', owner: 'me' }, 'owner'],
  ])('answers 400 naming the field for %s, and opens nothing', async (_case, body, field) => {
    const head = await api().head();
    expectFieldError(await api().post('/timelines', body), field);
    expect(await api().head()).toBe(head);
  });
});

describe('GET /timelines and GET /timelines/:slug', () => {
  const { api } = useService();

  it('lists timelines as {items: [{slug, title, description, entryCount, ...}]}', async () => {
    const slug = uniqueSlug('listed');
    await api().post('/timelines', { slug, title: 'Listed', description: 'A description' });
    const bare = await openTimeline(api(), 'bare', 'No description');
    const reply = await api().get('/timelines');
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body)).toEqual(['items']);
    expect(reply.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ slug, title: 'Listed', description: 'A description', entryCount: 0 }),
        expect.objectContaining({ slug: bare, title: 'No description', description: '', entryCount: 0 }),
      ]),
    );
  });

  it('answers 200 with the timeline, or 404 timeline_not_found for an unknown slug', async () => {
    const slug = await openTimeline(api(), 'known', 'Known');
    expect(await timelineOf(api(), slug)).toMatchObject({ slug, title: 'Known', entryCount: 0 });
    expectError(await api().get(`/timelines/${uniqueSlug('unknown')}`), 404, 'timeline_not_found');
  });

  it('counts the entries that are not retracted, in the item and in the list, and a retraction lowers the count', async () => {
    const slug = await openTimeline(api(), 'counted');
    const first = await recordEntry(api(), slug, announcement());
    await recordEntry(api(), slug, signing());
    await recordEntry(api(), slug, delivery());
    expect((await timelineOf(api(), slug)).entryCount).toBe(3);

    const retracted = await api().post(`/entries/${first.entryId}/retraction`, { reason: 'duplicate' });
    expect(retracted.status).toBe(200);
    expect((await timelineOf(api(), slug)).entryCount).toBe(2);
    const listed = (await api().get('/timelines')).body.items.find((t: Body) => t.slug === slug);
    expect(listed.entryCount).toBe(2);
  });
});

describe('POST /timelines/:slug/entries', () => {
  const { api } = useService();
  let slug: string;
  beforeAll(async () => {
    slug = await openTimeline(api(), 'record');
  });

  it.each([
    ['an announcement with a pledge', announcement()],
    ['a signing with termYears and place', signing()],
    ['a delivery with items, value and channel', delivery()],
  ])('records %s: 201 {entryId, revision: 0, position}, and the entry reads back', async (_kind, body) => {
    const reply = await api().post(`/timelines/${slug}/entries`, body);
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({ entryId: expect.stringMatching(UUID), revision: 0, position: POSITION });
    const { body: stored } = await entry(api(), reply.body.entryId);
    expect(stored).toMatchObject({ ...body, entryId: reply.body.entryId, timeline: slug, revision: 0, status: 'active' });
  });

  it('generates a lowercase UUID entryId when none is given, a different one each time', async () => {
    const a = await recordEntry(api(), slug, announcement());
    const b = await recordEntry(api(), slug, announcement());
    expect(a.entryId).toMatch(UUID);
    expect(b.entryId).toMatch(UUID);
    expect(a.entryId).not.toBe(b.entryId);
    expect(b.position > a.position).toBe(true);
  });

  it('answers 404 timeline_not_found for an unknown timeline, and appends nothing', async () => {
    const head = await api().head();
    expectError(await api().post(`/timelines/${uniqueSlug('nowhere')}/entries`, signing()), 404, 'timeline_not_found');
    expect(await api().head()).toBe(head);
  });

  describe('with a client-chosen entryId', () => {
    it('answers a repeat of the same body exactly as the first time and records nothing new', async () => {
      const own = await openTimeline(api(), 'retry');
      const body = delivery({ entryId: randomUUID() });
      const first = await api().post(`/timelines/${own}/entries`, body);
      expect(first.status).toBe(201);
      expect(first.body).toEqual({ entryId: body.entryId, revision: 0, position: POSITION });
      const head = await api().head();
      const listed = await entriesOf(api(), own);

      const again = await api().post(`/timelines/${own}/entries`, body);
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(await api().head()).toBe(head);
      expect((await timelineOf(api(), own)).entryCount).toBe(1);
      expect(await entriesOf(api(), own)).toEqual(listed);
    });

    it('treats the same fields in another key order, with defaults spelt out, as the same body', async () => {
      const own = await openTimeline(api(), 'retry-order');
      const body = signing({ entryId: randomUUID() });
      const first = await recordEntry(api(), own, body);
      const reordered = Object.fromEntries(Object.entries({ ...body, sources: [], tags: [], relatedTo: [] }).reverse());
      const again = await api().post(`/timelines/${own}/entries`, reordered);
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first);
      expect((await timelineOf(api(), own)).entryCount).toBe(1);
    });

    it('still answers a retry as the original after the entry was corrected', async () => {
      const body = announcement({ entryId: randomUUID() });
      const first = await recordEntry(api(), slug, body);
      const corrected = await api().patch(`/entries/${body.entryId}`, { changes: { title: 'Corrected' }, reason: 'typo' }, { 'If-Match': '"0"' });
      expect(corrected.status).toBe(200);
      const again = await api().post(`/timelines/${slug}/entries`, body);
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first);
      expect((await entry(api(), body.entryId)).body.title).toBe('Corrected');
    });

    it('answers 409 entry_id_conflict for a different body under that id, and appends nothing', async () => {
      const body = signing({ entryId: randomUUID() });
      await recordEntry(api(), slug, body);
      const head = await api().head();
      expectError(await api().post(`/timelines/${slug}/entries`, { ...body, title: 'Something else' }), 409, 'entry_id_conflict');
      expectError(await api().post(`/timelines/${slug}/entries`, delivery({ entryId: body.entryId })), 409, 'entry_id_conflict');
      expect(await api().head()).toBe(head);
      expect((await entry(api(), body.entryId)).body.title).toBe(body.title);
    });

    it('answers 409 for the same body under that id in another timeline', async () => {
      const other = await openTimeline(api(), 'other');
      const body = announcement({ entryId: randomUUID() });
      await recordEntry(api(), slug, body);
      expectError(await api().post(`/timelines/${other}/entries`, body), 409, 'entry_id_conflict');
      expect((await timelineOf(api(), other)).entryCount).toBe(0);
    });
  });
});

describe('GET /timelines/:slug/entries', () => {
  const { api, service } = useService();

  // Recorded in this order; ties on 2024-06-01 must come out in recording order.
  const plan: Array<[key: string, body: Body]> = [
    ['a', signing({ occurredOn: '2024-06-13', actors: ['JP', 'UA'] })],
    ['b', announcement({ occurredOn: '2024', actors: ['JP'] })],
    ['c', delivery({ occurredOn: '2024-06-01', actors: ['JP', 'UA'] })],
    ['d', announcement({ occurredOn: '2024-06', actors: ['NATO', 'JP'] })],
    ['e', delivery({ occurredOn: '2024-01', actors: ['US', 'UA'], supplier: 'US' })],
    ['f', announcement({ occurredOn: '2024-06-01', actors: ['JP', 'UA'] })],
    ['g', signing({ occurredOn: '2023-12-31', actors: ['US', 'UA'], parties: ['US', 'UA'] })],
    ['h', delivery({ occurredOn: '2024-06-30', actors: ['NATO'], supplier: 'NATO' })],
    ['i', announcement({ occurredOn: '2024-07', actors: ['JP'] })],
  ];
  const ascending = ['g', 'b', 'e', 'd', 'c', 'f', 'a', 'h', 'i'];

  let slug: string;
  const ids: Record<string, string> = {};
  const keyOf = (id: string) => Object.keys(ids).find((k) => ids[k] === id) ?? id;
  let lastWrite: Written;

  beforeAll(async () => {
    slug = await openTimeline(api(), 'listing');
    for (const [key, body] of plan) {
      lastWrite = await recordEntry(api(), slug, { ...body, title: `entry ${key}` });
      ids[key] = lastWrite.entryId;
    }
  });

  const keys = async (query = '') => (await entriesOf(api(), slug, query)).items.map((e) => keyOf(e.entryId as string));

  it('answers {items, nextCursor, position}, position being that of the last write', async () => {
    const page = await entriesOf(api(), slug);
    expect(Object.keys(page).sort()).toEqual(['items', 'nextCursor', 'position']);
    expect(page.items).toHaveLength(plan.length);
    expect(page.nextCursor).toBeNull();
    expect(page.position).toBe(lastWrite.position);
  });

  it('orders by occurredOn, a year before its months and a month before its days, ties in recording order', async () => {
    expect(await keys()).toEqual(ascending);
    expect(await keys('?order=asc')).toEqual(ascending);
    expect((await entriesOf(api(), slug)).items.map((e) => e.occurredOn)).toEqual([
      '2023-12-31', '2024', '2024-01', '2024-06', '2024-06-01', '2024-06-01', '2024-06-13', '2024-06-30', '2024-07',
    ]);
  });

  it('reverses the order with order=desc', async () => {
    expect(await keys('?order=desc')).toEqual([...ascending].reverse());
  });

  it('filters by kind', async () => {
    expect(await keys('?kind=announcement')).toEqual(['b', 'd', 'f', 'i']);
    expect(await keys('?kind=signing')).toEqual(['g', 'a']);
    expect(await keys('?kind=delivery')).toEqual(['e', 'c', 'h']);
  });

  it('filters by actor', async () => {
    expect(await keys('?actor=NATO')).toEqual(['d', 'h']);
    expect(await keys('?actor=US')).toEqual(['g', 'e']);
    expect(await keys('?actor=UA')).toEqual(['g', 'e', 'c', 'f', 'a']);
    expect(await keys('?actor=FR')).toEqual([]);
    expect(await keys('?kind=delivery&actor=NATO')).toEqual(['h']);
  });

  it('treats from and to as inclusive at any precision', async () => {
    expect(await keys('?to=2024-06')).toEqual(['g', 'b', 'e', 'd', 'c', 'f', 'a', 'h']); // includes 2024-06-30
    expect(await keys('?from=2024-06&to=2024-06')).toEqual(['d', 'c', 'f', 'a', 'h']);
    expect(await keys('?from=2024-06-01&to=2024-06-13')).toEqual(['c', 'f', 'a']);
    expect(await keys('?from=2024-06-30')).toEqual(['h', 'i']);
    expect(await keys('?to=2023')).toEqual(['g']);
    expect(await keys('?from=2024-07&to=2024')).toEqual(['i']);
    expect(await keys('?from=2024-06-13&order=desc')).toEqual(['i', 'h', 'a']);
  });

  it.each([
    ['asc', 2],
    ['desc', 2],
    ['asc', 1],
    ['desc', 1],
    ['asc', 3],
    ['desc', 3],
  ])('walks every entry exactly once with cursors, order=%s, limit=%d', async (order, limit) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?order=${order}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await entriesOf(api(), slug, query);
      pages += 1;
      expect(page.items.length).toBeLessThanOrEqual(limit);
      if (page.nextCursor !== null) expect(page.items).toHaveLength(limit);
      seen.push(...page.items.map((e) => keyOf(e.entryId as string)));
      cursor = page.nextCursor;
      expect(pages).toBeLessThan(20);
    } while (cursor !== null);
    expect(pages).toBe(Math.ceil(plan.length / limit));
    expect(seen).toEqual(order === 'asc' ? ascending : [...ascending].reverse());
  });

  it('pages filtered results too: kind=announcement with limit=3', async () => {
    const first = await entriesOf(api(), slug, '?kind=announcement&limit=3');
    expect(first.items.map((e) => keyOf(e.entryId as string))).toEqual(['b', 'd', 'f']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await entriesOf(api(), slug, `?kind=announcement&limit=3&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(second.items.map((e) => keyOf(e.entryId as string))).toEqual(['i']);
    expect(second.nextCursor).toBeNull();
  });

  it('leaves retracted entries out unless includeRetracted=true', async () => {
    const own = await openTimeline(api(), 'retracted-list');
    const kept = await recordEntry(api(), own, announcement({ occurredOn: '2024-01' }));
    const gone = await recordEntry(api(), own, signing({ occurredOn: '2024-02' }));
    const retraction = await api().post(`/entries/${gone.entryId}/retraction`, { reason: 'wrong story' });
    expect(retraction.status).toBe(200);

    const plain = await entriesOf(api(), own);
    expect(plain.items.map((e) => e.entryId)).toEqual([kept.entryId]);
    expect((await entriesOf(api(), own, '?includeRetracted=false')).items.map((e) => e.entryId)).toEqual([kept.entryId]);
    const all = await entriesOf(api(), own, '?includeRetracted=true');
    expect(all.items.map((e) => [e.entryId, e.status])).toEqual([
      [kept.entryId, 'active'],
      [gone.entryId, 'retracted'],
    ]);
  });

  it('follows corrections: a new occurredOn moves the entry, new actors change the actor filter', async () => {
    const own = await openTimeline(api(), 'moved');
    const x = await recordEntry(api(), own, announcement({ occurredOn: '2024-01', actors: ['JP'] }));
    const y = await recordEntry(api(), own, announcement({ occurredOn: '2024-02', actors: ['JP'] }));
    const z = await recordEntry(api(), own, announcement({ occurredOn: '2024-03', actors: ['JP'] }));
    const reply = await api().patch(`/entries/${x.entryId}`, { changes: { occurredOn: '2024-02', actors: ['UA'] }, reason: 'date and actor' }, { 'If-Match': '"0"' });
    expect(reply.status).toBe(200);
    // Same day as y now; x was recorded first, so it still comes first.
    expect((await entriesOf(api(), own)).items.map((e) => e.entryId)).toEqual([x.entryId, y.entryId, z.entryId]);
    expect((await entriesOf(api(), own, '?from=2024-02-01')).items.map((e) => e.entryId)).toEqual([z.entryId]);
    expect((await entriesOf(api(), own, '?actor=UA')).items.map((e) => e.entryId)).toEqual([x.entryId]);
    expect((await entriesOf(api(), own, '?actor=JP')).items.map((e) => e.entryId)).toEqual([y.entryId, z.entryId]);
    const moved = await api().patch(`/entries/${z.entryId}`, { changes: { occurredOn: '2023' }, reason: 'year only' }, { 'If-Match': '"0"' });
    expect(moved.status).toBe(200);
    expect((await entriesOf(api(), own)).items.map((e) => e.entryId)).toEqual([z.entryId, x.entryId, y.entryId]);
  });

  it('shows every write to an immediate GET, with position equal to that write (read-your-writes)', async () => {
    const own = await openTimeline(api(), 'ryw');
    const recorded = await recordEntry(api(), own, delivery());
    let page = await entriesOf(api(), own);
    expect(page.items.map((e) => e.entryId)).toEqual([recorded.entryId]);
    expect(page.position).toBe(recorded.position);

    const corrected = await api().patch(`/entries/${recorded.entryId}`, { changes: { channel: 'By rail' }, reason: 'route' }, { 'If-Match': '"0"' });
    expect(corrected.status).toBe(200);
    page = await entriesOf(api(), own);
    expect(page.items[0].channel).toBe('By rail');
    expect(page.position).toBe(corrected.body.position);

    const retracted = await api().post(`/entries/${recorded.entryId}/retraction`, { reason: 'never happened' });
    expect(retracted.status).toBe(200);
    page = await entriesOf(api(), own);
    expect(page.items).toEqual([]);
    expect(page.position).toBe(retracted.body.position);
  });

  it('answers 50 entries by default and takes limit up to 500', async () => {
    const own = await openTimeline(api(), 'many');
    let last: Written | undefined;
    for (let batch = 0; batch < 6; batch++) {
      const written = await Promise.all(
        Array.from({ length: 10 }, (_, i) => {
          const n = batch * 10 + i;
          return recordEntry(api(), own, announcement({ occurredOn: `2020-01-${String((n % 28) + 1).padStart(2, '0')}`, title: `n${n}` }));
        }),
      );
      last = written.reduce((a, b) => (a.position > b.position ? a : b));
    }
    expect((await timelineOf(api(), own)).entryCount).toBe(60);

    const first = await entriesOf(api(), own);
    expect(first.items).toHaveLength(50);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(first.position).toBe(last!.position);
    const rest = await entriesOf(api(), own, `?cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(rest.items).toHaveLength(10);
    expect(rest.nextCursor).toBeNull();
    const ids = new Set([...first.items, ...rest.items].map((e) => e.entryId));
    expect(ids.size).toBe(60);

    expect((await entriesOf(api(), own, '?limit=500')).items).toHaveLength(60);
    expect((await entriesOf(api(), own, '?limit=1')).items).toHaveLength(1);
  });

  it('answers 404 for an unknown timeline', async () => {
    expectError(await api().get(`/timelines/${uniqueSlug('absent')}/entries`), 404, 'timeline_not_found');
  });

  it('tags each page with an ETag: 304 for If-None-Match until a write changes the page, then the new page at once', async () => {
    const own = await openTimeline(api(), 'etag');
    await recordEntry(api(), own, announcement({ title: 'first' }));
    const url = `${service().url}/timelines/${own}/entries?limit=10`;
    const first = await fetch(url);
    const etag = first.headers.get('etag');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect(etag).toMatch(/^W\/"[\w-]+"$/);
    expect((await fetch(url)).headers.get('etag')).toBe(etag);
    // As a browser revalidates: fetch() would otherwise add Cache-Control: no-cache, which forbids a 304.
    const revalidate = { 'if-none-match': etag!, 'cache-control': 'max-age=0' };
    const unchanged = await fetch(url, { headers: revalidate });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe('');
    // The tag is of the bytes: another page has another tag.
    expect((await fetch(`${url}&kind=signing`)).headers.get('etag')).not.toBe(etag);

    const second = await recordEntry(api(), own, announcement({ title: 'second' }));
    const changed = await fetch(url, { headers: revalidate });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    const page = (await changed.json()) as { items: Array<{ title: string }>; position: string };
    expect(page.items.map((e) => e.title).sort()).toEqual(['first', 'second']);
    expect(page.position).toBe(second.position);
  });
});

describe('GET /entries/:id', () => {
  const { api } = useService();
  let slug: string;
  beforeAll(async () => {
    slug = await openTimeline(api(), 'get-entry');
  });

  it('answers the entry with common and kind fields flat, revision, status, recordedAt, updatedAt and ETag "0"', async () => {
    const body = delivery({ summary: 'Vests and helmets', tags: ['non-lethal'] });
    const written = await recordEntry(api(), slug, body);
    const reply = await entry(api(), written.entryId);
    expect(reply.headers.get('etag')).toBe('"0"');
    const { kind: _kind, ...fields } = body;
    expect(reply.body).toMatchObject({
      ...fields,
      kind: 'delivery',
      entryId: written.entryId,
      timeline: slug,
      revision: 0,
      status: 'active',
      recordedAt: ISO_TIME,
      updatedAt: ISO_TIME,
      sources: [],
      relatedTo: [],
      corrections: [],
    });
    expect(reply.body.items).toEqual(body.items);
    expect(reply.body.value).toEqual(body.value);
    expect(reply.body).not.toHaveProperty('details');
    expect(reply.body).not.toHaveProperty('retraction');
  });

  it('answers 404 entry_not_found for an unknown (valid) uuid', async () => {
    expectError(await api().get(`/entries/${UNKNOWN_ENTRY}`), 404, 'entry_not_found');
  });

  it.each(['not-a-uuid', '5B1F7A56-1D2C-4F0E-9A51-0C8A3A1E2B10', '5b1f7a56-1d2c-4f0e-9a51-0c8a3a1e2b1'])(
    'answers 400 naming id for the malformed id %s',
    async (id) => {
      expectFieldError(await api().get(`/entries/${id}`), 'id');
    },
  );
});

describe('PATCH /entries/:id', () => {
  const { api } = useService();
  let slug: string;
  beforeAll(async () => {
    slug = await openTimeline(api(), 'correct');
  });

  const patch = (id: string, body: unknown, ifMatch?: string) =>
    api().patch(`/entries/${id}`, body, ifMatch === undefined ? {} : { 'If-Match': ifMatch });

  it('corrects with If-Match: 200 {entryId, revision, position}; the GET shows the change, ETag "1" and the correction', async () => {
    const written = await recordEntry(api(), slug, announcement());
    const reply = await patch(written.entryId, { changes: { title: 'Japan pledges 4.6 billion', pledge: { amount: 4_600_000_000, currency: 'USD' } }, reason: 'figure updated' }, '"0"');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ entryId: written.entryId, revision: 1, position: POSITION });
    expect(reply.body.position > written.position).toBe(true);
    expect(reply.headers.get('etag')).toBe('"1"');

    const after = await entry(api(), written.entryId);
    expect(after.headers.get('etag')).toBe('"1"');
    expect(after.body).toMatchObject({
      title: 'Japan pledges 4.6 billion',
      pledge: { amount: 4_600_000_000, currency: 'USD' },
      summary: announcement().summary,
      revision: 1,
      status: 'active',
    });
    expect(after.body.corrections).toEqual([
      expect.objectContaining({ revision: 1, reason: 'figure updated', correctedAt: ISO_TIME }),
    ]);
    expect([...after.body.corrections[0].fields].sort()).toEqual(['pledge', 'title']);
    expect(after.body.updatedAt >= after.body.recordedAt).toBe(true);
  });

  it('keeps every correction with its reason, in order', async () => {
    const written = await recordEntry(api(), slug, signing());
    expect((await patch(written.entryId, { changes: { place: 'Bari' }, reason: 'first fix' }, '"0"')).status).toBe(200);
    expect((await patch(written.entryId, { changes: { termYears: 9 }, reason: 'second fix' }, '"1"')).status).toBe(200);
    const after = await entry(api(), written.entryId);
    expect(after.body).toMatchObject({ place: 'Bari', termYears: 9, revision: 2 });
    expect(after.body.corrections.map((c: Body) => [c.revision, c.reason])).toEqual([
      [1, 'first fix'],
      [2, 'second fix'],
    ]);
    expect(after.headers.get('etag')).toBe('"2"');
  });

  it.each([
    ['summary', announcement()],
    ['pledge', announcement()],
    ['place', signing()],
    ['termYears', signing()],
    ['value', delivery()],
    ['channel', delivery()],
  ])('removes the optional field %s when the change is null', async (field, body) => {
    const written = await recordEntry(api(), slug, body);
    expect(body).toHaveProperty(field);
    const reply = await patch(written.entryId, { changes: { [field]: null }, reason: 'not reported' }, '"0"');
    expect(reply.status).toBe(200);
    const after = await entry(api(), written.entryId);
    expect(after.body).not.toHaveProperty(field);
    expect(after.body.revision).toBe(1);
    expect(after.body.corrections).toEqual([expect.objectContaining({ revision: 1, reason: 'not reported', fields: [field] })]);
  });

  it('answers 428 without If-Match, and appends nothing', async () => {
    const written = await recordEntry(api(), slug, announcement());
    const head = await api().head();
    expectError(await patch(written.entryId, { changes: { title: 'New' }, reason: 'r' }), 428, 'precondition_required');
    expect(await api().head()).toBe(head);
  });

  it('answers 412 stale_revision for a stale If-Match, and appends nothing', async () => {
    const written = await recordEntry(api(), slug, announcement());
    expect((await patch(written.entryId, { changes: { title: 'One' }, reason: 'r' }, '"0"')).status).toBe(200);
    const head = await api().head();
    expectError(await patch(written.entryId, { changes: { title: 'Two' }, reason: 'r' }, '"0"'), 412, 'stale_revision');
    expectError(await patch(written.entryId, { changes: { title: 'Two' }, reason: 'r' }, '"7"'), 412, 'stale_revision');
    expect(await api().head()).toBe(head);
    expect((await entry(api(), written.entryId)).body.title).toBe('One');
  });

  it('answers 409 entry_retracted for a retracted entry', async () => {
    const written = await recordEntry(api(), slug, announcement());
    expect((await api().post(`/entries/${written.entryId}/retraction`, { reason: 'duplicate' })).status).toBe(200);
    expectError(await patch(written.entryId, { changes: { title: 'New' }, reason: 'r' }, '"1"'), 409, 'entry_retracted');
  });

  it('answers 404 entry_not_found for an unknown entry', async () => {
    expectError(await patch(UNKNOWN_ENTRY, { changes: { title: 'New' }, reason: 'r' }, '"0"'), 404, 'entry_not_found');
  });

  describe('refuses with 400 naming the field, and changes nothing', () => {
    let target: Written;
    beforeAll(async () => {
      target = await recordEntry(api(), slug, announcement());
    });

    it.each([
      ['a field the kind does not have', { termYears: 5 }, 'changes.termYears'],
      ['a field of no kind', { colour: 'red' }, 'changes.colour'],
      ['kind', { kind: 'signing' }, 'changes.kind'],
      ['entryId', { entryId: '5b1f7a56-1d2c-4f0e-9a51-0c8a3a1e2b10' }, 'changes.entryId'],
      ['a wrongly typed change', { title: 5 }, 'changes.title'],
      ['a wrongly typed nested change', { pledge: { amount: '12', currency: 'USD' } }, 'changes.pledge.amount'],
      ['null on a required field', { title: null }, 'changes.title'],
      ['null on required actors', { actors: null }, 'changes.actors'],
      ['empty changes', {}, 'changes'],
    ])('%s', async (_case, changes, field) => {
      const head = await api().head();
      expectFieldError(await patch(target.entryId, { changes, reason: 'try' }, '"0"'), field);
      expect(await api().head()).toBe(head);
      const after = await entry(api(), target.entryId);
      expect(after.body.revision).toBe(0);
      expect(after.body.title).toBe(announcement().title);
    });
  });
});

describe('POST /entries/:id/retraction', () => {
  const { api } = useService();
  let slug: string;
  beforeAll(async () => {
    slug = await openTimeline(api(), 'retract');
  });

  it('retracts: 200 {entryId, revision, position}; status retracted; out of the default list, in with includeRetracted=true', async () => {
    const kept = await recordEntry(api(), slug, signing());
    const written = await recordEntry(api(), slug, announcement());
    const reply = await api().post(`/entries/${written.entryId}/retraction`, { reason: 'the pledge was never made' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ entryId: written.entryId, revision: 1, position: POSITION });

    const after = await entry(api(), written.entryId);
    expect(after.body).toMatchObject({ status: 'retracted', revision: 1, retraction: { reason: 'the pledge was never made' } });
    expect(after.headers.get('etag')).toBe('"1"');
    expect((await entriesOf(api(), slug)).items.map((e) => e.entryId)).toEqual([kept.entryId]);
    expect((await entriesOf(api(), slug, '?includeRetracted=true')).items.map((e) => e.entryId)).toEqual(
      expect.arrayContaining([kept.entryId, written.entryId]),
    );
    expect(await timelineOf(api(), slug)).toMatchObject({ entryCount: 1, retractedCount: 1 });
  });

  it('answers 409 entry_retracted to a second retraction, and appends nothing', async () => {
    const written = await recordEntry(api(), slug, delivery());
    expect((await api().post(`/entries/${written.entryId}/retraction`, { reason: 'first' })).status).toBe(200);
    const head = await api().head();
    expectError(await api().post(`/entries/${written.entryId}/retraction`, { reason: 'second' }), 409, 'entry_retracted');
    expect(await api().head()).toBe(head);
    expect((await entry(api(), written.entryId)).body.retraction.reason).toBe('first');
  });

  it('checks an optional If-Match: stale gives 412, current retracts', async () => {
    const written = await recordEntry(api(), slug, signing());
    expect((await api().patch(`/entries/${written.entryId}`, { changes: { place: 'Rome' }, reason: 'r' }, { 'If-Match': '"0"' })).status).toBe(200);
    const head = await api().head();
    expectError(await api().post(`/entries/${written.entryId}/retraction`, { reason: 'stale' }, { 'If-Match': '"0"' }), 412, 'stale_revision');
    expect(await api().head()).toBe(head);
    expect((await entry(api(), written.entryId)).body.status).toBe('active');

    const reply = await api().post(`/entries/${written.entryId}/retraction`, { reason: 'current' }, { 'If-Match': '"1"' });
    expect(reply.status).toBe(200);
    expect(reply.body.revision).toBe(2);
  });

  it('answers 404 entry_not_found for an unknown entry', async () => {
    expectError(await api().post(`/entries/${UNKNOWN_ENTRY}/retraction`, { reason: 'r' }), 404, 'entry_not_found');
  });
});

describe('concurrency', () => {
  const { api } = useService();
  let slug: string;
  beforeAll(async () => {
    slug = await openTimeline(api(), 'race');
  });

  it('lets exactly one of 20 concurrent PATCHes with the same If-Match win; the rest get 412', async () => {
    const written = await recordEntry(api(), slug, announcement());
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api().patch(`/entries/${written.entryId}`, { changes: { title: `Title ${i}` }, reason: `editor ${i}` }, { 'If-Match': '"0"' })),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(19).fill(412)]);
    const winner = replies.find((r) => r.status === 200)!;
    const after = await entry(api(), written.entryId);
    expect(after.body.revision).toBe(1);
    expect(after.body.corrections).toHaveLength(1);
    expect(after.body.title).toBe(`Title ${after.body.corrections[0].reason.slice('editor '.length)}`);
    expect(await api().head()).toBe(winner.body.position);
  });

  it('answers 20 concurrent POSTs of one entryId and body all with 201 and the same position, and keeps one entry', async () => {
    const own = await openTimeline(api(), 'race-record');
    const body = delivery({ entryId: randomUUID() });
    const replies = await Promise.all(Array.from({ length: 20 }, () => api().post(`/timelines/${own}/entries`, body)));
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(201));
    const answers = new Set(replies.map((r) => JSON.stringify(r.body)));
    expect(answers.size).toBe(1);
    expect(replies[0].body).toEqual({ entryId: body.entryId, revision: 0, position: POSITION });
    expect((await timelineOf(api(), own)).entryCount).toBe(1);
    expect((await entriesOf(api(), own, '?includeRetracted=true')).items).toHaveLength(1);
    expect(await api().head()).toBe(replies[0].body.position);
  });
});

describe('restart', () => {
  let service: RunningService | undefined;
  afterAll(async () => {
    await service?.stop();
  });

  it('keeps every timeline and entry, with the same positions, across a restart on the same data dir', async () => {
    service = await startService();
    let api = apiAt(service.url);
    const slug = await openTimeline(api, 'durable');
    const a = await recordEntry(api, slug, announcement());
    const b = await recordEntry(api, slug, signing());
    await recordEntry(api, slug, delivery());
    expect((await api.patch(`/entries/${a.entryId}`, { changes: { title: 'Kept' }, reason: 'r' }, { 'If-Match': '"0"' })).status).toBe(200);
    expect((await api.post(`/entries/${b.entryId}/retraction`, { reason: 'r' })).status).toBe(200);

    const snapshot = async () => ({
      health: (await api.get('/health')).body,
      timelines: (await api.get('/timelines')).body,
      timeline: await timelineOf(api, slug),
      entries: await entriesOf(api, slug, '?includeRetracted=true'),
      entryA: (await entry(api, a.entryId)).body,
    });
    const before = await snapshot();
    expect(before.timeline.entryCount).toBe(2);

    const dataDir = service.dataDir;
    await service.stop({ removeData: false });
    service = await startService({}, dataDir);
    api = apiAt(service.url);

    expect(await snapshot()).toEqual(before);
    const later = await recordEntry(api, slug, announcement());
    expect(later.position > before.health.head).toBe(true);
    expect((await timelineOf(api, slug)).entryCount).toBe(3);
  });
});

describe('seeds', () => {
  const seed = JSON.parse(readFileSync(join(__dirname, '..', 'seeds', 'japan-ukraine-support.json'), 'utf8')) as {
    timeline: { slug: string };
    entries: Array<{ entryId: string }>;
  };
  let service: RunningService | undefined;
  afterAll(async () => {
    await service?.stop();
  });

  it('loads the seed file with SEED_ON_START=true, and a second start on the same data adds nothing', async () => {
    expect(seed.timeline.slug).toBe('japan-ukraine-support');
    service = await startService({ SEED_ON_START: 'true' });
    let api = apiAt(service.url);
    const timeline = await timelineOf(api, 'japan-ukraine-support');
    expect(timeline.entryCount).toBe(seed.entries.length);
    const listed = await entriesOf(api, 'japan-ukraine-support', '?limit=500&includeRetracted=true');
    expect(listed.items.map((e) => e.entryId).sort()).toEqual(seed.entries.map((e) => e.entryId).sort());
    const health = (await api.get('/health')).body;
    expect(health.checkpoint).toBe(health.head);

    const dataDir = service.dataDir;
    await service.stop({ removeData: false });
    service = await startService({ SEED_ON_START: 'true' }, dataDir);
    api = apiAt(service.url);
    expect((await timelineOf(api, 'japan-ukraine-support')).entryCount).toBe(seed.entries.length);
    expect((await api.get('/health')).body).toEqual(health);
    expect(await entriesOf(api, 'japan-ukraine-support', '?limit=500&includeRetracted=true')).toEqual(listed);
  });

  it('a data dir seeded from an earlier version of the file still starts: a changed entry is left as recorded, the new ones are added', async () => {
    // The earlier file: the first entry worded otherwise, the last one not there yet.
    const earlierDir = mkdtempSync(join(tmpdir(), 'timeline-seeds-'));
    const earlier = JSON.parse(readFileSync(join(__dirname, '..', 'seeds', 'japan-ukraine-support.json'), 'utf8')) as {
      entries: Array<{ entryId: string; title: string }>;
    };
    const changed = earlier.entries[0];
    changed.title = `${changed.title} (earlier wording)`;
    const added = earlier.entries.pop()!;
    writeFileSync(join(earlierDir, 'japan-ukraine-support.json'), JSON.stringify(earlier));
    await service?.stop();
    service = await startService({ SEED_ON_START: 'true', SEED_DIR: earlierDir });
    const dataDir = service.dataDir;
    await service.stop({ removeData: false });

    service = await startService({ SEED_ON_START: 'true' }, dataDir);
    const api = apiAt(service.url);
    expect((await timelineOf(api, 'japan-ukraine-support')).entryCount).toBe(seed.entries.length);
    expect((await api.get(`/entries/${changed.entryId}`)).body).toMatchObject({ title: changed.title, revision: 0 });
    expect((await api.get(`/entries/${added.entryId}`)).status).toBe(200);
    const health = (await api.get('/health')).body;
    expect(health.checkpoint).toBe(health.head);
    rmSync(earlierDir, { recursive: true, force: true });
  });
});
