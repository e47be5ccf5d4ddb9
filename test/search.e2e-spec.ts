/**
 * Search over HTTP against the real service: `q` on a timeline's listing and
 * GET /search across timelines, after recording, correcting and retracting
 * through the API; ranking, filters, cursor paging, retracted entries, and
 * the 400s that name `q` with nothing appended.
 */
import { useService } from './support/service';
import { announcement, delivery, expectFieldError, openTimeline, recordEntry, signing, type Reply } from './support/http';

const { api } = useService();

/** Entry ids of a page, and its cursor. */
const idsOf = (reply: Reply) => {
  expect(reply.status).toBe(200);
  return (reply.body.items as Array<{ entryId: string }>).map((e) => e.entryId);
};

let news: string;
let world: string;
const e: Record<string, string> = {};

beforeAll(async () => {
  news = await openTimeline(api(), 'search-news', 'News');
  world = await openTimeline(api(), 'search-world', 'World');
  // "frigate" once in a title, once in a summary: the title counts more.
  e.title = (await recordEntry(api(), news, signing({ title: 'Rutte tours the frigate Mogami', occurredOn: '2025-06' }))).entryId;
  e.summary = (await recordEntry(api(), news, announcement({ summary: 'A frigate was shown to the visitors', occurredOn: '2025-07' }))).entryId;
  e.items = (await recordEntry(api(), world, delivery({ items: [{ category: 'vehicles', description: 'Toyota trucks for the frigate crews' }] }))).entryId;
  e.source = (await recordEntry(api(), world, signing({ title: 'Accord', sources: [{ title: 'Yokosuka harbour report' }] }))).entryId;
});

describe('q on GET /timelines/:slug/entries', () => {
  it('finds the timeline\'s matching entries best first, combined with the filters', async () => {
    expect(idsOf(await api().get(`/timelines/${news}/entries?q=frigate`))).toEqual([e.title, e.summary]);
    expect(idsOf(await api().get(`/timelines/${news}/entries?q=frigate&kind=announcement`))).toEqual([e.summary]);
    expect(idsOf(await api().get(`/timelines/${news}/entries?q=frigate&from=2025-07`))).toEqual([e.summary]);
    expect(idsOf(await api().get(`/timelines/${world}/entries?q=yokosuka`))).toEqual([e.source]);
    expect(idsOf(await api().get(`/timelines/${news}/entries?q=toyota`))).toEqual([]); // another timeline's
  });
});

describe('GET /search', () => {
  it('finds entries of every timeline, each saying its timeline, in phrases, prefixes and OR', async () => {
    const reply = await api().get('/search?q=frigate');
    expect(idsOf(reply)).toEqual([e.title, e.summary, e.items]);
    expect(reply.body.items.map((i: { timeline: string }) => i.timeline)).toEqual([news, news, world]);
    expect(reply.body.position).toEqual(expect.any(String));
    expect(idsOf(await api().get(`/search?q=${encodeURIComponent('"frigate Mogami"')}`))).toEqual([e.title]);
    expect(idsOf(await api().get('/search?q=yokos*'))).toEqual([e.source]);
    expect(idsOf(await api().get('/search?q=toyota%20OR%20yokosuka')).sort()).toEqual([e.items, e.source].sort());
    expect(idsOf(await api().get('/search?q=truck&kind=delivery&actor=JP'))).toEqual([e.items]);
  });

  it('pages by cursor exactly: limit=1 walks the same entries as one page, once each', async () => {
    const all = idsOf(await api().get('/search?q=frigate'));
    const walked: string[] = [];
    let next = '/search?q=frigate&limit=1';
    for (;;) {
      const reply = await api().get(next);
      walked.push(...idsOf(reply));
      if (!reply.body.nextCursor) break;
      next = `/search?q=frigate&limit=1&cursor=${reply.body.nextCursor}`;
    }
    expect(walked).toEqual(all);
  });

  it('searches a correction as corrected, and a retracted entry only with includeRetracted=true, on both routes', async () => {
    const id = (await recordEntry(api(), news, signing({ title: 'Submarine visit planned' }))).entryId;
    expect(idsOf(await api().get('/search?q=submarine'))).toEqual([id]);
    const corrected = await api().patch(`/entries/${id}`, { changes: { title: 'Destroyer visit planned' }, reason: 'the article says destroyer' }, { 'if-match': '"0"' });
    expect(corrected.status).toBe(200);
    expect(idsOf(await api().get('/search?q=submarine'))).toEqual([]);
    expect(idsOf(await api().get('/search?q=destroyer'))).toEqual([id]);
    expect((await api().post(`/entries/${id}/retraction`, { reason: 'never happened' })).status).toBe(200);
    expect(idsOf(await api().get('/search?q=destroyer'))).toEqual([]);
    expect(idsOf(await api().get(`/timelines/${news}/entries?q=destroyer`))).toEqual([]);
    const retracted = await api().get('/search?q=destroyer&includeRetracted=true');
    expect(idsOf(retracted)).toEqual([id]);
    expect(retracted.body.items[0]).toMatchObject({ status: 'retracted', title: 'Destroyer visit planned' });
    expect(idsOf(await api().get(`/timelines/${news}/entries?q=destroyer&includeRetracted=true`))).toEqual([id]);
  });
});

describe('bad q', () => {
  it('is a 400 naming q, never a 500, and nothing is appended', async () => {
    const head = await api().head();
    const bad = ['', '%22frigate', 'OR', 'frigate%20OR', '*', '...', 'x'.repeat(201)];
    for (const q of bad) {
      const problem = expectFieldError(await api().get(`/search?q=${q}`), 'q');
      expect(problem.problems.join(' ')).toMatch(/^q /);
      expectFieldError(await api().get(`/timelines/${news}/entries?q=${q}`), 'q');
    }
    expectFieldError(await api().get('/search'), 'q');
    expectFieldError(await api().get('/search?q=a&q=b'), 'q');
    expectFieldError(await api().get(`/timelines/${news}/entries?q=frigate&asOf=2025-01-01T00:00:00Z`), 'q');
    // FTS5's own syntax is only text here.
    for (const q of ['title:frigate', 'NEAR(a%20b)', 'AND', 'U.S.%20F-16', '%5Efrigate', '(frigate)']) expect((await api().get(`/search?q=${q}`)).status).toBe(200);
    expect(await api().head()).toBe(head);
  });
});
