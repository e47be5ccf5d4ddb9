/**
 * The built-in newsroom live page (/timelines/:slug/live) of the BUILT service,
 * in a real headless Chromium (the system's, via ../support/browser), with
 * writes made over HTTP (global fetch) the way a newsroom tool makes them.
 *
 * It proves that the page, never reloaded:
 *   - loads the timeline and goes live (#connection reads "Live", data-state="live");
 *   - shows an entry recorded over HTTP within 2 s;
 *   - marks a correction: the corrected title, the "corrected" class, the new
 *     revision and the "Corrected: <reason>" note;
 * and that it logs no errors (pageerror, console.error) on the way.
 *
 * The tests run in order against one open tab, each building on the last.
 * A screenshot of the final page is saved to /tmp/live-page-acceptance.png.
 */
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { announcement, apiAt, expectStatus, signing, type Written } from './support/api';
import { startService, type RunningService } from './support/artifact';

// The browser globals the functions run in the page use (tsconfig has no DOM lib).
declare const window: { acceptanceMark?: string };

jest.setTimeout(60_000);

const SCREENSHOT = '/tmp/live-page-acceptance.png';
const SHOWN_WITHIN_MS = 2_000;
const WAIT_MS = 10_000;
const TIMELINE_TITLE = 'Japan and Ukraine, live';

// Entry bodies: the shared examples, a signing without a place, and a later, smaller pledge.
const SIGNED = signing({}, { omit: ['place'] });
const ANNOUNCED = announcement({
  occurredOn: '2024-07-01',
  title: 'Japan pledges 1 billion dollars more for Ukraine',
  summary: 'Announced after the G7 summit in Apulia.',
  pledge: { amount: 1_000_000_000, currency: 'USD' },
});

let service: RunningService;
let browser: Browser | undefined;
let page: Page;
let slug: string;
/** Recorded before the page is opened: in its snapshot. */
let before: Written;
/** Recorded, then corrected, while the page watches. */
let breaking: Written;
/** Uncaught page errors and console errors: the page must log none. */
const pageErrors: string[] = [];

// ---------------------------------------------------------------------------
// HTTP, with global fetch (./support/api.ts), at the service beforeAll starts

const api = apiAt(() => service.url);

// ---------------------------------------------------------------------------
// Page helpers

const card = (entryId: string) => `#entry-${entryId}`;

async function pageState(): Promise<string> {
  const connection = await page.locator('#connection').textContent({ timeout: 100 }).catch(() => '?');
  const position = await page.locator('#timeline').getAttribute('data-position', { timeout: 100 }).catch(() => '?');
  return `(status ${JSON.stringify(connection)}, data-position ${position}, page errors ${JSON.stringify(pageErrors)})`;
}

