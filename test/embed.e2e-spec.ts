/**
 * The embed (GET /timelines/:slug/embed) where newsrooms put it: in an <iframe>
 * of an article served from another origin (a second local server,
 * http://localhost:<port>, while the service is on http://127.0.0.1:<port>),
 * in headless Chromium. A site EMBED_ORIGINS lists sees it live; a site it does
 * not list gets a frame Chromium refuses to render; every other route stays
 * unframeable from elsewhere (helmet's default).
 */
import type { Browser, Frame, Page } from 'playwright-core';
import { launchBrowser } from './support/browser';
import { announcement, apiAt, delivery, openTimeline, recordEntry, type Api, type Written } from './support/http';
import { startOtherOrigin, type OtherOrigin } from './support/other-origin';
import { startService, type RunningService } from './support/service';

// The browser globals the functions run in the page use (tsconfig has no DOM lib).
declare const document: { body: unknown; documentElement: { scrollWidth: number; clientWidth: number } };
declare function getComputedStyle(element: unknown): { backgroundColor: string };

jest.setTimeout(30_000);

const SHOWN_WITHIN_MS = 2_000;
const FRAME_WIDTH = 300;

/** An article with the embed in it, as the README's snippet puts it. */
const article = (src: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>An article</title><link rel="icon" href="data:,"></head>
<body><h1>An article</h1><iframe id="embed" src="${src}" width="${FRAME_WIDTH}" height="500" style="border: 0"></iframe></body></html>`;

let listed: OtherOrigin;
let unlisted: OtherOrigin;
let service: RunningService;
let api: Api;
let browser: Browser;
let slug: string;
let before: Written;

beforeAll(async () => {
  const articles = (app: Parameters<Parameters<typeof startOtherOrigin>[0]>[0]) =>
    app.get('/article', (request, response) => response.type('html').send(article(String(request.query.src))));
  [listed, unlisted] = await Promise.all([startOtherOrigin(articles), startOtherOrigin(articles)]);
  service = await startService({ EMBED_ORIGINS: `https://news.example,${listed.url}` });
  api = apiAt(service.url);
  slug = await openTimeline(api, 'embed', 'Japan and Ukraine');
  // A long unbroken word (a URL in a summary): it must wrap, not widen a narrow column.
  before = await recordEntry(api, slug, delivery({ summary: 'Listed at https://www.mofa.go.jp/files/ukraineequipmenttransferoverviewannex2024.pdf' }));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await Promise.all([listed?.close(), unlisted?.close()]);
});

const embedUrl = (s = slug) => `${service.url}/timelines/${s}/embed`;
const articleAt = (host: OtherOrigin, src: string) => `${host.url}/article?src=${encodeURIComponent(src)}`;

/** A new tab; its page errors and console errors go to `errors`. */
async function newPage(errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return page;
}

function embedFrame(page: Page): Frame {
  const frame = page.frames().find((f) => f.parentFrame() === page.mainFrame());
  if (!frame) throw new Error('the article has no frame');
  return frame;
}

describe('the headers', () => {
  it("let the service and EMBED_ORIGINS's sites frame the embed (CSP frame-ancestors, no X-Frame-Options), its scripts and socket from itself", async () => {
    const response = await fetch(embedUrl());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('x-frame-options')).toBeNull();
    const csp = response.headers.get('content-security-policy')!.split(';');
    expect(csp).toContain(`frame-ancestors 'self' https://news.example ${listed.url}`);
    // helmet's defaults for the rest, which the live page works under: everything from 'self'.
    expect(csp).toEqual(expect.arrayContaining(["default-src 'self'", "script-src 'self'", "object-src 'none'"]));
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/live/assets/live.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/live/assets/embed.css">');
    expect(html).not.toContain('<a '); // no navigation
  });

  it('keep every other route unframeable from elsewhere', async () => {
    for (const path of [`/timelines/${slug}/live`, `/timelines/${slug}`, '/', `/timelines/${slug}/embed/other`]) {
      const response = await fetch(`${service.url}${path}`);
      expect({ path, xfo: response.headers.get('x-frame-options') }).toEqual({ path, xfo: 'SAMEORIGIN' });
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'self';");
    }
  });

  it('answer 404 with a page to show in the frame for an unknown timeline, 400 naming slug for a malformed one', async () => {
    const missing = await fetch(embedUrl('no-such-timeline'));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toContain(`frame-ancestors 'self' https://news.example ${listed.url}`);
    const html = await missing.text();
    expect(html).toContain("No timeline 'no-such-timeline'");
    expect(html).not.toContain('<a ');

    const malformed = await api.get('/timelines/Not_A_Slug/embed');
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toContain('slug');
  });
});

