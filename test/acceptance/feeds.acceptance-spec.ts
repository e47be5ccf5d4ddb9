/**
 * Acceptance: the feeds of the BUILT service (see ./support/artifact.ts), read
 * with global fetch and feed parsers we do not ship, as a feed reader would:
 * the seeded timeline's feeds parse; a new timeline's entry recorded, corrected
 * and retracted shows in both, newest first, marked and explained; conditional
 * GETs answer 304 until a write changes the feed.
 */
import { extractFromJson } from '@extractus/feed-extractor';
import { parseFeed } from '@rowanmanning/feed-parser';
import { XMLValidator } from 'fast-xml-parser';
import { jsonFeedProblems } from '../support/json-feed-schema';
import { apiAt, signing } from './support/api';
import { SEEDED, startService, type RunningService } from './support/artifact';

jest.setTimeout(30_000);

let service: RunningService;
const api = apiAt(() => service.url);

beforeAll(async () => {
  service = await startService();
});
afterAll(() => service.stop());

/** GET as a reader revalidates: fetch() would otherwise add Cache-Control: no-cache to a conditional GET, which forbids a 304. */
async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${service.url}${path}`, { headers: { 'cache-control': 'max-age=0', ...headers } });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

it('serves the seeded timeline as Atom and JSON Feed that parsers read, newest recorded first', async () => {
  const atom = await get(`/timelines/${SEEDED}/feed.atom`);
  expect([atom.status, atom.headers.get('content-type')]).toEqual([200, 'application/atom+xml; charset=utf-8']);
  expect(XMLValidator.validate(atom.text)).toBe(true);
  const feed = parseFeed(atom.text);
  expect(feed.items.length).toBeGreaterThan(10);
  const published = feed.items.map((i) => i.published!.getTime());
  expect(published).toEqual([...published].sort((a, b) => b - a));

  const json = await get(`/timelines/${SEEDED}/feed.json`);
  expect([json.status, json.headers.get('content-type')]).toEqual([200, 'application/feed+json; charset=utf-8']);
  const body = JSON.parse(json.text);
  expect(jsonFeedProblems(body)).toEqual([]);
  expect(extractFromJson(body).entries?.map((e) => e.id)).toEqual(feed.items.map((i) => i.id));
});

it('shows a corrected and a retracted entry, says why, and answers 304 until the feed changes', async () => {
  const slug = await api.openTimeline({ slug: 'feed-acceptance', title: 'Feeds <&> "accepted"' });
  const kept = (await api.record(slug, signing({ title: 'Kept, then corrected' }))).entryId;
  const dropped = (await api.record(slug, signing({ title: 'Recorded by mistake' }))).entryId;
  await api.correct(kept, { place: 'Tokyo' }, { reason: 'the place was wrong' });
  await api.retract(dropped, 'a duplicate');

  const atom = await get(`/timelines/${slug}/feed.atom`);
  const feed = parseFeed(atom.text);
  expect(feed.title).toBe('Feeds <&> "accepted"');
  expect(feed.items.map((i) => [i.id, i.title])).toEqual([
    [`urn:uuid:${dropped}`, '[Retracted] Recorded by mistake'],
    [`urn:uuid:${kept}`, 'Kept, then corrected'],
  ]);
  expect(feed.items[0].content).toContain('a duplicate');
  expect(feed.items[1].content).toContain('the place was wrong');
  expect(feed.items[1].updated!.getTime()).toBeGreaterThan(feed.items[1].published!.getTime());
  const items = JSON.parse((await get(`/timelines/${slug}/feed.json`)).text).items;
  expect(items.map((i: { tags: string[] }) => i.tags)).toEqual([['signing', 'retracted'], ['signing', 'corrected']]);

  const etag = atom.headers.get('etag')!;
  const lastModified = atom.headers.get('last-modified')!;
  expect((await get(`/timelines/${slug}/feed.atom`, { 'if-none-match': etag })).status).toBe(304);
  expect((await get(`/timelines/${slug}/feed.atom`, { 'if-modified-since': lastModified })).status).toBe(304);
  const added = (await api.record(slug, signing({ title: 'Newer' }))).entryId;
  const changed = await get(`/timelines/${slug}/feed.atom`, { 'if-none-match': etag });
  expect(changed.status).toBe(200);
  expect(parseFeed(changed.text).items[0].id).toBe(`urn:uuid:${added}`);
  expect((await get('/timelines/no-such-timeline/feed.json')).status).toBe(404);
});