/** Waits until `selector` is on the page; the error says what the page showed instead. */
async function waitFor(selector: string, what: string, timeoutMs = WAIT_MS): Promise<void> {
  try {
    await page.locator(selector).first().waitFor({ state: 'attached', timeout: timeoutMs });
  } catch (error) {
    throw new Error(`${what}: no ${selector} within ${timeoutMs} ms ${await pageState()}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------

beforeAll(async () => {
  service = await startService();
  slug = `live-page-${Math.random().toString(36).slice(2, 8)}`;
  await api.openTimeline({ slug, title: TIMELINE_TITLE });
  before = await api.record(slug, SIGNED);

  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
  context.setDefaultTimeout(WAIT_MS);
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`console.error: ${message.text()}`);
  });
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

afterEach(async () => {
  // Taken after every test, even one that failed: it shows what the reader saw at that point
  // (not in afterAll: the harness stops the service before a spec's own afterAll runs).
  if (page) await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => undefined);
  // Each test answers for the errors logged while it ran.
  expect(pageErrors.splice(0)).toEqual([]);
});

test('the live page loads the timeline and goes live', async () => {
  const response = await page.goto(`${service.url}/timelines/${slug}/live`);
  expect(response?.status()).toBe(200);
  expect(await page.locator('h1').textContent()).toBe(TIMELINE_TITLE);

  await waitFor('#connection[data-state="live"]', 'the page did not go live');
  expect(await page.locator('#connection').textContent()).toBe('Live');
  expect(await page.locator('#timeline').getAttribute('aria-busy')).toBe('false');
  // The snapshot: the entry recorded before the page was opened, at its position.
  expect(await page.locator('article.entry').count()).toBe(1);
  expect(await page.locator(`${card(before.entryId)}.kind-signing h3.title`).textContent()).toBe(SIGNED.title);
  expect(await page.locator('#timeline').getAttribute('data-position')).toBe(before.position);

  // Marks this document: were the page reloaded, the mark would be gone.
  await page.evaluate(() => (window.acceptanceMark = 'never reloaded'));
});

test(`an entry recorded over HTTP appears within ${SHOWN_WITHIN_MS / 1000} s, without a reload`, async () => {
  const started = Date.now();
  breaking = await api.record(slug, ANNOUNCED);
  await waitFor(card(breaking.entryId), 'the new entry did not appear', SHOWN_WITHIN_MS);
  expect(Date.now() - started).toBeLessThan(SHOWN_WITHIN_MS);

  const entry = page.locator(card(breaking.entryId));
  expect(await entry.getAttribute('class')).toBe('entry kind-announcement');
  expect(await entry.getAttribute('data-revision')).toBe('0');
  expect(await entry.locator('h3.title').textContent()).toBe('Japan pledges 1 billion dollars more for Ukraine');
  expect(await entry.locator('dl.facts dt:text-is("Pledge") + dd').textContent()).toBe('$1,000,000,000');
  // Newest date first: the new entry of 1 July 2024 above the signing of 13 June 2024.
  const dates = await page.locator('section.day > h2.date > time').all();
  expect(await Promise.all(dates.map((time) => time.getAttribute('datetime')))).toEqual(['2024-07-01', '2024-06-13']);
  expect(await page.locator('article.entry').count()).toBe(2);
  expect(await page.locator('#timeline').getAttribute('data-position')).toBe(breaking.position);
  expect(await page.locator('#connection').textContent()).toBe('Live');
  expect(await page.evaluate(() => window.acceptanceMark)).toBe('never reloaded');
});

test('a correction made over HTTP marks the entry as corrected, with its reason', async () => {
  const current = await api.get(`/entries/${breaking.entryId}`);
  expect(current.status).toBe(200);
  expect(current.headers.get('etag')).toBe('"0"');
  const corrected = expectStatus(
    await api.patch<Written>(
      `/entries/${breaking.entryId}`,
      { changes: { title: 'Japan pledges 1.5 billion dollars more for Ukraine', pledge: { amount: 1_500_000_000, currency: 'USD' } }, reason: 'the amount was misheard' },
      { 'If-Match': current.headers.get('etag')! },
    ),
    200,
    `correcting ${breaking.entryId}`,
  ).body;
  expect(corrected.revision).toBe(1);

  const selector = card(breaking.entryId);
  await waitFor(`${selector}.corrected[data-revision="1"]`, 'the entry was not marked as corrected');
  const entry = page.locator(selector);
  expect(await entry.getAttribute('class')).toBe('entry kind-announcement corrected');
  expect(await entry.locator('h3.title').textContent()).toBe('Japan pledges 1.5 billion dollars more for Ukraine');
  expect(await entry.locator('p.correction-note').textContent()).toBe('Corrected: the amount was misheard');
  expect(await entry.locator('dl.facts dt:text-is("Pledge") + dd').textContent()).toBe('$1,500,000,000');
  // Still one card for it (updated in place), and the other entry untouched.
  expect(await page.locator('article.entry').count()).toBe(2);
  expect(await page.locator(`${card(before.entryId)}`).getAttribute('class')).toBe('entry kind-signing');
  expect(await page.locator('#timeline').getAttribute('data-position')).toBe(corrected.position);
  expect(await page.evaluate(() => window.acceptanceMark)).toBe('never reloaded');

  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});
