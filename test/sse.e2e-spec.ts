/**
 * GET /timelines/:slug/stream, end to end: the real service on a random port
 * over a fresh SQLite store, read by clients we do not ship: the `eventsource`
 * package (a WHATWG EventSource) and plain fetch with eventsource-parser
 * (./support/sse-reader.ts). What a stream sends is compared with what a
 * socket.io client of the same service receives, and with what the writes
 * answered: the same positions, the same payloads.
 */
import { EventSource } from 'eventsource';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { openFeed, type TimelineFeed } from '@timeline/client';
import { request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { SseStreams } from '../apps/timeline-service/src/live/sse-streams';
import { announcement, apiAt, expectError, expectFieldError, openTimeline, recordEntry, type Api, type Body, type Written } from './support/http';
import { closeAllLive, connectLive, record, subscribeOk, type LiveUpdate } from './support/live-client';
import { startService, useService } from './support/service';
import { closeAllSse, openSse } from './support/sse-reader';

jest.setTimeout(20_000);
afterEach(() => {
  closeAllSse();
  closeAllLive();
});

const MAX_REPLAY = 40;
const { api, service } = useService({ LIVE_MAX_REPLAY: String(MAX_REPLAY), LIVE_MAX_QUEUED: '20', SSE_HEARTBEAT_MS: '200' });
const streamUrl = (slug: string, query = '') => `${service().url}/timelines/${slug}/stream${query}`;

async function correct(api: Api, entryId: string, revision: number, changes: Body): Promise<Written> {
  const reply = await api.patch(`/entries/${entryId}`, { changes, reason: 'a better source' }, { 'If-Match': `"${revision}"` });
  if (reply.status !== 200) throw new Error(`correcting answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

describe('GET /timelines/:slug/stream', () => {
  it('sends each change as a message: id its position, event its type, data the socket.io update', async () => {
    const slug = await openTimeline(api(), 'sse-live');
    const socket = await connectLive(service().url);
    const socketUpdates = record<LiveUpdate>(socket, 'update');
    await subscribeOk(socket, { timeline: slug });
    const source = new EventSource(streamUrl(slug));
    const received: MessageEvent[] = [];
    for (const type of ['entry.recorded', 'entry.corrected', 'entry.retracted']) source.addEventListener(type, (e) => received.push(e));
    await new Promise<void>((resolve, reject) => {
      source.onopen = () => resolve();
      source.onerror = () => reject(new Error('the EventSource failed to open'));
    });
    try {
      const written = await recordEntry(api(), slug, announcement());
      await correct(api(), written.entryId, 0, { title: 'A corrected title' });
      expect((await api().post(`/entries/${written.entryId}/retraction`, { reason: 'never happened' })).status).toBe(200);
      await socketUpdates.waitFor(3);
      const deadline = Date.now() + 5000;
      while (received.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(received.map((e) => [e.type, e.lastEventId])).toEqual(socketUpdates.items.map((u) => [u.type, u.position]));
      expect(received.map((e) => JSON.parse(e.data as string))).toEqual(socketUpdates.items);
      expect(received[0]!.lastEventId).toBe(written.position);
    } finally {
      source.close();
    }
  });

  it('says how to reconnect and keeps proxies from buffering or closing it (headers, retry, heartbeats)', async () => {
    const slug = await openTimeline(api(), 'sse-headers');
    const reader = await openSse(streamUrl(slug));
    expect(reader.status).toBe(200);
    expect(reader.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(reader.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(reader.headers.get('x-accel-buffering')).toBe('no');
    await reader.waitFor(() => reader.comments.length >= 2, 'two heartbeats', 3000); // SSE_HEARTBEAT_MS=200
    expect(reader.comments[0]).toMatch(/^ ?heartbeat$/);
    expect(reader.retries).toEqual([2000]);
    expect(reader.messages).toEqual([]);
    // Counted as the live sockets are.
    const metrics = await (await fetch(`${service().url}/metrics`)).text();
    const open = service().app.get(SseStreams).count();
    expect(open).toBeGreaterThanOrEqual(1);
    expect(metrics).toContain(`\ntimeline_live_sse_streams ${open}\n`);
  });

  it('resumes after ?after= or Last-Event-ID (which wins): what was missed, in order, then live', async () => {
    const slug = await openTimeline(api(), 'sse-resume');
    const w = [];
    for (let i = 0; i < 3; i++) w.push(await recordEntry(api(), slug, announcement({ title: `Entry ${i}` })));
    const byAfter = await openSse(streamUrl(slug, `?after=${w[0]!.position}`));
    const byHeader = await openSse(streamUrl(slug, `?after=${w[0]!.position}`), { 'Last-Event-ID': w[1]!.position });
    const live = await recordEntry(api(), slug, announcement({ title: 'Live' }));
    const ids = async (reader: typeof byAfter, n: number) => (await reader.waitForMessages(n)).map((m) => m.id);
    expect(await ids(byAfter, 3)).toEqual([w[1]!.position, w[2]!.position, live.position]);
    expect(await ids(byHeader, 2)).toEqual([w[2]!.position, live.position]);
    expect(JSON.parse(byAfter.messages[0]!.data)).toMatchObject({ timeline: slug, position: w[1]!.position, type: 'entry.recorded', entry: { title: 'Entry 1' } });
  });

  it('resumes under concurrent writes with no gap and no duplicate across a reconnect', async () => {
    const slug = await openTimeline(api(), 'sse-concurrent');
    const first = await recordEntry(api(), slug, announcement({ title: 'Before' }));
    const written: string[] = [];
    let writing = true;
    const writer = (async () => {
      // Records and corrects without pause while the reader comes and goes.
      for (let i = 0; writing || i < 30; i++) {
        const entry = await recordEntry(api(), slug, announcement({ title: `Entry ${i}` }));
        written.push(entry.position);
        written.push((await correct(api(), entry.entryId, 0, { title: `Entry ${i}, corrected` })).position);
      }
    })();
    const got: string[] = [];
    let after = first.position;
    for (let round = 0; round < 3; round++) {
      const reader = await openSse(streamUrl(slug, `?after=${first.position}`), { 'Last-Event-ID': after });
      const messages = await reader.waitForMessages(5 + round * 3);
      reader.close(); // mid-stream: more is on its way
      got.push(...messages.map((m) => m.id ?? "(no id)"));
      after = messages[messages.length - 1]!.id!;
    }
    writing = false;
    await writer;
    const last = await openSse(streamUrl(slug), { 'Last-Event-ID': after });
    await last.waitFor(() => last.messages.at(-1)?.id === written.at(-1), 'the last write');
    got.push(...last.messages.map((m) => m.id ?? "(no id)"));
    expect(got.length).toBe(new Set(got).size);
    expect(got).toEqual(written);
  });

  it(`ends with event: resync when more than LIVE_MAX_REPLAY (${MAX_REPLAY}) changes were missed`, async () => {
    const slug = await openTimeline(api(), 'sse-resync');
    const first = await recordEntry(api(), slug, announcement());
    for (let i = 0; i <= MAX_REPLAY; i++) await recordEntry(api(), slug, announcement({ title: `Entry ${i}` }));
    const reader = await openSse(streamUrl(slug, `?after=${first.position}`));
    await reader.ended;
    expect(reader.messages.map((m) => [m.event, JSON.parse(m.data)])).toEqual([['resync', { timeline: slug, reason: 'resync_required' }]]);
  });

  it('refuses a malformed Last-Event-ID or after with a 400 naming it, an unknown timeline with a 404', async () => {
    const slug = await openTimeline(api(), 'sse-bad');
    for (const [query, headers, field] of [
      ['?after=42', {}, 'after'],
      ['?after=00000000000000000001', { 'Last-Event-ID': 'nope' }, 'Last-Event-ID'],
      ['', { 'Last-Event-ID': '00000000000000000001x' }, 'Last-Event-ID'],
    ] as const) {
      const reply = await api().get(`/timelines/${slug}/stream${query}`, headers);
      expectFieldError(reply, field);
    }
    expectError(await api().get('/timelines/no-such-timeline/stream'), 404, 'timeline_not_found');
    expect(service().app.get(SseStreams).count()).toBe(0);
  });

  it('drops a reader that stopped reading once LIVE_MAX_QUEUED messages wait for it, and keeps serving the others', async () => {
    const slug = await openTimeline(api(), 'sse-slow');
    const streams = service().app.get(SseStreams);
    const healthy = await openSse(streamUrl(slug));
    const slow = await new Promise<IncomingMessage>((resolve, reject) => httpRequest(streamUrl(slug)).on('response', resolve).on('error', reject).end());
    slow.pause(); // reads nothing more: the kernel buffers fill, then the server's
    expect(streams.count()).toBe(2);
    const big = () => announcement({ summary: 's'.repeat(4000), sources: Array.from({ length: 20 }, (_, i) => ({ title: `Source ${i} `.padEnd(300, 't'), url: `https://example.org/${'u'.repeat(400)}` })) });
    const written: string[] = [];
    const deadline = Date.now() + 12_000;
    const writer = async () => {
      while (streams.count() === 2 && Date.now() < deadline) written.push((await recordEntry(api(), slug, big())).position);
    };
    await Promise.all(Array.from({ length: 8 }, writer));
    expect(streams.count()).toBe(1);
    written.push((await recordEntry(api(), slug, big())).position);
    written.sort();
    await healthy.waitFor(() => healthy.messages.length === written.length, 'every write');
    expect(healthy.messages.map((m) => m.id)).toEqual(written);
    // Reading again, the slow reader finds every change up to where it was dropped, then the resync, then the end.
    const chunks: Buffer[] = [];
    slow.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise((resolve) => slow.on('end', resolve).resume());
    const messages: EventSourceMessage[] = [];
    createParser({ onEvent: (m) => messages.push(m) }).feed(Buffer.concat(chunks).toString());
    const updates = messages.slice(0, -1).map((m) => m.id);
    expect(updates.length).toBeGreaterThan(0);
    expect(updates).toEqual(written.slice(0, updates.length));
    expect(messages.at(-1)).toMatchObject({ event: 'resync', data: JSON.stringify({ timeline: slug, reason: 'slow_consumer' }) });
  });
});

