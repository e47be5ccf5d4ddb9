/**
 * @timeline/client against the real service (./support/service.ts): every
 * HTTP method, its typed errors, and the live feed's resume after forced
 * disconnects, which must deliver exactly the missed updates.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Namespace } from 'socket.io';
import type { EntryChanges as ServerEntryChanges, EntryDetails as ServerEntryDetails } from '@timeline/domain';
import {
  LiveFeed,
  LiveFeedError,
  TimelineApiError,
  TimelineClient,
  type ApiErrorBody,
  type EntryChanges,
  type EntryDetails,
  type LiveFeedOptions,
  type LiveUpdate,
  type LogItem,
  type NewEntry,
} from '@timeline/client';
import { LiveGateway } from '../apps/timeline-service/src/live/live.gateway';
import { announcement, delivery, signing, uniqueSlug } from './support/http';
import { startService, type RunningService } from './support/service';

jest.setTimeout(30_000);

// ---------------------------------------------------------------------------
// The answers' types need no check here: the server declares them with the client's own
// (@timeline/contracts). What the client sends must be what the server's domain accepts, and
// the other way round: the domain's types are its own, so the compiler (tsc --noEmit) checks them.

type Assignable<From, To> = [From] extends [To] ? true : false;
const wireTypes: Record<string, true> = {
  details: true satisfies Assignable<EntryDetails, ServerEntryDetails>,
  detailsBack: true satisfies Assignable<ServerEntryDetails, EntryDetails>,
  changes: true satisfies Assignable<EntryChanges, ServerEntryChanges>,
  changesBack: true satisfies Assignable<ServerEntryChanges, EntryChanges>,
  newEntry: true satisfies Assignable<EntryDetails, NewEntry>,
};

// ---------------------------------------------------------------------------

const POSITION = /^\d{20}$/;
const newEntry = (body: Record<string, unknown>) => body as NewEntry;

async function expectApiError(promise: Promise<unknown>, status: number, code: string): Promise<TimelineApiError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TimelineApiError);
  const apiError = error as TimelineApiError;
  expect({ status: apiError.status, code: apiError.code }).toEqual({ status, code });
  expect(apiError.message).toEqual((apiError.body as ApiErrorBody).message);
  return apiError;
}

function namespaceOf(service: RunningService): Namespace {
  return (service.app.get(LiveGateway) as unknown as { namespace: Namespace }).namespace;
}

/** Waits until `done()` holds, checking every 10 ms. */
async function until(done: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const feeds: LiveFeed[] = [];
function feedOf(service: RunningService, options: LiveFeedOptions = {}): LiveFeed {
  const feed = new LiveFeed({ baseUrl: service.url, ...options, socket: { transports: ['websocket'], ...(options.socket ?? {}) } });
  feeds.push(feed);
  return feed;
}
afterEach(() => {
  for (const feed of feeds.splice(0)) feed.close();
});

/** A subscription's updates, and how often it went live. */
function recorder() {
  const updates: LiveUpdate[] = [];
  let live = 0;
  const errors: LiveFeedError[] = [];
  return {
    updates,
    errors,
    get live() {
      return live;
    },
    handlers: {
      onUpdate: (u: LiveUpdate) => updates.push(u),
      onLive: () => (live += 1),
      onError: (e: LiveFeedError) => errors.push(e),
    },
  };
}

const brief = (updates: LiveUpdate[]) => updates.map((u) => `${u.position}:${u.type}:${u.entry.entryId}`);

// ---------------------------------------------------------------------------

describe('TimelineClient over HTTP', () => {
  let service: RunningService;
  let client: TimelineClient;
  beforeAll(async () => {
    service = await startService();
    client = new TimelineClient({ baseUrl: `${service.url}/` });
  });
  afterAll(() => service?.stop());

  it('has its wire types checked against the server', () => {
    expect(Object.values(wireTypes).every(Boolean)).toBe(true);
  });

  it('reads health', async () => {
    const health = await client.health();
    expect(health).toMatchObject({ status: 'ok', store: 'ok', deadLetters: 0, problems: [] });
  });

  it('opens, lists and gets timelines; a second open is a typed 409, an unknown slug a 404', async () => {
    const slug = uniqueSlug('client');
    const opened = await client.openTimeline({ slug, title: 'Client timeline', description: 'opened by the client' });
    expect(opened).toEqual({ slug, position: expect.stringMatching(POSITION) });

    const timeline = await client.getTimeline(slug);
    expect(timeline).toMatchObject({ slug, title: 'Client timeline', description: 'opened by the client', entryCount: 0, position: opened.position });
    expect((await client.listTimelines()).map((t) => t.slug)).toContain(slug);

    await expectApiError(client.openTimeline({ slug, title: 'again' }), 409, 'timeline_exists');
    await expectApiError(client.getTimeline('no-such-timeline'), 404, 'timeline_not_found');
  });

  it('records entries (a retry with the same entryId is safe), and reports field errors typed', async () => {
    const slug = (await client.openTimeline({ slug: uniqueSlug('client'), title: 'Records' })).slug;
    const entryId = '8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47'.replace('8a1c', Math.random().toString(16).slice(2, 6));
    const first = await client.recordEntry(slug, newEntry(signing({ entryId })));
    expect(first).toEqual({ entryId, revision: 0, position: expect.stringMatching(POSITION) });
    expect(await client.recordEntry(slug, newEntry(signing({ entryId })))).toEqual(first);
    await expectApiError(client.recordEntry(slug, newEntry(signing({ entryId, title: 'another' }))), 409, 'entry_id_conflict');

    const invalid = await expectApiError(client.recordEntry(slug, newEntry(signing({ occurredOn: '2024-02-30' }))), 400, 'invalid');
    expect(invalid.errors.map((e) => e.field)).toEqual(['occurredOn']);
    expect(invalid.problemsOf('occurredOn').join()).toContain('occurredOn');
    await expectApiError(client.recordEntry('no-such-timeline', newEntry(signing())), 404, 'timeline_not_found');
  });

  it('lists entries with filters, pages through cursors, and loads a whole snapshot', async () => {
    const slug = (await client.openTimeline({ slug: uniqueSlug('client'), title: 'Listing' })).slug;
    const a = await client.recordEntry(slug, newEntry(announcement({ occurredOn: '2024-06' })));
    const s = await client.recordEntry(slug, newEntry(signing({ occurredOn: '2024-06-13', actors: ['JP', 'UA'] })));
    const d = await client.recordEntry(slug, newEntry(delivery({ occurredOn: '2022-03', actors: ['JP', 'PL'], recipient: 'PL' })));
    await client.retractEntry(d.entryId, { reason: 'wrong timeline' });

    const all = await client.listEntries(slug, { includeRetracted: true, order: 'desc' });
    expect(all.items.map((e) => e.entryId)).toEqual([s.entryId, a.entryId, d.entryId]);
    expect(all.nextCursor).toBeNull();
    expect(all.position).toMatch(POSITION);
    expect((await client.listEntries(slug)).items.map((e) => e.entryId)).toEqual([a.entryId, s.entryId]);
    expect((await client.listEntries(slug, { kind: 'signing' })).items.map((e) => e.entryId)).toEqual([s.entryId]);
    expect((await client.listEntries(slug, { actor: 'PL', includeRetracted: true })).items.map((e) => e.entryId)).toEqual([d.entryId]);
    expect((await client.listEntries(slug, { from: '2024-06-01', to: '2024' })).items.map((e) => e.entryId)).toEqual([s.entryId]);

    const first = await client.listEntries(slug, { limit: 1 });
    expect(first.items.map((e) => e.entryId)).toEqual([a.entryId]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await client.listEntries(slug, { limit: 1, cursor: first.nextCursor! });
    expect(second.items.map((e) => e.entryId)).toEqual([s.entryId]);

    const pages = [];
    for await (const page of client.entryPages(slug, { limit: 1, includeRetracted: true })) pages.push(page.items.map((e) => e.entryId));
    expect(pages).toEqual([[d.entryId], [a.entryId], [s.entryId], []].slice(0, pages.length));
    expect(pages.flat()).toEqual([d.entryId, a.entryId, s.entryId]);

    const snapshot = await client.allEntries(slug, { includeRetracted: true });
    expect({ ids: snapshot.items.map((e) => e.entryId), position: snapshot.position }).toEqual({ ids: [d.entryId, a.entryId, s.entryId], position: all.position });

    const bad = await expectApiError(client.listEntries(slug, { limit: 501 }), 400, 'invalid');
    expect(bad.errors.map((e) => e.field)).toEqual(['limit']);
    await expectApiError(client.listEntries(slug, { cursor: 'not-a-cursor' }), 400, 'invalid');
  });

  it('searches one timeline (q on listEntries) and every timeline (search), best first, paged; an unreadable q is a typed 400 naming q', async () => {
    const one = (await client.openTimeline({ slug: uniqueSlug('client'), title: 'Search one' })).slug;
    const two = (await client.openTimeline({ slug: uniqueSlug('client'), title: 'Search two' })).slug;
    const word = `zq${Math.random().toString(36).slice(2, 8)}`; // no other test's entry has it
    const titled = await client.recordEntry(one, newEntry(signing({ title: `The ${word} accord` })));
    const summed = await client.recordEntry(two, newEntry(announcement({ summary: `Talks on ${word}` })));

    expect((await client.listEntries(one, { q: word })).items.map((e) => e.entryId)).toEqual([titled.entryId]);
    const found = await client.search({ q: word });
    expect(found.items.map((e) => [e.entryId, e.timeline])).toEqual([[titled.entryId, one], [summed.entryId, two]]);
    expect(found.position).toMatch(POSITION);
    expect((await client.search({ q: word, kind: 'announcement' })).items.map((e) => e.entryId)).toEqual([summed.entryId]);
    const first = await client.search({ q: word, limit: 1 });
    const second = await client.search({ q: word, limit: 1, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((e) => e.entryId)).toEqual([titled.entryId, summed.entryId]);
    expect(second.nextCursor).toBeNull();

    await client.retractEntry(summed.entryId, { reason: 'duplicate' });
    expect((await client.search({ q: word })).items.map((e) => e.entryId)).toEqual([titled.entryId]);
    expect((await client.search({ q: word, includeRetracted: true })).items.map((e) => e.entryId)).toEqual([titled.entryId, summed.entryId]);

    const bad = await expectApiError(client.search({ q: `"${word}` }), 400, 'invalid');
    expect(bad.errors.map((e) => e.field)).toEqual(['q']);
  });

  it('gets, corrects with If-Match and retracts an entry; stale, missing and retracted are typed errors', async () => {
    const slug = (await client.openTimeline({ slug: uniqueSlug('client'), title: 'Corrections' })).slug;
    const { entryId } = await client.recordEntry(slug, newEntry(announcement()));
    const entry = await client.getEntry(entryId);
    expect(entry).toMatchObject({ entryId, timeline: slug, kind: 'announcement', revision: 0, status: 'active', corrections: [] });
    if (entry.kind !== 'announcement') throw new Error('narrowing on kind');
    expect(entry.pledge).toEqual({ amount: 4_500_000_000, currency: 'USD' });

    const corrected = await client.correctEntry(entryId, { changes: { title: 'Corrected title', pledge: null }, reason: 'a better source', revision: entry.revision });
    expect(corrected).toEqual({ entryId, revision: 1, position: expect.stringMatching(POSITION) });
    const after = await client.getEntry(entryId);
    expect(after).toMatchObject({ title: 'Corrected title', revision: 1, corrections: [{ revision: 1, reason: 'a better source' }] });
    expect('pledge' in after).toBe(false);

    await expectApiError(client.correctEntry(entryId, { changes: { title: 'Stale' }, reason: 'stale copy', revision: 0 }), 412, 'stale_revision');
    // The server demands If-Match on a correction; the typed method always sends it, request() shows the 428.
    const missing = await client.request('PATCH', `/entries/${entryId}`, { json: { changes: { title: 'x' }, reason: 'no precondition' } });
    expect(missing.body).toMatchObject({ statusCode: 428, code: 'precondition_required' });
    const badField = await expectApiError(client.correctEntry(entryId, { changes: { title: '' }, reason: 'empty', revision: 1 }), 400, 'invalid');
    expect(badField.errors[0].field).toBe('changes.title');

    await expectApiError(client.retractEntry(entryId, { reason: 'stale', revision: 0 }), 412, 'stale_revision');
    const retracted = await client.retractEntry(entryId, { reason: 'never pledged', revision: 1 });
    expect(retracted).toEqual({ entryId, revision: 2, position: expect.stringMatching(POSITION) });
    await expectApiError(client.retractEntry(entryId, { reason: 'again' }), 409, 'entry_retracted');
    await expectApiError(client.correctEntry(entryId, { changes: { title: 'x' }, reason: 'too late', revision: 2 }), 409, 'entry_retracted');
    await expectApiError(client.getEntry('00000000-0000-4000-8000-000000000000'), 404, 'entry_not_found');
    await expectApiError(client.getEntry('not-a-uuid'), 400, 'invalid');
  });

  it('answers the audit questions: history, as-of, the log page by page and as NDJSON, the TimelineJS export', async () => {
    const slug = (await client.openTimeline({ slug: uniqueSlug('client'), title: 'Audit' })).slug;
    const recorded = await client.recordEntry(slug, newEntry(signing()));
    await new Promise((r) => setTimeout(r, 5)); // a distinct instant for the as-of below
    const between = new Date();
    await new Promise((r) => setTimeout(r, 5));
    await client.correctEntry(recorded.entryId, { changes: { title: 'Later title' }, reason: 'later', revision: 0 });

    const history = await client.entryHistory(recorded.entryId);
    expect(history.map((h) => [h.type, h.revision])).toEqual([
      ['SigningRecorded', 0],
      ['EntryCorrected', 1],
    ]);
    expect(history[1].recordedBy).toEqual(expect.any(String));

    const asOfPosition = await client.entriesAsOf(slug, recorded.position);
    expect({ asOf: asOfPosition.asOf, titles: asOfPosition.items.map((e) => e.title) }).toEqual({ asOf: recorded.position, titles: [signing().title] });
    const asOfInstant = await client.entriesAsOf(slug, between);
    expect(asOfInstant.items.map((e) => e.title)).toEqual([signing().title]);
    expect(asOfInstant.position).toBe(recorded.position);

    const page = await client.events({ limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.next).toBe(page.items[1].position);
    const next = await client.events({ after: page.next!, limit: 1 });
    expect(next.items[0].position > page.next!).toBe(true);
    await expectApiError(client.events({ limit: 0 }), 400, 'invalid');

    const streamed: LogItem[] = [];
    for await (const item of client.eventStream()) streamed.push(item);
    const head = (await client.health()).head;
    expect(streamed.at(-1)?.position).toBe(head);
    expect(streamed.slice(0, 2)).toEqual(page.items);
    const fromPosition: string[] = [];
    for await (const item of client.eventStream({ after: recorded.position })) {
      fromPosition.push(item.type);
      break; // stopping early cancels the stream
    }
    expect(fromPosition).toEqual(['EntryCorrected']);

    const exported = await client.exportTimelineJs(slug);
    expect(exported.title.text.headline).toBe('Audit');
    expect(exported.events.map((e) => e.unique_id)).toEqual([recorded.entryId]);
  });
});

describe('TimelineClient and LiveFeed with API keys', () => {
  const KEYS = { reader: 'reader-key-0123456789abcdef', editor: 'editor-key-0123456789abcdef' };
  let service: RunningService;
  beforeAll(async () => {
    service = await startService({ API_KEYS: `desk:reader:${KEYS.reader},jane:editor:${KEYS.editor}`, PUBLIC_READS: 'false' });
  });
  afterAll(() => service?.stop());

  it('sends the key as a bearer token; no key, a wrong key and a wrong role are typed 401 and 403', async () => {
    const editor = new TimelineClient({ baseUrl: service.url, apiKey: KEYS.editor });
    const slug = (await editor.openTimeline({ slug: uniqueSlug('keys'), title: 'Keys' })).slug;
    expect((await new TimelineClient({ baseUrl: service.url, apiKey: KEYS.reader }).getTimeline(slug)).slug).toBe(slug);
    await expectApiError(new TimelineClient({ baseUrl: service.url }).getTimeline(slug), 401, 'unauthorized');
    await expectApiError(new TimelineClient({ baseUrl: service.url, apiKey: 'not-a-key-of-ours-000000' }).listTimelines(), 401, 'unauthorized');
    await expectApiError(new TimelineClient({ baseUrl: service.url, apiKey: KEYS.reader }).openTimeline({ slug: uniqueSlug('k'), title: 'No' }), 403, 'forbidden');
  });

  it('sends the key in the socket handshake', async () => {
    const editor = new TimelineClient({ baseUrl: service.url, apiKey: KEYS.editor });
    const slug = (await editor.openTimeline({ slug: uniqueSlug('keys'), title: 'Keys live' })).slug;
    const states: string[] = [];
    feedOf(service, { onConnection: (state, detail) => states.push(`${state}${detail ? `: ${detail}` : ''}`), socket: { reconnection: false } });
    await until(() => states.some((s) => s.startsWith('disconnected: unauthorized')), 'the refused handshake');

    const seen = recorder();
    const feed = feedOf(service, { apiKey: KEYS.reader });
    await feed.subscribe(slug, seen.handlers).ready;
    const written = await editor.recordEntry(slug, newEntry(signing()));
    await until(() => seen.updates.length === 1, 'the update');
    expect(seen.updates[0].position).toBe(written.position);
  });
});

describe('LiveFeed', () => {
  let service: RunningService;
  let client: TimelineClient;
  beforeAll(async () => {
    service = await startService({ LIVE_MAX_REPLAY: '4' });
    client = new TimelineClient({ baseUrl: service.url });
  });
  afterAll(() => service?.stop());

  const open = async () => (await client.openTimeline({ slug: uniqueSlug('feed'), title: 'Feed' })).slug;

  it('follows a timeline from a snapshot position, and refuses an unknown timeline with a typed error', async () => {
    const slug = await open();
    const before = await client.recordEntry(slug, newEntry(announcement()));
    const snapshot = await client.allEntries(slug);
    const seen = recorder();
    const feed = feedOf(service);
    const subscription = feed.subscribe(slug, seen.handlers, { after: snapshot.position });
    expect(await subscription.ready).toBe(snapshot.position);

    const next = await client.recordEntry(slug, newEntry(signing()));
    await until(() => seen.updates.length === 1, 'the update');
    expect(seen.updates[0]).toMatchObject({ timeline: slug, position: next.position, type: 'entry.recorded', entry: { entryId: next.entryId, revision: 0 } });
    expect(subscription.position).toBe(next.position);
    expect(feed.positionOf(slug)).toBe(next.position);
    expect(before.position < next.position).toBe(true);

    const refused = recorder();
    const error = await feed.subscribe('no-such-timeline', refused.handlers).ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LiveFeedError);
    expect({ code: (error as LiveFeedError).code, timeline: (error as LiveFeedError).timeline }).toEqual({ code: 'not_found', timeline: 'no-such-timeline' });
    expect(refused.errors.map((e) => e.code)).toEqual(['not_found']);
  });

  it('without `after`, starts at the position the server acknowledges', async () => {
    const slug = await open();
    await client.recordEntry(slug, newEntry(announcement()));
    const seen = recorder();
    const feed = feedOf(service);
    const position = await feed.subscribe(slug, seen.handlers).ready;
    expect(position).toBe((await client.health()).checkpoint);
    const next = await client.recordEntry(slug, newEntry(delivery()));
    await until(() => seen.updates.length === 1, 'the update');
    expect(brief(seen.updates)).toEqual([`${next.position}:entry.recorded:${next.entryId}`]);
  });

  it('resumes after the client loses its connection, receiving exactly the missed updates', async () => {
    const slug = await open();
    const other = await open();
    const { entryId } = await client.recordEntry(slug, newEntry(announcement()));
    const seen = recorder();
    const states: string[] = [];
    // A fixed reconnection delay, long enough for the writes below to happen while disconnected.
    const feed = feedOf(service, { onConnection: (state) => states.push(state), socket: { reconnectionDelay: 1500, randomizationFactor: 0 } });
    const subscribes: unknown[] = [];
    const messages: string[] = [];
    feed.socket.onAnyOutgoing((event, payload) => event === 'subscribe' && subscribes.push(payload));
    feed.socket.onAny((event, payload) => messages.push(event === 'updates' ? `updates:${payload.updates.length}` : event));
    await feed.subscribe(slug, seen.handlers, { after: (await client.getTimeline(slug)).position }).ready;
    const live = await client.recordEntry(slug, newEntry(signing()));
    await until(() => seen.updates.length === 1, 'the first update');

    // The engine's transport closes as a dropped network would: socket.io reconnects on its own.
    feed.socket.io.engine.close();
    expect(feed.connected).toBe(false);
    const missed = [
      await client.recordEntry(slug, newEntry(delivery())),
      await client.correctEntry(entryId, { changes: { title: 'Corrected while away' }, reason: 'offline', revision: 0 }),
      await client.recordEntry(other, newEntry(delivery())), // another timeline: never delivered here
      await client.retractEntry(live.entryId, { reason: 'retracted while away' }),
    ];
    expect(feed.connected).toBe(false); // all of them happened while disconnected

    await until(() => seen.live === 2, 'the resubscription');
    const after = await client.recordEntry(slug, newEntry(announcement({ title: 'After the reconnect' })));
    await until(() => seen.updates.length === 5, 'the missed and the new updates');
    await new Promise((r) => setTimeout(r, 100)); // nothing more may come
    expect(brief(seen.updates)).toEqual([
      `${live.position}:entry.recorded:${live.entryId}`,
      `${missed[0].position}:entry.recorded:${missed[0].entryId}`,
      `${missed[1].position}:entry.corrected:${entryId}`,
      `${missed[3].position}:entry.retracted:${live.entryId}`,
      `${after.position}:entry.recorded:${after.entryId}`,
    ]);
    expect(seen.updates[2].entry).toMatchObject({ title: 'Corrected while away', revision: 1 });
    // It resumes batched: what it missed came as one `updates` message, each update handed to onUpdate in order.
    expect(subscribes).toEqual([
      { timeline: slug, after: expect.stringMatching(POSITION), batch: true },
      { timeline: slug, after: live.position, batch: true },
    ]);
    expect(messages).toEqual(['update', 'updates:3', 'update']);
    expect(states).toEqual(expect.arrayContaining(['connected', 'disconnected', 'connecting']));
    expect(seen.errors).toEqual([]);
  });

  it('resumes unbatched from a server that does not know `batch` (refused as an unknown field)', async () => {
    const http = createServer();
    const io = new Server(http);
    const subscribes: Array<Record<string, unknown>> = [];
    const update = (position: string) => ({ timeline: 'old', position, type: 'entry.recorded', entry: { entryId: `e${position}`, position } });
    io.of('/live').on('connection', (socket) => {
      socket.on('subscribe', (payload: Record<string, unknown>, ack: (answer: unknown) => void) => {
        subscribes.push(payload);
        if ('batch' in payload) return ack({ ok: false, error: { code: 'invalid', message: 'property batch should not exist' } });
        ack({ ok: true, position: '00000000000000000009' });
        for (const position of ['00000000000000000008', '00000000000000000009']) socket.emit('update', update(position));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const seen = recorder();
      const feed = new LiveFeed({ baseUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, socket: { transports: ['websocket'] } });
      feeds.push(feed);
      expect(await feed.subscribe('old', seen.handlers, { after: '00000000000000000007' }).ready).toBe('00000000000000000007');
      await until(() => seen.updates.length === 2, 'the replay');
      expect(subscribes).toEqual([
        { timeline: 'old', after: '00000000000000000007', batch: true },
        { timeline: 'old', after: '00000000000000000007' },
      ]);
      expect(seen.updates.map((u) => u.position)).toEqual(['00000000000000000008', '00000000000000000009']);
      expect(seen.errors).toEqual([]);
    } finally {
      io.close();
    }
  });

  it('reconnects after the server disconnects it, and resumes without a gap or a duplicate', async () => {
    const slug = await open();
    const seen = recorder();
    const shutdowns: string[] = [];
    const feed = feedOf(service, { reconnectAfterServerDisconnectMs: 1000, onShutdown: (e) => shutdowns.push(e.reason) });
    await feed.subscribe(slug, seen.handlers, { after: (await client.getTimeline(slug)).position }).ready;
    const first = await client.recordEntry(slug, newEntry(signing()));
    await until(() => seen.updates.length === 1, 'the first update');

    // What the gateway does on SIGTERM, by hand: `shutdown`, then a server-side disconnect.
    const serverSocket = namespaceOf(service).sockets.get(feed.socket.id!)!;
    serverSocket.emit('shutdown', { reason: 'test' });
    await until(() => shutdowns.length === 1, 'the shutdown event');
    serverSocket.disconnect(); // 'io server disconnect': socket.io itself would not reconnect
    await until(() => !feed.connected, 'the disconnect');
    const missed = await client.recordEntry(slug, newEntry(delivery()));
    expect(feed.connected).toBe(false);

    await until(() => seen.updates.length === 2 && seen.live === 2, 'the resume');
    const after = await client.recordEntry(slug, newEntry(announcement()));
    await until(() => seen.updates.length === 3, 'the next update');
    expect(seen.updates.map((u) => u.position)).toEqual([first.position, missed.position, after.position]);
  });

  it('on resync_required or a server resync, calls onResync and continues after the position it returns', async () => {
    const slug = await open();
    const seen = recorder();
    const reloads: string[] = [];
    const feed = feedOf(service, { socket: { reconnectionDelay: 1500, randomizationFactor: 0 } });
    const handlers = {
      ...seen.handlers,
      async onResync(event: { reason: string }) {
        reloads.push(event.reason);
        return (await client.allEntries(slug)).position;
      },
    };
    await feed.subscribe(slug, handlers, { after: (await client.getTimeline(slug)).position }).ready;

    feed.socket.io.engine.close();
    for (let n = 0; n < 5; n += 1) await client.recordEntry(slug, newEntry(delivery({ title: `Missed ${n}` }))); // more than LIVE_MAX_REPLAY=4
    await until(() => reloads.length === 1 && seen.live === 2, 'the reload and the resubscription');
    expect(reloads).toEqual(['resync_required']);
    expect(seen.updates).toEqual([]); // the five are in the reloaded snapshot, not in the feed

    const next = await client.recordEntry(slug, newEntry(signing()));
    await until(() => seen.updates.length === 1, 'the update after the reload');
    expect(seen.updates[0].position).toBe(next.position);

    // The server gives up on a slow reader with `resync`: the same handler reloads, and the feed continues.
    namespaceOf(service).sockets.get(feed.socket.id!)!.emit('resync', { timeline: slug, reason: 'slow_consumer' });
    await until(() => reloads.length === 2 && seen.live === 3, 'the second reload');
    expect(reloads).toEqual(['resync_required', 'slow_consumer']);
    const last = await client.recordEntry(slug, newEntry(signing()));
    await until(() => seen.updates.length === 2, 'the update after the second reload');
    expect(seen.updates[1].position).toBe(last.position);
    expect(seen.errors).toEqual([]);
  });

  it('without onResync, a resume that missed too much ends the subscription with resync_required', async () => {
    const slug = await open();
    const seen = recorder();
    const feed = feedOf(service, { socket: { reconnectionDelay: 1500, randomizationFactor: 0 } });
    await feed.subscribe(slug, seen.handlers, { after: (await client.getTimeline(slug)).position }).ready;
    feed.socket.io.engine.close();
    for (let n = 0; n < 5; n += 1) await client.recordEntry(slug, newEntry(delivery()));
    await until(() => seen.errors.length === 1, 'the error');
    expect(seen.errors[0].code).toBe('resync_required');
    expect(feed.positionOf(slug)).toBeNull(); // no longer followed
  });

  it('unsubscribes: no update afterwards, while another subscription keeps receiving', async () => {
    const slug = await open();
    const barrier = await open();
    const gone = recorder();
    const kept = recorder();
    const feed = feedOf(service);
    const subscription = feed.subscribe(slug, gone.handlers);
    await subscription.ready;
    await feed.subscribe(barrier, kept.handlers).ready;
    await subscription.unsubscribe();
    await client.recordEntry(slug, newEntry(signing()));
    const last = await client.recordEntry(barrier, newEntry(signing()));
    // The server sends one socket's updates in log order: once the later one is here, the earlier would be too.
    await until(() => kept.updates.length === 1, 'the barrier update');
    expect(kept.updates[0].position).toBe(last.position);
    expect(gone.updates).toEqual([]);
    expect(() => feed.subscribe(barrier, kept.handlers)).toThrow(LiveFeedError);

    feed.close();
    expect(() => feed.subscribe(slug, gone.handlers)).toThrow(/closed/);
  });
});
