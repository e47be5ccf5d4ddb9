/**
 * Embedding the BUILT service in a newsroom's article, in a real headless
 * Chromium (../support/browser): the live embed (/timelines/:slug/embed) in an
 * <iframe> of a page on another origin (a second local server), and the
 * TimelineJS export of a timeline that has no entries yet.
 *
 * It proves that:
 *   - on a site EMBED_ORIGINS lists, the embed goes live and shows an entry
 *     recorded over HTTP within 2 s, without a reload;
 *   - on a site it does not list, Chromium refuses to render the frame;
 *   - a timeline without entries exports an event TimelineJS can show (it
 *     refuses a document without events).
 */
import type { Browser, Frame, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { startOtherOrigin, type OtherOrigin } from '../support/other-origin';
import { apiAt, delivery, expectStatus, signing, type TimelineJs, type Written } from './support/api';
import { startService, type RunningService } from './support/artifact';

jest.setTimeout(60_000);

const SHOWN_WITHIN_MS = 2_000;
const WAIT_MS = 10_000;

const article = (src: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>An article</title><link rel="icon" href="data:,"></head>
<body><h1>An article</h1><iframe src="${src}" width="320" height="500"></iframe></body></html>`;

let listed: OtherOrigin;
let unlisted: OtherOrigin;
let service: RunningService;
let browser: Browser | undefined;
let slug: string;
let before: Written;
const api = apiAt(() => service.url);

beforeAll(async () => {
  const articles = (app: Parameters<Parameters<typeof startOtherOrigin>[0]>[0]) =>
    app.get('/article', (request, response) => response.type('html').send(article(String(request.query.src))));
  [listed, unlisted] = await Promise.all([startOtherOrigin(articles), startOtherOrigin(articles)]);
  service = await startService({ env: { EMBED_ORIGINS: listed.url } });
  slug = `embed-${Math.random().toString(36).slice(2, 8)}`;
  await api.openTimeline({ slug, title: 'Japan and Ukraine, embedded' });
  before = await api.record(slug, signing());
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await Promise.all([listed?.close(), unlisted?.close()]);
});

/** A new tab that logs its errors to `errors`. */
async function newPage(errors: string[]): Promise<Page> {
  const page = await browser!.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  return page;
}

async function openArticle(page: Page, host: OtherOrigin): Promise<void> {
  await page.goto(`${host.url}/article?src=${encodeURIComponent(`${service.url}/timelines/${slug}/embed`)}`);
}

const childFrame = (page: Page): Frame => page.frames().find((frame) => frame.parentFrame() === page.mainFrame())!;

test(`in an article on a site EMBED_ORIGINS lists, the embed goes live and shows an entry recorded over HTTP within ${SHOWN_WITHIN_MS / 1000} s`, async () => {
  const errors: string[] = [];
  const page = await newPage(errors);
  await openArticle(page, listed);
  const frame = childFrame(page);
  await frame.locator('#connection[data-state="live"]').waitFor();
  expect(await frame.locator(`#entry-${before.entryId}`).count()).toBe(1);

  const started = Date.now();
  const breaking = await api.record(slug, delivery({ title: 'Japan delivers more vehicles' }));
  await frame.locator(`#entry-${breaking.entryId}`).waitFor({ state: 'attached', timeout: SHOWN_WITHIN_MS });
  expect(Date.now() - started).toBeLessThan(SHOWN_WITHIN_MS);
  expect(await frame.locator(`#entry-${breaking.entryId} h3.title`).textContent()).toBe('Japan delivers more vehicles');
  expect(await frame.locator('article.entry').count()).toBe(2);
  expect(errors).toEqual([]);
  await page.close();
});

test('in an article on a site EMBED_ORIGINS does not list, Chromium refuses to render the frame', async () => {
  const errors: string[] = [];
  const page = await newPage(errors);
  // What the frame shows instead of the embed: Chromium's error page.
  const errorPage = page.waitForEvent('framenavigated', { predicate: (frame) => frame.url() === 'chrome-error://chromewebdata/' });
  await openArticle(page, unlisted);
  const frame = await errorPage;
  expect(frame).toBe(childFrame(page));
  expect(await frame.locator('#timeline').count()).toBe(0);
  expect(errors.join('\n')).toContain(`violates the following Content Security Policy directive: "frame-ancestors 'self' ${listed.url}"`);
  await page.close();
});

test('a timeline without entries exports one event for TimelineJS, its opening, under its title slide', async () => {
  const empty = `${slug}-empty`;
  await api.openTimeline({ slug: empty, title: 'Nothing yet' });
  const reply = expectStatus(await api.get<TimelineJs>(`/timelines/${empty}/export?format=timelinejs`), 200);
  expect(reply.body.title.text.headline).toBe('Nothing yet');
  expect(reply.body.events).toHaveLength(1);
  expect(reply.body.events[0]).toMatchObject({ unique_id: 'opened', text: { headline: 'Timeline opened' } });
  expect(reply.body.events[0].group).toBeUndefined();
});
