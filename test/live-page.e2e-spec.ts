/**
 * The newsroom live page in a real browser: the whole app on a random port
 * over a fresh SQLite store (./support/service.ts), a headless system
 * Chromium driven by playwright-core (./support/browser.ts), and writes made
 * over HTTP the way a newsroom tool would make them.
 *
 * The tests run in order against one page that is never reloaded: each one
 * builds on what the previous ones put on it, as a reader's open tab would.
 */
import type { Browser, BrowserContext, Page, WebSocket } from 'playwright-core';
import { launchBrowser } from './support/browser';
import { announcement, apiAt, delivery, openTimeline, recordEntry, signing, type Api, type Written } from './support/http';
import { startService, type RunningService } from './support/service';

// The few browser globals the functions run in the page use (tsconfig has no DOM lib).
interface PageElement {
  id: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const window: { scrollY: number; scrollTo(x: number, y: number): void; pageMark?: string };
declare const document: {
  documentElement: { scrollHeight: number };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
};
declare function getComputedStyle(element: unknown): { borderLeftColor: string; textDecorationLine: string };

jest.setTimeout(30_000);

const SCREENSHOT = '/tmp/live-page-test.png';
const WAIT_MS = 10_000;
const TIMELINE_TITLE = 'Japan and Ukraine';

let service: RunningService;
let api: Api;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let slug: string;
const pageErrors: string[] = [];
const sockets: WebSocket[] = [];
/** How many times the page fetched the timeline's entries (a snapshot load). */
let snapshotLoads = 0;
/** The paths of every script the page loaded. */
const scripts: string[] = [];
/** What was recorded before the page was loaded. */
const before: Record<'announcement' | 'signing' | 'delivery', Written> = {} as never;
/** The entry recorded, corrected and retracted while the page watches. */
let breaking: Written;
/** Entries shown on the page so far, retracted ones included. */
let shown = 0;

beforeAll(async () => {
  // A resuming page is replayed at most three missed changes; beyond, it must reload the timeline.
  service = await startService({ LIVE_MAX_REPLAY: '3' });
  api = apiAt(service.url);
  slug = await openTimeline(api, 'live', TIMELINE_TITLE);
  // Two dates: the announcement and the signing of 13 June 2024, a delivery of March 2022.
  before.announcement = await recordEntry(api, slug, announcement());
  before.signing = await recordEntry(api, slug, signing());
  before.delivery = await recordEntry(api, slug, delivery());
  shown = 3;

  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  // Playwright waits up to 30 s for an element by default: longer than a test may take.
  context.setDefaultTimeout(WAIT_MS);
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('websocket', (socket) => sockets.push(socket));
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === `/timelines/${slug}/entries`) snapshotLoads += 1;
    if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
  });
});

afterAll(async () => {
  // Taken even when a test failed: it shows what the reader saw at that point.
  await page?.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => undefined);
  await browser?.close();
  await service?.stop();
});

// ---------------------------------------------------------------------------
// Helpers

const card = (entryId: string) => `#entry-${entryId}`;

/** Waits until `selector` matches `count` elements; the error says what the page showed instead. */
async function waitForCount(selector: string, count: number, what: string): Promise<void> {
  try {
    await page.waitForFunction(
      ([s, n]) => document.querySelectorAll(s).length === n,
      [selector, count] as const,
      { timeout: WAIT_MS, polling: 50 },
    );
  } catch (error) {
    throw new Error(`${what}: expected ${count} × ${selector}, the page has ${await page.locator(selector).count()} ` + (await pageState()), { cause: error });
  }
}

/** Waits until the text of `selector` is `text`. */
async function waitForText(selector: string, text: string, what: string): Promise<void> {
  try {
    await page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout: WAIT_MS });
    await page.waitForFunction(
      ([s, t]) => document.querySelector(s)?.textContent === t,
      [selector, text] as const,
      { timeout: WAIT_MS, polling: 50 },
    );
  } catch (error) {
    const actual = await page.locator(selector).first().textContent({ timeout: 100 }).catch(() => null);
    throw new Error(`${what}: expected ${selector} to read ${JSON.stringify(text)}, it reads ${JSON.stringify(actual)} ` + (await pageState()), { cause: error });
  }
}

async function waitForState(state: string, what: string): Promise<void> {
  await waitForCount(`#connection[data-state="${state}"]`, 1, what);
}

async function pageState(): Promise<string> {
  const connection = await page.locator('#connection').getAttribute('data-state').catch(() => '?');
  const position = await page.locator('#timeline').getAttribute('data-position').catch(() => '?');
  return `(connection ${connection}, data-position ${position}, page errors ${JSON.stringify(pageErrors)})`;
}

