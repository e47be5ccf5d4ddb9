import { extractFromJson } from '@extractus/feed-extractor';
import { parseFeed } from '@rowanmanning/feed-parser';
import { XMLValidator } from 'fast-xml-parser';
import { jsonFeedProblems } from './support/json-feed-schema';
import { announcement, delivery, openTimeline, recordEntry, signing, type Api } from './support/http';
import { startService, useService, type RunningService } from './support/service';

/**
 * GET /timelines/:slug/feed.atom and feed.json against the real service: the
 * entries are recorded, corrected and retracted over HTTP, and both feeds are
 * read back by parsers we do not ship (@rowanmanning/feed-parser for Atom,
 * after fast-xml-parser's strict well-formedness check; @extractus/feed-extractor
 * and a JSON Schema of JSON Feed 1.1 for the JSON), the way a feed reader
 * would, before our own assertions.
 */

// A bell (U+0007) too: the API takes it, XML 1.0 cannot carry it even escaped.
const TITLE = 'Japan & "Ukraine" <aid> — Tōkyō\'s ]]> pledge \u0007';
const SPECIAL = 'A <b>bold</b> & "quoted" ]]> ünïcødé title';

interface Setup {
  slug: string;
  /** Recorded in this order: signing (then corrected), announcement (then retracted), delivery. */
  ids: { corrected: string; retracted: string; plain: string };
}