describe('in an article on a site EMBED_ORIGINS lists', () => {
  const errors: string[] = [];
  let page: Page;
  let frame: Frame;

  beforeAll(async () => {
    page = await newPage(errors);
    await page.goto(articleAt(listed, embedUrl()));
    frame = embedFrame(page);
  });

  afterEach(() => expect(errors.splice(0)).toEqual([]));

  it(`goes live and shows an entry recorded over HTTP within ${SHOWN_WITHIN_MS / 1000} s`, async () => {
    await frame.locator('#connection[data-state="live"]').waitFor();
    expect(await frame.locator('h1').textContent()).toBe('Japan and Ukraine');
    expect(await frame.locator('article.entry').count()).toBe(1);
    expect(await frame.locator(`#entry-${before.entryId}`).count()).toBe(1);

    const started = Date.now();
    const breaking = await recordEntry(api, slug, announcement({ title: 'Japan pledges more' }));
    await frame.locator(`#entry-${breaking.entryId}`).waitFor({ state: 'attached', timeout: SHOWN_WITHIN_MS });
    expect(Date.now() - started).toBeLessThan(SHOWN_WITHIN_MS);
    expect(await frame.locator(`#entry-${breaking.entryId} h3.title`).textContent()).toBe('Japan pledges more');
    expect(await frame.locator('#timeline').getAttribute('data-position')).toBe(breaking.position);
  });

  it('resumes like the live page: after a lost connection, what it missed, without reloading the timeline', async () => {
    let snapshots = 0;
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === `/timelines/${slug}/entries`) snapshots += 1;
    });
    // Chromium's offline emulation drops the frame's WebSocket at once (see live-page.e2e-spec.ts).
    await page.context().setOffline(true);
    try {
      await frame.locator('#connection[data-state="reconnecting"]').waitFor();
      const missed = await recordEntry(api, slug, announcement({ occurredOn: '2024-07-03', title: 'Recorded while the reader was offline' }));
      await page.context().setOffline(false);
      await frame.locator(`#entry-${missed.entryId}`).waitFor({ state: 'attached' });
      await frame.locator('#connection[data-state="live"]').waitFor();
      expect(await frame.locator('#timeline').getAttribute('data-position')).toBe(missed.position);
      expect(snapshots).toBe(0);
    } finally {
      await page.context().setOffline(false);
    }
    // Chromium logs the reconnection attempts that failed while offline, when socket.io made any; nothing else.
    const unexpected = errors.splice(0).filter((error) => !/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/.test(error));
    expect(unexpected).toEqual([]);
  });

  it(`fits a ${FRAME_WIDTH} px column: nothing wider than the frame`, async () => {
    const { scrollWidth, clientWidth } = await frame.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    expect(clientWidth).toBeLessThanOrEqual(FRAME_WIDTH);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
  });

  it("follows the reader's light or dark setting", async () => {
    const background = () => frame.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await background()).toBe('rgb(20, 21, 24)');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await background()).toBe('rgb(250, 250, 250)');
  });
});

describe('in an article on a site EMBED_ORIGINS does not list', () => {
  it('Chromium refuses to render the frame, and so it does for the live page on any other site', async () => {
    for (const [host, src, directive] of [
      [unlisted, embedUrl(), `"frame-ancestors 'self' https://news.example ${listed.url}"`],
      [listed, `${service.url}/timelines/${slug}/live`, `"frame-ancestors 'self'"`],
    ] as const) {
      const page = await newPage([]);
      const blocked = page.waitForEvent('requestfailed', { predicate: (request) => request.url() === src });
      const refused = page.waitForEvent('console', { predicate: (message) => message.text().startsWith('Framing ') });
      // What the frame shows instead: Chromium's error page, nothing of ours.
      const errorPage = page.waitForEvent('framenavigated', { predicate: (frame) => frame.url() === 'chrome-error://chromewebdata/' });
      await page.goto(articleAt(host, src));
      expect((await blocked).failure()?.errorText).toBe('net::ERR_BLOCKED_BY_RESPONSE');
      expect((await refused).text().trim()).toBe(`Framing '${service.url}/' violates the following Content Security Policy directive: ${directive}. The request has been blocked.`);
      const frame = await errorPage;
      expect(frame).toBe(embedFrame(page));
      expect(await frame.locator('#timeline').count()).toBe(0);
      await page.close();
    }
  });
});