const position = () => page.locator('#timeline').getAttribute('data-position');
const scrollY = () => page.evaluate(() => window.scrollY);
const texts = (selector: string) => page.locator(selector).allTextContents();
const attributes = (selector: string, name: string) =>
  page.locator(selector).evaluateAll((els, n) => (els as unknown as PageElement[]).map((e) => e.getAttribute(n)), name);

// ---------------------------------------------------------------------------

test('the index lists the timeline with a link to its live page', async () => {
  await page.goto(`${service.url}/`);
  const item = page.locator('ul.timelines > li').filter({ has: page.locator(`a[href="/timelines/${slug}/live"]`) });
  expect(await item.count()).toBe(1);
  const link = item.locator('a');
  expect(await link.textContent()).toBe(TIMELINE_TITLE);
  expect(await item.locator('.count').textContent()).toBe('3 entries');

  await link.click();
  await page.waitForURL(`${service.url}/timelines/${slug}/live`);
  expect(await page.locator('h1').textContent()).toBe(TIMELINE_TITLE);
});

test('the live page shows the entries grouped by date, each kind distinctly, and goes live', async () => {
  await waitForState('live', 'the page did not subscribe to the live feed');
  expect(await page.locator('#connection').textContent()).toBe('Live');
  expect(await page.locator('#timeline').getAttribute('aria-busy')).toBe('false');
  expect(await position()).toBe(before.delivery.position);

  // Newest date first, one section per date.
  expect(await attributes('section.day > h2.date > time', 'datetime')).toEqual(['2024-06-13', '2022-03']);
  expect(await texts('section.day > h2.date > time')).toEqual(['13 June 2024', 'March 2022']);
  const day = (n: number) => page.locator('section.day').nth(n);
  expect(await attributes('section.day:first-of-type > article.entry', 'id').then((ids) => ids.sort())).toEqual(
    [`entry-${before.announcement.entryId}`, `entry-${before.signing.entryId}`].sort(),
  );
  expect(await day(1).locator('article.entry').count()).toBe(1);
  expect(await day(1).locator(card(before.delivery.entryId)).count()).toBe(1);

  // Each kind has its class, its label and its own colour.
  const kinds = { announcement: 'Announcement', signing: 'Signing', delivery: 'Delivery' } as const;
  const colours = new Set<string>();
  for (const [kind, label] of Object.entries(kinds)) {
    const entry = page.locator(card(before[kind as keyof typeof kinds].entryId));
    expect(await entry.getAttribute('class')).toBe(`entry kind-${kind}`);
    expect(await entry.locator('header > span.kind').textContent()).toBe(label);
    colours.add(await entry.evaluate((e) => getComputedStyle(e).borderLeftColor));
  }
  expect(colours.size).toBe(3);
  expect(await page.locator(`${card(before.signing.entryId)} h3.title`).textContent()).toBe(signing().title);

  expect(await page.locator('article.entry').count()).toBe(shown);
  expect(await page.locator('#new-updates').isHidden()).toBe(true);
  // It runs @timeline/client, as ES modules, with the socket.io server's own ESM build of socket.io-client.
  expect(scripts).toEqual(
    expect.arrayContaining([
      '/live/assets/live.js',
      '/live/assets/client/index.js',
      '/live/assets/client/http-client.js',
      '/live/assets/client/live-client.js',
      '/socket.io/socket.io.esm.min.js',
    ]),
  );
  // Marks this document: were the page ever reloaded, the mark would be gone.
  await page.evaluate(() => (window.pageMark = 'never reloaded'));
});

test('an entry recorded over HTTP appears at the top without a reload', async () => {
  expect(await scrollY()).toBe(0);
  breaking = await recordEntry(
    api,
    slug,
    announcement({ occurredOn: '2024-07-01', title: 'Japan pledges 1 billion dollars more', pledge: { amount: 1_000_000_000, currency: 'USD' } }),
  );
  shown += 1;

  await waitForCount(card(breaking.entryId), 1, 'the new entry did not appear');
  expect(await attributes('section.day > h2.date > time', 'datetime')).toEqual(['2024-07-01', '2024-06-13', '2022-03']);
  expect(await page.locator('section.day').first().locator(`${card(breaking.entryId)}.kind-announcement`).count()).toBe(1);
  expect(await page.locator(`${card(breaking.entryId)} h3.title`).textContent()).toBe('Japan pledges 1 billion dollars more');
  expect(await position()).toBe(breaking.position);
  expect(await page.locator('article.entry').count()).toBe(shown);
  expect(await page.locator('#new-updates').isHidden()).toBe(true);
});