async function fetchFeed(url: string, headers: Record<string, string> = {}) {
  // As a feed reader revalidates: fetch() would otherwise add Cache-Control: no-cache to a conditional GET, which forbids a 304.
  const conditional = 'if-none-match' in headers || 'if-modified-since' in headers;
  const response = await fetch(url, { headers: conditional ? { 'cache-control': 'max-age=0', ...headers } : headers });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function setUp(api: Api): Promise<Setup> {
  const slug = await openTimeline(api, 'feeds', TITLE);
  const corrected = (await recordEntry(api, slug, signing({
    title: SPECIAL,
    sources: [{ title: 'Kyodo <report> & "more"', url: 'https://news.example/a?x=1&y=2', publishedOn: '2024-06-14' }],
  }))).entryId;
  const retracted = (await recordEntry(api, slug, announcement({ title: 'An announcement later withdrawn' }))).entryId;
  const plain = (await recordEntry(api, slug, delivery({ title: 'A delivery' }))).entryId;
  expect((await api.patch(`/entries/${corrected}`, { changes: { place: 'Fasano, Italy' }, reason: 'place confirmed by a "second" source & map' }, { 'if-match': '"0"' })).status).toBe(200);
  expect((await api.post(`/entries/${retracted}/retraction`, { reason: 'recorded in the wrong <timeline>' })).status).toBe(200);
  return { slug, ids: { corrected, retracted, plain } };
}

describe('feeds', () => {
  const { api, service } = useService();
  let s: Setup;
  let feedBase: string;
  const itemUrl = (id: string) => `${feedBase}/live?entry=${id}#entry-${id}`;
  const entry = async (id: string) => (await api().get(`/entries/${id}`)).body as { recordedAt: string; updatedAt: string };

  beforeAll(async () => {
    s = await setUp(api());
    feedBase = `${service().url}/timelines/${s.slug}`;
  });

  it('serves Atom that is well-formed XML and that a feed parser reads: order, ids, links, dates, corrections, retractions', async () => {
    const reply = await fetchFeed(`${feedBase}/feed.atom`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    expect(XMLValidator.validate(reply.text)).toBe(true);
    // XML 1.0's Char production, which XMLValidator does not check.
    expect(reply.text).not.toMatch(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u);

    const feed = parseFeed(reply.text);
    expect(feed.meta.type).toBe('atom');
    expect(feed.title).toBe(TITLE.replace('\u0007', '\uFFFD'));
    expect(feed.url).toBe(`${feedBase}/live`);
    expect(feed.self).toBe(`${feedBase}/feed.atom`);
    expect(feed.updated?.toISOString()).toBe((await api().get(`/timelines/${s.slug}`)).body.updatedAt);
    const { corrected, retracted, plain } = s.ids;
    expect(feed.items.map((i) => i.id)).toEqual([plain, retracted, corrected].map((id) => `urn:uuid:${id}`));
    expect(feed.items.map((i) => i.url)).toEqual([plain, retracted, corrected].map((id) => itemUrl(id)));

    const [, gone, fixed] = feed.items;
    const fixedEntry = await entry(corrected);
    expect(fixed.title).toBe(SPECIAL);
    expect(fixed.published?.toISOString()).toBe(fixedEntry.recordedAt);
    expect(fixed.updated?.toISOString()).toBe(fixedEntry.updatedAt);
    expect(fixed.updated!.getTime()).toBeGreaterThan(fixed.published!.getTime());
    expect(fixed.content).toContain('Corrected on');
    // The parser gives the content with its entities decoded.
    expect(fixed.content).toContain('place confirmed by a "second" source & map');
    expect(fixed.content).toContain('<a href="https://news.example/a?x=1&y=2">Kyodo <report> & "more", 2024-06-14</a>');
    expect(fixed.content).toContain('Place: Fasano, Italy');
    expect(fixed.categories.map((c) => c.term)).toEqual(['signing', 'corrected']);

    expect(gone.title).toBe('[Retracted] An announcement later withdrawn');
    expect(gone.categories.map((c) => c.term)).toEqual(['announcement', 'retracted', 'financial-aid']); // kind, marks, the entry's tags
    expect(gone.content).toContain('Retracted on');
    expect(gone.content).toContain('recorded in the wrong <timeline>');
  });

  it('serves JSON Feed 1.1: valid against the spec, read by a feed parser, with the same items', async () => {
    const reply = await fetchFeed(`${feedBase}/feed.json`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/feed+json; charset=utf-8');
    const body = JSON.parse(reply.text);
    expect(jsonFeedProblems(body)).toEqual([]);
    expect(body).toMatchObject({ title: TITLE, home_page_url: `${feedBase}/live`, feed_url: `${feedBase}/feed.json`, authors: [{ name: TITLE }] });

    const { corrected, retracted, plain } = s.ids;
    const read = extractFromJson(body, { useISODateFormat: true });
    expect(read.title).toBe(TITLE);
    // This parser drops fragments from links: each item's URL stays its own by its query.
    expect(read.entries?.map((e) => [e.id, e.link])).toEqual([plain, retracted, corrected].map((id) => [`urn:uuid:${id}`, itemUrl(id).split('#')[0]]));
    expect(body.items.map((i: { url: string }) => i.url)).toEqual([plain, retracted, corrected].map(itemUrl));
    const fixedEntry = await entry(corrected);
    expect(read.entries?.[2]).toMatchObject({ title: SPECIAL, published: fixedEntry.recordedAt });

    const [, gone, fixed] = body.items;
    expect(fixed).toMatchObject({ date_published: fixedEntry.recordedAt, date_modified: fixedEntry.updatedAt, tags: ['signing', 'corrected'] });
    expect(fixed.content_text).toMatch(/^Corrected on \d{4}-\d\d-\d\d \(place\): place confirmed by a "second" source & map$/m);
    expect(fixed.content_text).toContain('- Kyodo <report> & "more", 2024-06-14 <https://news.example/a?x=1&y=2>');
    expect(gone).toMatchObject({
      title: '[Retracted] An announcement later withdrawn',
      tags: ['announcement', 'retracted', 'financial-aid'],
      _timeline: { status: 'retracted', retractionReason: 'recorded in the wrong <timeline>' },
    });
    expect(gone.content_text).toMatch(/^Retracted on \d{4}-\d\d-\d\d: recorded in the wrong <timeline>$/m);
  });

  it('answers conditional GETs with 304 by ETag and by Last-Modified, and a new write changes the feed', async () => {
    for (const name of ['feed.atom', 'feed.json']) {
      const first = await fetchFeed(`${feedBase}/${name}`);
      const etag = first.headers.get('etag')!;
      const lastModified = first.headers.get('last-modified')!;
      expect(etag).toMatch(/^W\/".+"$/);
      expect(new Date(lastModified).toUTCString()).toBe(lastModified);
      expect(first.headers.get('cache-control')).toBe('public, max-age=60');

      const byTag = await fetchFeed(`${feedBase}/${name}`, { 'if-none-match': etag });
      expect([byTag.status, byTag.text]).toEqual([304, '']);
      const byDate = await fetchFeed(`${feedBase}/${name}`, { 'if-modified-since': lastModified });
      expect([byDate.status, byDate.text]).toEqual([304, '']);
      const older = new Date(Date.parse(lastModified) - 1000).toUTCString();
      expect((await fetchFeed(`${feedBase}/${name}`, { 'if-modified-since': older })).status).toBe(200);
    }
    const before = { atom: await fetchFeed(`${feedBase}/feed.atom`), json: await fetchFeed(`${feedBase}/feed.json`) };
    const added = (await recordEntry(api(), s.slug, signing({ title: 'Recorded after the first read' }))).entryId;
    const atom = await fetchFeed(`${feedBase}/feed.atom`, { 'if-none-match': before.atom.headers.get('etag')! });
    expect(atom.status).toBe(200);
    expect(atom.headers.get('etag')).not.toBe(before.atom.headers.get('etag'));
    expect(parseFeed(atom.text).items[0].id).toBe(`urn:uuid:${added}`);
    const json = await fetchFeed(`${feedBase}/feed.json`, { 'if-none-match': before.json.headers.get('etag')! });
    expect(json.status).toBe(200);
    expect(JSON.parse(json.text).items[0].id).toBe(`urn:uuid:${added}`);
  });

  it('answers an unknown timeline with 404 timeline_not_found, and a malformed slug with 400', async () => {
    for (const name of ['feed.atom', 'feed.json']) {
      const missing = await api().get(`/timelines/no-such-timeline/${name}`);
      expect([missing.status, missing.body.code]).toEqual([404, 'timeline_not_found']);
      const malformed = await api().get(`/timelines/Not_A_Slug/${name}`);
      expect([malformed.status, malformed.body.code]).toEqual([400, 'invalid']);
    }
  });

  it('is documented in OpenAPI: both media types, 304 and 404', async () => {
    const doc = (await api().get('/docs-json')).body;
    for (const [name, type] of [['feed.atom', 'application/atom+xml'], ['feed.json', 'application/feed+json']]) {
      const responses = doc.paths[`/timelines/{slug}/${name}`].get.responses;
      expect(Object.keys(responses['200'].content)).toEqual([type]);
      expect(Object.keys(responses['200'].headers)).toEqual(expect.arrayContaining(['ETag', 'Last-Modified', 'Cache-Control']));
      expect(responses['304']).toBeDefined();
      expect(responses['404'].description).toContain('timeline_not_found');
    }
  });

  it('takes its links from PUBLIC_BASE_URL when set, and reads need a key when reads are private', async () => {
    const key = 'reader-key-0123456789abcdef';
    const other: RunningService = await startService({
      PUBLIC_BASE_URL: 'https://timelines.news.example/',
      PUBLIC_READS: 'false',
      API_KEYS: `desk:reader:${key},jane:editor:editor-key-0123456789abcdef`,
    });
    try {
      const headers = { authorization: 'Bearer editor-key-0123456789abcdef', 'content-type': 'application/json' };
      expect((await fetch(`${other.url}/timelines`, { method: 'POST', headers, body: JSON.stringify({ slug: 'private', title: 'Private' }) })).status).toBe(201);
      for (const name of ['feed.atom', 'feed.json']) {
        expect((await fetchFeed(`${other.url}/timelines/private/${name}`)).status).toBe(401);
        const reply = await fetchFeed(`${other.url}/timelines/private/${name}`, { authorization: `Bearer ${key}` });
        expect(reply.status).toBe(200);
        expect(reply.headers.get('cache-control')).toBe('private, max-age=60');
        expect(reply.text).toContain('https://timelines.news.example/timelines/private/live');
        expect(reply.text).not.toContain(other.url);
      }
    } finally {
      await other.stop();
    }
  });
});
