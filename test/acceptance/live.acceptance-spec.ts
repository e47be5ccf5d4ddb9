/**
 * The live feed of the BUILT service (node dist/.../main.js as its own process),
 * spoken to only as a client would: HTTP writes with global fetch, and the plain
 * socket.io-client package on the /live namespace.
 *
 * It proves the contract of README "Live feed" and docs/asyncapi.yaml:
 *   - every subscribe/unsubscribe is answered by its ack ({ok: true, position} /
 *     {ok: true}, or {ok: false, error: {code, reason, message}}), never by a bare
 *     `exception` event: not_found for an unknown timeline (reason
 *     timeline_not_found, HTTP's code for it), invalid (naming the field) for a
 *     bad payload, resync_required past LIVE_MAX_REPLAY;
 *   - updates come in log order (positions strictly increasing), typed
 *     entry.recorded / entry.corrected / entry.retracted, carrying the entry as
 *     GET /entries/:id shows it;
 *   - a client that reconnects and subscribes after the last position it saw gets
 *     exactly what it missed (a record, a correction, a retraction), in order;
 *   - a snapshot from GET /timelines/:slug/entries plus a subscribe after its
 *     position covers every entry exactly once while a writer is busy;
 *   - after unsubscribe nothing more comes for that timeline.
 *
 * No sleeps: every wait polls for a condition with a deadline. To show that
 * something was NOT sent, a test writes a later change the same socket does
 * receive (a barrier): one socket's updates come in log order, so whatever was
 * sent before the barrier has arrived once the barrier has.
 *
 * The same tests run on either store (ACCEPTANCE_STORE, see ./support/store.ts):
 * only the form of a position differs, as README documents it.
 */
import { io, type Socket } from 'socket.io-client';
import { announcement, apiAt, delivery, signing as exampleSigning, type Body, type Entry, type Page, type Reply, type Written } from './support/api';
import { startService, SEEDED, type RunningService } from './support/artifact';
import { POSITION } from './support/store';

jest.setTimeout(60_000);

// POSITION (./support/store.ts): a position of the store this run uses, as README documents it.
const ACK_TIMEOUT_MS = 5_000;
const WAIT_MS = 10_000;

// ---------------------------------------------------------------------------
// Shapes (docs/asyncapi.yaml)

type UpdateType = 'entry.recorded' | 'entry.corrected' | 'entry.retracted';

interface Update {
  timeline: string;
  position: string;
  type: UpdateType;
  entry: Entry;
}

type Ack = { ok: true; position?: string | null } | { ok: false; error: { code: string; reason: string; message: string } };

// ---------------------------------------------------------------------------
// Entry bodies: the shared examples, except that this spec's signing is the one
// of test/support/http.ts (a "support" accord, without sources)

const signing = (overrides: Body = {}): Body =>
  exampleSigning({ title: 'Japan and Ukraine sign a ten-year support accord', ...overrides }, { omit: ['sources'] });

// ---------------------------------------------------------------------------
// Waiting