test('a correction changes the title on the page and shows its reason', async () => {
  const reply = await api.patch(
    `/entries/${breaking.entryId}`,
    { changes: { title: 'Japan pledges 1.5 billion dollars more', pledge: { amount: 1_500_000_000, currency: 'USD' } }, reason: 'the amount was misheard' },
    { 'If-Match': '"0"' },
  );
  expect({ status: reply.status, revision: reply.body.revision }).toEqual({ status: 200, revision: 1 });

  const entry = card(breaking.entryId);
  await waitForText(`${entry} h3.title`, 'Japan pledges 1.5 billion dollars more', 'the corrected title is not shown');
  await waitForText(`${entry} p.correction-note`, 'Corrected: the amount was misheard', 'the correction note is not shown');
  expect(await page.locator(`${entry} dl.facts dt:text-is("Pledge") + dd`).textContent()).toBe('$1,500,000,000');
  expect(await page.locator(entry).getAttribute('class')).toBe('entry kind-announcement corrected');
  expect(await page.locator(entry).getAttribute('data-revision')).toBe('1');
  expect(await position()).toBe(reply.body.position);
  expect(await page.locator('article.entry').count()).toBe(shown);
});

test('a retraction strikes the entry through and shows its reason', async () => {
  const reply = await api.post(`/entries/${breaking.entryId}/retraction`, { reason: 'no such pledge was made' }, { 'If-Match': '"1"' });
  expect({ status: reply.status, revision: reply.body.revision }).toEqual({ status: 200, revision: 2 });

  const entry = card(breaking.entryId);
  await waitForText(`${entry} p.retraction-note`, 'Retracted: no such pledge was made', 'the retraction note is not shown');
  expect(await page.locator(entry).getAttribute('class')).toBe('entry kind-announcement retracted corrected');
  const title = page.locator(`${entry} h3.title > del`);
  expect(await title.textContent()).toBe('Japan pledges 1.5 billion dollars more');
  expect(await title.evaluate((e) => getComputedStyle(e).textDecorationLine)).toBe('line-through');
  // Still on the page (the reader sees what was retracted), with its correction.
  expect(await page.locator(`${entry} p.correction-note`).textContent()).toBe('Corrected: the amount was misheard');
  expect(await position()).toBe(reply.body.position);
  expect(await page.locator('article.entry').count()).toBe(shown);
});

test('scrolled away, a new entry waits behind the banner until the reader asks for it', async () => {
  // Make the page long: fifteen deliveries, each shown at once while the reader is at the top.
  for (let day = 1; day <= 15; day += 1) {
    await recordEntry(api, slug, delivery({ occurredOn: `2023-01-${String(day).padStart(2, '0')}`, title: `Delivery number ${day}` }));
  }
  shown += 15;
  await waitForCount('article.entry', shown, 'the fifteen deliveries did not all appear');

  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.waitForFunction(() => window.scrollY > 1000, undefined, { timeout: WAIT_MS });

  const late = await recordEntry(api, slug, signing({ occurredOn: '2024-07-02', title: 'Japan and Ukraine sign a drone accord' }));
  await waitForText('#new-updates', '1 new update — show', 'the banner did not announce the new entry');
  expect(await page.locator('#new-updates').isVisible()).toBe(true);
  // Announced, not inserted: the page the reader is looking at does not move.
  expect(await page.locator(card(late.entryId)).count()).toBe(0);
  expect(await page.locator('article.entry').count()).toBe(shown);
  expect(await position()).toBe(late.position);
  expect(await scrollY()).toBeGreaterThan(1000);

  await page.locator('#new-updates').click();
  shown += 1;
  await waitForCount(card(late.entryId), 1, 'clicking the banner did not show the new entry');
  expect(await page.locator('#new-updates').isHidden()).toBe(true);
  expect(await page.locator('section.day').first().locator(`${card(late.entryId)}.kind-signing`).count()).toBe(1);
  expect(await page.locator('article.entry').count()).toBe(shown);
  // The click also takes the reader up to it.
  await page.waitForFunction(() => window.scrollY === 0, undefined, { timeout: WAIT_MS });
});