describe("@timeline/client's feed over SSE (openFeed({ transport: 'sse' }))", () => {
  const until = async (done: () => boolean, what: string) => {
    const deadline = Date.now() + 5000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  let feed: TimelineFeed | undefined;
  afterEach(() => feed?.close());

  it('delivers every change after the snapshot, and after a dropped connection exactly what was missed', async () => {
    const slug = await openTimeline(api(), 'sse-client');
    const before = await recordEntry(api(), slug, announcement({ title: 'In the snapshot' }));
    const updates: LiveUpdate[] = [];
    const streams = new Set<Socket>();
    const track = (request: IncomingMessage) => request.url?.includes('/stream') && streams.add(request.socket);
    const server = service().app.getHttpServer() as Server;
    server.on('request', track);
    const states: string[] = [];
    feed = openFeed({ baseUrl: service().url, transport: 'sse', reconnectAfterServerDisconnectMs: 50, onConnection: (state) => states.push(state) });
    const subscription = feed.subscribe(slug, { onUpdate: (u) => updates.push(u as LiveUpdate) }, { after: before.position });
    expect(await subscription.ready).toBe(before.position);
    const written = [await recordEntry(api(), slug, announcement({ title: 'Live' }))];
    await until(() => updates.length === 1, 'the live update');
    expect(streams.size).toBe(1);
    streams.forEach((socket) => socket.destroy()); // the stream drops; the client reconnects
    server.off('request', track);
    written.push(await recordEntry(api(), slug, announcement({ title: 'Missed' })));
    written.push(await correct(api(), written[1]!.entryId, 0, { title: 'Missed, corrected' }));
    await until(() => updates.length === 3, 'the missed updates');
    written.push(await recordEntry(api(), slug, announcement({ title: 'After' })));
    await until(() => updates.length === 4, 'the update after the reconnect');
    expect(updates.map((u) => u.position)).toEqual(written.map((w) => w.position));
    expect(updates.map((u) => u.type)).toEqual(['entry.recorded', 'entry.recorded', 'entry.corrected', 'entry.recorded']);
    expect(subscription.position).toBe(written.at(-1)!.position);
    expect(states.filter((state) => state === 'connected')).toHaveLength(2);
  });

  it('asks onResync past the replay bound and continues after its position; refuses an unknown timeline as not_found', async () => {
    const slug = await openTimeline(api(), 'sse-client-resync');
    const first = await recordEntry(api(), slug, announcement());
    for (let i = 0; i <= MAX_REPLAY; i++) await recordEntry(api(), slug, announcement({ title: `Entry ${i}` }));
    const head = (await api().get(`/timelines/${slug}/entries?limit=1`)).body.position as string;
    const updates: LiveUpdate[] = [];
    const resyncs: string[] = [];
    feed = openFeed({ baseUrl: service().url, transport: 'sse', reconnectAfterServerDisconnectMs: 50 });
    feed.subscribe(slug, { onUpdate: (u) => updates.push(u as LiveUpdate), onResync: (e) => (resyncs.push(e.reason), head) }, { after: first.position });
    await until(() => resyncs.length === 1, 'the resync');
    const after = await recordEntry(api(), slug, announcement({ title: 'After the reload' }));
    await until(() => updates.length === 1, 'the update after the reload');
    expect(resyncs).toEqual(['resync_required']);
    expect(updates[0]!.position).toBe(after.position);

    const errors: string[] = [];
    feed.subscribe('no-such-timeline', { onUpdate: () => undefined, onError: (e) => errors.push(e.code) });
    await until(() => errors.length === 1, 'the refusal');
    expect(errors).toEqual(['not_found']);
  });
});

describe('GET /timelines/:slug/stream when reads are not public', () => {
  const READER = 'reader-key-0123456789abcdef';
  const EDITOR = 'editor-key-0123456789abcdef';

  it('answers 401 without a token or with a wrong one, streams to a reader within the subscribe limit, and ends its streams on shutdown', async () => {
    const s = await startService({ API_KEYS: `desk:reader:${READER},jane:editor:${EDITOR}`, PUBLIC_READS: 'false', RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '3' });
    let stopped = false;
    try {
      const editor = apiAt(s.url);
      const slug = `sse-private-${Date.now()}`;
      expect((await editor.post('/timelines', { slug, title: 'Private' }, { authorization: `Bearer ${EDITOR}` })).status).toBe(201);
      const url = `${s.url}/timelines/${slug}/stream`;
      expectError(await editor.get(`/timelines/${slug}/stream`), 401, 'unauthorized');
      expectError(await editor.get(`/timelines/${slug}/stream`, { authorization: 'Bearer not-a-key-0123456789' }), 401, 'unauthorized');
      const reader = await openSse(url, { authorization: `Bearer ${READER}` });
      expect(reader.status).toBe(200);
      const posted = await editor.post(`/timelines/${slug}/entries`, announcement(), { authorization: `Bearer ${EDITOR}` });
      expect((await reader.waitForMessages(1))[0]!.id).toBe(posted.body.position);
      // Opening a stream is a subscribe, limited as the socket's are (3 a minute here).
      const more = [await openSse(url, { authorization: `Bearer ${READER}` }), await openSse(url, { authorization: `Bearer ${READER}` })];
      expect(more.map((r) => r.status)).toEqual([200, 200]);
      expectError(await editor.get(`/timelines/${slug}/stream`, { authorization: `Bearer ${READER}` }), 429, 'too_many_requests');
      // app.close() with the stream still open: it says so, ends the stream, and does not hang.
      await s.stop();
      stopped = true;
      await reader.ended;
      expect(reader.messages.map((m) => m.event)).toEqual(['entry.recorded', 'shutdown']);
    } finally {
      if (!stopped) await s.stop();
    }
  });
});