/** Polls `probe` until it returns something truthy; fails after `timeoutMs`, saying what it waited for and what it saw. */
async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = WAIT_MS, seen: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms ${seen()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---------------------------------------------------------------------------
// HTTP, with global fetch (./support/api.ts)

/** The shared client, opening timelines this file's way: `<prefix>-<n>-<random>`, titled `Acceptance <prefix>`. */
function httpAt(base: string) {
  const api = apiAt(base);
  let opened = 0;
  return {
    ...api,
    /** POST /timelines with a fresh slug; returns the slug. (In place of the shared one, which takes the whole {slug, title}.) */
    openTimeline(prefix: string): Promise<string> {
      opened += 1;
      return api.openTimeline({ slug: `${prefix}-${opened}-${Math.random().toString(36).slice(2, 8)}`, title: `Acceptance ${prefix}` });
    },
    /** GET /health's checkpoint: the read model's position. */
    checkpoint: async (): Promise<string | null> => (await api.health()).checkpoint,
  };
}

type Http = ReturnType<typeof httpAt>;

// ---------------------------------------------------------------------------
// Live connections, with plain socket.io-client

interface Live {
  socket: Socket;
  /** Every `update` received, in arrival order, from the moment of connecting. */
  updates: Update[];
  /** Every bare `exception` event received: the contract says there are none. */
  exceptions: unknown[];
  subscribe(...args: unknown[]): Promise<Ack>;
  unsubscribe(...args: unknown[]): Promise<Ack>;
  /** Waits until an update at `position` has arrived; returns every update so far. */
  updateAt(position: string, timeoutMs?: number): Promise<Update[]>;
  /** Waits for the (re)connection. */
  connected(): Promise<void>;
}

const connections = new Set<Live>();

/** A connection to `${base}/live` over WebSocket, without automatic reconnection (tests reconnect on purpose). */
async function connectLive(base: string): Promise<Live> {
  const socket = io(`${base}/live`, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: ACK_TIMEOUT_MS });
  const updates: Update[] = [];
  const exceptions: unknown[] = [];
  socket.on('update', (update: Update) => updates.push(update));
  socket.on('exception', (payload: unknown) => exceptions.push(payload));
  const describe = () => `(received ${updates.map((u) => `${u.timeline}@${u.position}:${u.type}`).join(', ') || 'nothing'})`;
  async function ask(event: string, args: unknown[]): Promise<Ack> {
    try {
      return (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, ...args)) as Ack;
    } catch (error) {
      throw new Error(`no ack to ${event} ${JSON.stringify(args)} within ${ACK_TIMEOUT_MS} ms; exception events: ${JSON.stringify(exceptions)}`, { cause: error });
    }
  }
  const live: Live = {
    socket,
    updates,
    exceptions,
    subscribe: (...args) => ask('subscribe', args),
    unsubscribe: (...args) => ask('unsubscribe', args),
    updateAt: (position, timeoutMs = WAIT_MS) =>
      until(`an update at ${position}`, () => updates.some((u) => u.position === position) && [...updates], timeoutMs, describe),
    connected: () =>
      new Promise<void>((resolve, reject) => {
        if (socket.connected) return resolve();
        const timer = setTimeout(() => reject(new Error(`no connection to ${base}/live within ${ACK_TIMEOUT_MS} ms`)), ACK_TIMEOUT_MS);
        socket.once('connect', () => (clearTimeout(timer), resolve()));
        socket.once('connect_error', (error) => (clearTimeout(timer), reject(error)));
      }),
  };
  connections.add(live);
  await live.connected();
  return live;
}

async function subscribeOk(live: Live, payload: { timeline: string; after?: string }): Promise<string> {
  const ack = await live.subscribe(payload);
  if (!ack.ok) throw new Error(`subscribe ${JSON.stringify(payload)} was refused: ${JSON.stringify(ack)}`);
  expect(ack.position).toMatch(POSITION);
  return ack.position!;
}

const positionsOf = (updates: Update[]) => updates.map((u) => u.position);
const inLogOrder = (positions: string[]) => [...positions].sort();

function expectStrictlyIncreasing(positions: string[]): void {
  const offending = positions.flatMap((p, i) => (i > 0 && p <= positions[i - 1] ? [`${positions[i - 1]} then ${p}`] : []));
  expect(offending).toEqual([]);
}

// Every socket a test opened is closed after it, pass or fail; and none of them got a bare `exception`.
afterEach(() => {
  const all = [...connections];
  connections.clear();
  for (const live of all) live.socket.disconnect();
  expect(all.flatMap((live) => live.exceptions)).toEqual([]);
});

// ---------------------------------------------------------------------------

