/**
 * Our TimelineJS export in the real TimelineJS (@knight-lab/timelinejs, its
 * dist files served from node_modules by a second local server: no network),
 * in headless Chromium: a timeline without entries renders (its title slide,
 * no "no events" error), and a timeline with entries renders one slide each.
 */
import type { Browser, Page } from 'playwright-core';
import express from 'express';
import { dirname, join } from 'node:path';
import { launchBrowser } from './support/browser';
import { announcement, delivery, openTimeline, recordEntry, signing, type Body } from './support/http';
import { startOtherOrigin, type OtherOrigin } from './support/other-origin';
import { useService } from './support/service';

// The browser globals the functions run in the page use (tsconfig has no DOM lib).
declare const location: { origin: string };
declare const window: { TL: { Timeline: new (id: string, data: unknown, options: object) => { on(event: string, fn: () => void): void } }; rendered?: boolean };

jest.setTimeout(30_000);

const TIMELINEJS_DIST = join(dirname(require.resolve('@knight-lab/timelinejs/package.json')), 'dist');
const HOST_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="/timelinejs/css/timeline.css">
<script src="/timelinejs/js/timeline.js"></script></head>
<body><div id="timeline-embed" style="width: 800px; height: 600px"></div></body></html>`;

const { api } = useService();
let host: OtherOrigin;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const elsewhere: string[] = [];

beforeAll(async () => {
  host = await startOtherOrigin((app) => {
    app.use('/timelinejs', express.static(TIMELINEJS_DIST));
    app.get('/', (_req, res) => res.type('html').send(HOST_PAGE));
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
});

beforeEach(async () => {
  page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    if (!request.url().startsWith(host.url) && !request.url().startsWith('data:')) elsewhere.push(request.url());
  });
});

afterEach(async () => {
  await page.close();
  expect(pageErrors.splice(0)).toEqual([]);
  // Everything TimelineJS loaded came from node_modules, through the host: no network.
  expect(elsewhere.splice(0)).toEqual([]);
});

/** Renders `document` with TimelineJS; resolves once TimelineJS either drew it or gave up with a message. */
async function render(document: unknown): Promise<void> {
  await page.goto(host.url);
  await page.evaluate((data) => {
    // script_path: where TimelineJS looks for its languages and themes, by default its CDN;
    // no font: the default one is Google Fonts', from the network.
    const timeline = new window.TL.Timeline('timeline-embed', data, { script_path: `${location.origin}/timelinejs/js/`, font: null });
    timeline.on('loaded', () => (window.rendered = true));
  }, document);
  await page.locator('.tl-slide, .tl-message-content:has-text("Error")').first().waitFor({ state: 'attached' });
}

async function exported(slug: string): Promise<Body> {
  const reply = await api().get(`/timelines/${slug}/export?format=timelinejs`);
  expect(reply.status).toBe(200);
  return reply.body;
}

test('the check can fail: TimelineJS refuses a document without events', async () => {
  const slug = await openTimeline(api(), 'tljs-refused', 'Refused');
  await render({ ...(await exported(slug)), events: [] });
  await page.locator('.tl-message-content').waitFor({ state: 'visible' });
  expect(await page.locator('.tl-message-content').textContent()).toContain('Timeline configuration has no events');
});

test('a timeline without entries renders: its title slide, no error', async () => {
  const slug = await openTimeline(api(), 'tljs-empty', 'Japan and Ukraine: the first hours');
  await render(await exported(slug));
  await page.waitForFunction(() => window.rendered === true);
  expect(await page.locator('.tl-message-content:visible').count()).toBe(0);
  const title = page.locator('.tl-slide-titleslide');
  await title.waitFor({ state: 'visible' });
  expect(await title.locator('.tl-headline').textContent()).toBe('Japan and Ukraine: the first hours');
  // The opening event's slide is there too, and nothing else.
  expect(await page.locator('.tl-slide').count()).toBe(2);
  expect(await page.locator('.tl-slide#opened .tl-headline').textContent()).toBe('Timeline opened');
});

test('a timeline with entries renders one slide per entry, after its title slide', async () => {
  const slug = await openTimeline(api(), 'tljs-full', 'Japan and Ukraine');
  const written = [
    await recordEntry(api(), slug, announcement()),
    await recordEntry(api(), slug, signing()),
    await recordEntry(api(), slug, delivery({ occurredOn: '2022-03' })),
  ];
  await render(await exported(slug));
  await page.waitForFunction(() => window.rendered === true);
  expect(await page.locator('.tl-message-content:visible').count()).toBe(0);
  expect(await page.locator('.tl-slide-titleslide').count()).toBe(1);
  const ids = await page.locator('.tl-slide:not(.tl-slide-titleslide)').evaluateAll((slides) => slides.map((s) => (s as unknown as { id: string }).id));
  expect(ids.sort()).toEqual(written.map((w) => w.entryId).sort());
});
