/**
 * Acceptance: search on the BUILT service (its own process, plain fetch), on
 * either store (ACCEPTANCE_STORE): `q` on a timeline's listing and GET /search
 * across timelines, after a correction and a retraction made over HTTP; and
 * an unreadable `q` refused with a 400 naming it, nothing appended. That
 * `timeline rebuild` reproduces the index is cli.acceptance-spec.ts's digest
 * check: the digest covers the index.
 */
import { apiAt, expectStatus, signing, delivery, type Page } from './support/api';
import { startService, type RunningService } from './support/artifact';

jest.setTimeout(60_000);

let service: RunningService | undefined;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

const api = apiAt(() => service!.url);
const ids = async (path: string) => (await api.read<Page>(path)).items.map((e) => e.entryId);

it('finds entries on both routes, best first, as corrected, retracted ones only when asked', async () => {
  const one = await api.openTimeline({ slug: 'acc-search-one', title: 'One' });
  const two = await api.openTimeline({ slug: 'acc-search-two', title: 'Two' });
  const titled = (await api.record(one, signing({ title: 'Rutte tours the cutter Tsurugi' }))).entryId;
  const listed = (await api.record(two, delivery({ items: [{ category: 'vessels', description: 'Parts for a cutter' }] }))).entryId;

  expect(await ids(`/timelines/${one}/entries?q=cutter`)).toEqual([titled]);
  const found = await api.read<Page>('/search?q=cutters');
  expect(found.items.map((e) => [e.entryId, e.timeline])).toEqual([[titled, one], [listed, two]]);
  const first = await api.read<Page>('/search?q=cutter&limit=1');
  expect(await ids(`/search?q=cutter&limit=1&cursor=${first.nextCursor}`)).toEqual([listed]);

  await api.correct(titled, { title: 'Rutte tours the destroyer' });
  expect(await ids('/search?q=tsurugi')).toEqual([]);
  expect(await ids('/search?q=destroyer')).toEqual([titled]);
  await api.retract(listed);
  expect(await ids('/search?q=cutter')).toEqual([]);
  expect(await ids('/search?q=cutter&includeRetracted=true')).toEqual([listed]);
});

it('refuses an unreadable q with a 400 naming q, and appends nothing', async () => {
  const head = (await api.health()).head;
  for (const path of ['/search?q=%22cutter', '/search?q=OR', '/search', '/timelines/acc-search-one/entries?q=*']) {
    const reply = expectStatus(await api.get<{ code: string; errors: Array<{ field: string }> }>(path), 400, path);
    expect({ path, code: reply.body.code, fields: reply.body.errors.map((e) => e.field) }).toEqual({ path, code: 'invalid', fields: ['q'] });
  }
  expect((await api.health()).head).toBe(head);
});