describe('the live feed of the built service', () => {
  let service: RunningService;
  let http: Http;
  beforeAll(async () => {
    service = await startService();
    http = httpAt(service.url);
  });
  afterAll(async () => {
    await service?.stop();
  });

  describe('subscribe and unsubscribe are answered by ack', () => {
    it('acks a subscribe with {ok: true, position}: the read model position, the one GET /timelines/:slug/entries gives', async () => {
      const live = await connectLive(service.url);
      const seeded = await live.subscribe({ timeline: SEEDED });
      expect(seeded).toEqual({ ok: true, position: expect.stringMatching(POSITION) });
      const snapshot = await http.get<Page>(`/timelines/${SEEDED}/entries?limit=1`);
      expect(snapshot.status).toBe(200);
      expect(seeded).toEqual({ ok: true, position: snapshot.body.position });
      expect(seeded).toEqual({ ok: true, position: await http.checkpoint() });

      const slug = await http.openTimeline('live-ack');
      const fresh = await live.subscribe({ timeline: slug });
      expect(fresh).toEqual({ ok: true, position: await http.checkpoint() });
      // Opening the timeline was an event: the position moved on.
      expect(fresh.ok && seeded.ok && fresh.position! > seeded.position!).toBe(true);
    });

    it('answers not_found, naming the timeline, for a timeline that does not exist; the socket then subscribes fine', async () => {
      const live = await connectLive(service.url);
      expect(await live.subscribe({ timeline: 'no-such-timeline' })).toEqual({
        ok: false,
        error: { code: 'not_found', reason: 'timeline_not_found', message: expect.stringContaining('no-such-timeline') },
      });
      // A valid position does not make an unknown timeline known.
      expect(await live.subscribe({ timeline: 'no-such-timeline', after: '00000000000000000001' })).toEqual({
        ok: false,
        error: { code: 'not_found', reason: 'timeline_not_found', message: expect.stringContaining('no-such-timeline') },
      });
      expect(live.socket.connected).toBe(true);
      await subscribeOk(live, { timeline: SEEDED });
    });

    it('gives the same code for an unknown timeline as HTTP does: the ack\'s reason is GET /timelines/:slug\'s code', async () => {
      const live = await connectLive(service.url);
      const ack = await live.subscribe({ timeline: 'no-such-timeline' });
      const viaHttp = await http.get<{ code: string; message: string }>('/timelines/no-such-timeline');
      expect(viaHttp.status).toBe(404);
      expect(ack).toEqual({ ok: false, error: { code: 'not_found', reason: viaHttp.body.code, message: viaHttp.body.message } });
    });

    // [case, the emit's arguments (after the event name), a word the message must contain]
    const badSubscribes: Array<[string, unknown[], RegExp]> = [
      ['a number as timeline', [{ timeline: 42 }], /\btimeline\b/],
      ['an array as timeline', [{ timeline: [SEEDED] }], /\btimeline\b/],
      ['an upper-case timeline', [{ timeline: 'Japan-Ukraine' }], /\btimeline\b/],
      ['no timeline', [{ after: '00000000000000000001' }], /\btimeline\b/],
      ['a number as after', [{ timeline: SEEDED, after: 20 }], /\bafter\b/],
      ['a word as after', [{ timeline: SEEDED, after: 'latest' }], /\bafter\b/],
      ['a string as batch', [{ timeline: SEEDED, batch: 'yes' }], /\bbatch\b/],
      ['an unknown field', [{ timeline: SEEDED, colour: 'red' }], /\bcolour\b/],
      ['a string, not an object', [SEEDED], /\bpayload\b/],
      ['an array, not an object', [[SEEDED]], /\bpayload\b/],
      ['null', [null], /\bpayload\b/],
      ['no payload at all', [], /\bpayload\b/],
      ['a payload over 2048 bytes', [{ timeline: SEEDED, note: 'x'.repeat(2100) }], /2048/],
    ];

    it.each(badSubscribes)('answers a subscribe with %s by {ok: false, error: {code: invalid}}, naming the field', async (_case, args, field) => {
      const live = await connectLive(service.url);
      const ack = await live.subscribe(...args);
      expect(ack).toEqual({ ok: false, error: { code: 'invalid', reason: 'invalid', message: expect.stringMatching(field) } });
      // The socket is still usable, and the refusal subscribed nothing.
      expect(live.socket.connected).toBe(true);
      expect(live.exceptions).toEqual([]);
      await subscribeOk(live, { timeline: SEEDED });
    });

    const badUnsubscribes: Array<[string, unknown[], RegExp]> = [
      ['a number as timeline', [{ timeline: 5 }], /\btimeline\b/],
      ['no timeline', [{}], /\btimeline\b/],
      ['an unknown field', [{ timeline: SEEDED, after: '00000000000000000001' }], /\bafter\b/],
      ['a string, not an object', [SEEDED], /\bpayload\b/],
      ['null', [null], /\bpayload\b/],
    ];

    it.each(badUnsubscribes)('answers an unsubscribe with %s by {ok: false, error: {code: invalid}}, naming the field', async (_case, args, field) => {
      const live = await connectLive(service.url);
      expect(await live.unsubscribe(...args)).toEqual({ ok: false, error: { code: 'invalid', reason: 'invalid', message: expect.stringMatching(field) } });
      expect(live.socket.connected).toBe(true);
      expect(live.exceptions).toEqual([]);
      expect(await live.unsubscribe({ timeline: SEEDED })).toEqual({ ok: true });
    });

    it('answers unsubscribe {ok: true}, and afterwards sends nothing more for that timeline', async () => {
      const followed = await http.openTimeline('live-followed');
      const barrier = await http.openTimeline('live-barrier');
      const live = await connectLive(service.url);
      await subscribeOk(live, { timeline: followed });
      await subscribeOk(live, { timeline: barrier });

      const seen = await http.record(followed, announcement());
      await live.updateAt(seen.position);

      expect(await live.unsubscribe({ timeline: followed })).toEqual({ ok: true });
      // Changes to the timeline it left: a new entry, and a correction and a retraction of the entry it saw.
      const unseen = [
        await http.record(followed, signing({ title: 'Recorded after unsubscribing' })),
        await http.correct(seen.entryId, { title: 'Corrected after unsubscribing' }, { reason: 'a better source' }),
        await http.retract(seen.entryId, 'retracted after unsubscribing'),
      ];
      const last = await http.record(barrier, delivery());
      await live.updateAt(last.position);

      expect(unseen.every((w) => w.position < last.position)).toBe(true);
      expect(live.updates.map((u) => [u.timeline, u.position, u.type])).toEqual([
        [followed, seen.position, 'entry.recorded'],
        [barrier, last.position, 'entry.recorded'],
      ]);
      // Unsubscribing again, or from a timeline never followed, is not an error.
      expect(await live.unsubscribe({ timeline: followed })).toEqual({ ok: true });
      expect(await live.unsubscribe({ timeline: SEEDED })).toEqual({ ok: true });
    });
  });

  describe('updates', () => {
    it('pushes every change of the timeline in log order, typed entry.recorded / corrected / retracted, with the entry as GET /entries/:id shows it', async () => {
      const slug = await http.openTimeline('live-order');
      const other = await http.openTimeline('live-order-other');
      const live = await connectLive(service.url);
      await subscribeOk(live, { timeline: slug });

      // Eight records at once (and noise elsewhere): the feed must put them in log order whatever order they are answered in.
      const bodies = [announcement, signing, delivery, announcement, signing, delivery, announcement, signing].map((make, i) => make({ title: `Concurrent entry ${i}` }));
      const [recorded] = await Promise.all([Promise.all(bodies.map((body) => http.record(slug, body))), http.record(other, signing())]);
      const corrected = await http.correct(recorded[0].entryId, { title: 'Concurrent entry 0, corrected' }, { reason: 'the figure was updated' });
      const retracted = await http.retract(recorded[1].entryId, 'recorded twice');
      await live.updateAt(retracted.position);

      const received = positionsOf(live.updates);
      expectStrictlyIncreasing(received);
      expect(received).toEqual([...inLogOrder(recorded.map((w) => w.position)), corrected.position, retracted.position]);
      expect(live.updates.every((u) => u.timeline === slug && u.entry.timeline === slug && u.entry.position === u.position)).toBe(true);
      expect(live.updates.map((u) => u.type)).toEqual([...recorded.map(() => 'entry.recorded'), 'entry.corrected', 'entry.retracted']);

      const byPosition = new Map(live.updates.map((u) => [u.position, u]));
      for (const [i, w] of recorded.entries()) {
        expect(byPosition.get(w.position)!.entry).toMatchObject({ ...bodies[i], entryId: w.entryId, revision: 0, status: 'active', corrections: [] });
      }
      expect(byPosition.get(corrected.position)!.entry).toMatchObject({
        entryId: recorded[0].entryId,
        title: 'Concurrent entry 0, corrected',
        revision: 1,
        status: 'active',
        corrections: [expect.objectContaining({ revision: 1, reason: 'the figure was updated', fields: ['title'] })],
      });
      expect(byPosition.get(retracted.position)!.entry).toMatchObject({
        entryId: recorded[1].entryId,
        revision: 1,
        status: 'retracted',
        retraction: expect.objectContaining({ reason: 'recorded twice' }),
      });
      // The last update of each entry is the entry as the HTTP API serves it now.
      const latest = new Map(live.updates.map((u) => [u.entry.entryId, u.entry]));
      for (const [entryId, entry] of latest) expect(entry).toEqual(await http.read<Entry>(`/entries/${entryId}`));
    });
  });

  describe('resuming', () => {
    it('a client that reconnects and subscribes after the last position it saw receives exactly what it missed, in order', async () => {
      const slug = await http.openTimeline('live-resume');
      const other = await http.openTimeline('live-resume-other');
      const live = await connectLive(service.url);
      await subscribeOk(live, { timeline: slug });
      const a = await http.record(slug, announcement());
      const b = await http.record(slug, signing());
      await live.updateAt(b.position);
      expect(positionsOf(live.updates)).toEqual([a.position, b.position]);
      const lastSeen = live.updates[live.updates.length - 1].position;

      live.socket.disconnect();
      expect(live.socket.connected).toBe(false);
      // While it is away: a new entry, a correction of one it saw, a retraction of the other, and noise elsewhere.
      const missed: Array<[Written, UpdateType]> = [];
      missed.push([await http.record(slug, delivery({ title: 'Recorded while away' })), 'entry.recorded']);
      await http.record(other, signing());
      missed.push([await http.correct(a.entryId, { title: 'Corrected while away' }, { reason: 'a second source' }), 'entry.corrected']);
      missed.push([await http.retract(b.entryId, 'retracted while away'), 'entry.retracted']);
      expect(live.updates).toHaveLength(2); // nothing arrives on a closed socket

      live.socket.connect();
      await live.connected();
      const ack = await live.subscribe({ timeline: slug, after: lastSeen });
      expect(ack).toEqual({ ok: true, position: await http.checkpoint() });
      const replayed = (await live.updateAt(missed[missed.length - 1][0].position)).slice(2);
      // A live change after the replay is the barrier: nothing else came in between or before it.
      const afterwards = await http.record(slug, signing({ title: 'Recorded after resuming' }));
      const resumed = (await live.updateAt(afterwards.position)).slice(2);

      expect(resumed.map((u) => [u.position, u.type])).toEqual([...missed.map(([w, type]) => [w.position, type]), [afterwards.position, 'entry.recorded']]);
      expect(replayed).toEqual(resumed.slice(0, missed.length));
      expectStrictlyIncreasing(positionsOf(resumed));
      expect(resumed.every((u) => u.timeline === slug)).toBe(true);
      expect(resumed.map((u) => [u.entry.entryId, u.entry.revision])).toEqual([...missed.map(([w]) => [w.entryId, w.revision]), [afterwards.entryId, 0]]);
      expect(resumed[1].entry).toMatchObject({
        entryId: a.entryId,
        title: 'Corrected while away',
        status: 'active',
        corrections: [expect.objectContaining({ revision: 1, reason: 'a second source', fields: ['title'] })],
      });
      expect(resumed[2].entry).toMatchObject({ entryId: b.entryId, status: 'retracted', retraction: expect.objectContaining({ reason: 'retracted while away' }) });
      expect(resumed[2].entry).toEqual(await http.read<Entry>(`/entries/${b.entryId}`));
    });

    it('a snapshot from GET /timelines/:slug/entries and a subscribe after its position cover every entry exactly once while a writer is busy', async () => {
      const slug = await http.openTimeline('live-handover');
      const writes: Written[] = [];
      let stop = false;
      async function writer(n: number): Promise<void> {
        for (let i = 0; !stop && i < 150; i++) writes.push(await http.record(slug, [announcement, signing, delivery][i % 3]({ title: `Writer ${n} entry ${i}` })));
      }
      const writers = Promise.all([1, 2].map(writer));
      let snapshot!: Reply<Page>;
      let after!: string;
      let live!: Live;
      try {
        await until('the writers to be under way', () => writes.length >= 10);
        live = await connectLive(service.url);
        snapshot = await http.get<Page>(`/timelines/${slug}/entries?limit=500&includeRetracted=true`);
        expect(snapshot.status).toBe(200);
        after = snapshot.body.position!;
        expect(after).toMatch(POSITION);
        const ack = await live.subscribe({ timeline: slug, after });
        // The ack's position is `after`, or the checkpoint when that has already moved on.
        expect(ack).toEqual({ ok: true, position: expect.stringMatching(POSITION) });
        expect(ack.ok && ack.position! >= after).toBe(true);
        const atSubscribe = writes.length;
        await until('the writers to keep going after the subscribe', () => writes.length >= atSubscribe + 20);
      } finally {
        stop = true;
        await writers;
      }
      const last = inLogOrder(writes.map((w) => w.position)).pop()!;
      await live.updateAt(last);

      const snapshotIds: string[] = snapshot.body.items.map((e) => e.entryId);
      const updateIds = live.updates.map((u) => u.entry.entryId);
      // The hand-over really happened mid-stream: entries on both sides of the snapshot.
      const before = writes.filter((w) => w.position <= after);
      const later = writes.filter((w) => w.position > after);
      expect(before.length).toBeGreaterThanOrEqual(10);
      expect(later.length).toBeGreaterThanOrEqual(20);
      expect(snapshot.body.nextCursor).toBeNull();

      // The snapshot is exactly the entries up to its position; the updates exactly those after it, in log order.
      expect([...snapshotIds].sort()).toEqual(before.map((w) => w.entryId).sort());
      expect(live.updates.map((u) => [u.position, u.type, u.entry.entryId])).toEqual(
        [...later].sort((x, y) => (x.position < y.position ? -1 : 1)).map((w) => [w.position, 'entry.recorded', w.entryId]),
      );
      // Together: every recorded entry exactly once.
      const together = [...snapshotIds, ...updateIds];
      expect(new Set(together).size).toBe(together.length);
      expect(together.sort()).toEqual(writes.map((w) => w.entryId).sort());
    });
  });
});