test('after losing its connection the page resumes from the last position it saw', async () => {
  expect(await scrollY()).toBe(0);
  const socketsBefore = sockets.length;
  expect(socketsBefore).toBeGreaterThan(0);

  // Chromium's network emulation (CDP Network.emulateNetworkConditions,
  // offline) closes the open WebSocket at once and fails every new request,
  // socket.io's reconnection attempts included, until we go back online: a
  // real drop, as a reader's train entering a tunnel. The page's own status
  // line proves it noticed; a new WebSocket afterwards proves it reconnected.
  await context.setOffline(true);
  try {
    await waitForState('reconnecting', 'going offline did not drop the live connection');

    const missed = await recordEntry(api, slug, delivery({ occurredOn: '2024-07-03', title: 'Japan sends generators to Ukraine' }));
    const correction = await api.patch(
      `/entries/${before.signing.entryId}`,
      { changes: { title: 'Japan and Ukraine sign a ten-year security accord' }, reason: 'the accord is on security' },
      { 'If-Match': '"0"' },
    );
    expect(correction.status).toBe(200);
    // Offline, the page cannot have heard of either.
    await page.waitForTimeout(300);
    expect(await page.locator(card(missed.entryId)).count()).toBe(0);
    expect(await page.locator(`${card(before.signing.entryId)} p.correction-note`).count()).toBe(0);

    await context.setOffline(false);
    shown += 1;
    await waitForState('live', 'the page did not resubscribe after reconnecting');
    await waitForCount(card(missed.entryId), 1, 'the entry recorded while offline did not appear');
    await waitForText(`${card(before.signing.entryId)} h3.title`, 'Japan and Ukraine sign a ten-year security accord', 'the correction made while offline is not shown');
    expect(await page.locator(`${card(before.signing.entryId)} p.correction-note`).textContent()).toBe('Corrected: the accord is on security');
    expect(await page.locator('section.day').first().locator(`${card(missed.entryId)}.kind-delivery`).count()).toBe(1);
    // Everything exactly once, and the page is at the last write.
    expect(await page.locator('article.entry').count()).toBe(shown);
    expect(await position()).toBe(correction.body.position);
    expect(await api.head()).toBe(correction.body.position);
    expect(sockets.length).toBeGreaterThan(socketsBefore);
  } finally {
    await context.setOffline(false);
  }

  // The same document all along, and nothing thrown in it.
  expect(await page.evaluate(() => window.pageMark)).toBe('never reloaded');
  expect(pageErrors).toEqual([]);
});

// Fails as of e8d0c04: live.js's loadSnapshot() empties `held` but never calls
// showBanner(), so after the reload the banner still announces "1 new update"
// that is already on the page (the same happens on a server `resync`).
test('a page that missed more than the server replays reloads the timeline, and its banner stays true', async () => {
  // Scrolled away, with one new entry waiting behind the banner…
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.waitForFunction(() => window.scrollY > 1000, undefined, { timeout: WAIT_MS });
  const waiting = await recordEntry(api, slug, announcement({ occurredOn: '2024-07-04', title: 'Japan announces demining aid' }));
  await waitForText('#new-updates', '1 new update — show', 'the banner did not announce the new entry');
  expect(await page.locator(card(waiting.entryId)).count()).toBe(0);

  // …the page misses four changes, more than the server replays (LIVE_MAX_REPLAY=3): on
  // reconnecting it is refused with resync_required and must reload the timeline.
  const loadsBefore = snapshotLoads;
  const missed: Written[] = [];
  await context.setOffline(true);
  try {
    await waitForState('reconnecting', 'going offline did not drop the live connection');
    for (let n = 1; n <= 4; n += 1) {
      missed.push(await recordEntry(api, slug, delivery({ occurredOn: '2024-07-05', title: `Japan sends convoy ${n} to Ukraine` })));
    }
  } finally {
    await context.setOffline(false);
  }
  const last = missed[missed.length - 1].position;
  await page
    .waitForFunction(
      (p) =>
        document.querySelector('#connection')?.getAttribute('data-state') === 'live' &&
        document.querySelector('#timeline')?.getAttribute('data-position') === p,
      last,
      { timeout: WAIT_MS, polling: 50 },
    )
    .catch(async (error: unknown) => {
      throw new Error(`the page did not catch up to ${last} ${await pageState()}`, { cause: error });
    });
  // It did reload (the resync_required answer itself may come over HTTP long-polling, before the upgrade).
  expect(snapshotLoads).toBe(loadsBefore + 1);

  // Every new entry is now either on the page, once, or announced by the
  // banner, never both: the banner counts exactly the entries not yet shown.
  const news = [waiting, ...missed];
  const onPage = await Promise.all(news.map((w) => page.locator(card(w.entryId)).count()));
  expect(onPage.every((count) => count <= 1)).toBe(true);
  const notShown = onPage.filter((count) => count === 0).length;
  const bannerNow = (await page.locator('#new-updates').isVisible()) ? await page.locator('#new-updates').textContent() : null;
  expect({ newEntriesOnPage: news.length - notShown, banner: bannerNow }).toEqual({
    newEntriesOnPage: news.length - notShown,
    banner: notShown === 0 ? null : `${notShown} new update${notShown === 1 ? '' : 's'} — show`,
  });
  expect(await page.locator('article.entry').count()).toBe(shown + news.length - notShown);
  expect(pageErrors).toEqual([]);
});