describe('the live feed of the built service with LIVE_MAX_REPLAY=3', () => {
  let service: RunningService;
  let http: Http;
  beforeAll(async () => {
    service = await startService({ env: { LIVE_MAX_REPLAY: '3' } });
    http = httpAt(service.url);
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('refuses a resume that missed more than 3 changes with resync_required, replays one that missed 3, and a reloaded snapshot continues', async () => {
    const slug = await http.openTimeline('live-replay');
    const remembered = await http.checkpoint();
    const writes: Written[] = [];
    for (let i = 0; i < 5; i++) writes.push(await http.record(slug, signing({ title: `Entry ${i}` })));

    const live = await connectLive(service.url);
    expect(await live.subscribe({ timeline: slug, after: remembered })).toEqual({
      ok: false,
      error: { code: 'resync_required', reason: 'resync_required', message: expect.any(String) },
    });
    expect(await live.subscribe({ timeline: slug, after: writes[0].position })).toEqual({
      ok: false,
      error: { code: 'resync_required', reason: 'resync_required', message: expect.any(String) },
    });
    expect(live.updates).toEqual([]);

    // Three missed: replayed.
    await subscribeOk(live, { timeline: slug, after: writes[1].position });
    await live.updateAt(writes[4].position);
    expect(positionsOf(live.updates)).toEqual(writes.slice(2).map((w) => w.position));

    // What resync_required asks for: reload over HTTP, subscribe after the snapshot's position.
    const reloaded = await connectLive(service.url);
    const snapshot = await http.get<Page>(`/timelines/${slug}/entries?limit=500`);
    expect(snapshot.body.items).toHaveLength(5);
    await subscribeOk(reloaded, { timeline: slug, after: snapshot.body.position! });
    const next = await http.record(slug, delivery());
    await reloaded.updateAt(next.position);
    expect(positionsOf(reloaded.updates)).toEqual([next.position]);
  });
});
