/**
 * The live feed, end to end: the whole app on a random port over a fresh
 * SQLite store (see ./support/service.ts), with real socket.io clients on the
 * /live namespace (see ./support/live-client.ts).
 *
 * No sleeps: every wait is for an event, with a timeout only as an upper
 * bound. To show that something was NOT sent, a test writes a later change
 * that the same socket does receive (a barrier): the server pushes one
 * socket's updates in log order, so anything sent before the barrier has
 * arrived by the time the barrier has.
 */
import type { Namespace, Socket as ServerSocket } from 'socket.io';
import { LiveGateway } from '../apps/timeline-service/src/live/live.gateway';
import { startService, useService, type RunningService } from './support/service';
import { announcement, apiAt, delivery, openTimeline, recordEntry, signing, type Api, type Body, type Written } from './support/http';
import {
  closeAllLive,
  connectLive,
  emitWithAck,
  nextDisconnect,
  record,
  resumeReading,
  stopReading,
  subscribe,
  subscribeOk,
  unsubscribe,
  type LiveAck,
  type LiveSocket,
  type LiveUpdate,
  type ResyncEvent,
} from './support/live-client';
import { seededRandom } from '../libs/projections/src/testing/seeded-random';

jest.setTimeout(30_000);

const POSITION = /^\d{20}$/;

afterEach(() => closeAllLive());

async function checkpointOf(api: Api): Promise<string | null> {
  const reply = await api.get('/health');
  expect(reply.status).toBe(200);
  return reply.body.checkpoint;
}

async function correct(api: Api, entryId: string, revision: number, changes: Body, reason = 'a better source'): Promise<Written> {
  const reply = await api.patch(`/entries/${entryId}`, { changes, reason }, { 'If-Match': `"${revision}"` });
  if (reply.status !== 200) throw new Error(`correcting ${entryId} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

async function retract(api: Api, entryId: string, reason = 'never happened'): Promise<Written> {
  const reply = await api.post(`/entries/${entryId}/retraction`, { reason });
  if (reply.status !== 200) throw new Error(`retracting ${entryId} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

async function entryOf(api: Api, entryId: string): Promise<Body> {
  const reply = await api.get(`/entries/${entryId}`);
  expect(reply.status).toBe(200);
  return reply.body;
}

const positionsOf = (updates: LiveUpdate[]) => updates.map((u) => u.position);
const sorted = (positions: string[]) => [...positions].sort();
const hasPosition = (position: string) => (updates: LiveUpdate[]) => updates.some((u) => u.position === position);

function expectStrictlyIncreasing(positions: string[]): void {
  const offending = positions.flatMap((p, i) => (i > 0 && p <= positions[i - 1] ? [`${positions[i - 1]} then ${p}`] : []));
  expect(offending).toEqual([]);
}

/** The position `steps` after `position`, same width: for a client that has seen more than this server. */
function positionAfter(position: string, steps: number): string {
  return (BigInt(position) + BigInt(steps)).toString().padStart(position.length, '0');
}

/** The socket.io namespace behind the gateway (the gateway keeps it private). */
function namespaceOf(service: RunningService): Namespace {
  return (service.app.get(LiveGateway) as unknown as { namespace: Namespace }).namespace;
}

/** Packets engine.io holds for this server-side socket, not yet handed to the connection. */
function serverQueue(socket: ServerSocket): number {
  return (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
}

interface Received {
  /** Every update, from `update` and `updates` messages alike, in arrival order. */
  updates: LiveUpdate[];
  /** The messages: 'update', or 'updates:<count>'. */
  messages: string[];
  waitFor(position: string, timeoutMs?: number): Promise<LiveUpdate[]>;
}

/** subscribeOk with `batch` too (the shared helper takes {timeline, after}). */
async function subscribeWithOk(socket: LiveSocket, payload: { timeline: string; after?: string; batch?: boolean }): Promise<string | null> {
  const ack = await subscribe(socket, payload);
  if (!ack.ok) throw new Error(`subscribe ${JSON.stringify(payload)} was refused: ${JSON.stringify(ack)}`);
  return ack.position ?? null;
}

/** Records both `update` and `updates` on a socket, from now on. */
function receive(socket: LiveSocket): Received {
  const updates: LiveUpdate[] = [];
  const messages: string[] = [];
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const check of [...waiters]) check();
  };
  socket.on('update', (update: LiveUpdate) => {
    messages.push('update');
    updates.push(update);
    changed();
  });
  socket.on('updates', (batch: { timeline: string; updates: LiveUpdate[] }) => {
    messages.push(`updates:${batch.updates.length}`);
    expect(batch.updates.every((u) => u.timeline === batch.timeline)).toBe(true);
    updates.push(...batch.updates);
    changed();
  });
  return {
    updates,
    messages,
    waitFor: (position, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!updates.some((u) => u.position === position)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve([...updates]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no update at ${position} within ${timeoutMs} ms; received ${messages.join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

// ---------------------------------------------------------------------------

describe('live feed on /live', () => {
  const { api, service } = useService({}, { beforeStop: closeAllLive });

  describe('subscribe and updates', () => {
    it('acks {ok: true, position} with the checkpoint, then pushes record, correction and retraction as they happen', async () => {
      const slug = await openTimeline(api(), 'live-basic');
      const socket = await connectLive(service().url);
      const updates = record<LiveUpdate>(socket, 'update');
      // What GET /entries/:id answers the moment each update arrives: pushed after commit, so already visible.
      const seenAtPush: Array<Promise<Body>> = [];
      socket.on('update', (u: LiveUpdate) => seenAtPush.push(entryOf(api(), u.entry.entryId)));

      const ack = await subscribe(socket, { timeline: slug });
      expect(ack).toEqual({ ok: true, position: expect.stringMatching(POSITION) });
      expect(ack).toEqual({ ok: true, position: await checkpointOf(api()) });

      const body = announcement({ title: 'Japan pledges 4.5 billion dollars' });
      const recorded = await recordEntry(api(), slug, body);
      const [first] = await updates.waitFor(1);
      const afterRecord = await entryOf(api(), recorded.entryId);

      const corrected = await correct(api(), recorded.entryId, 0, { title: 'Japan pledges 4.6 billion dollars' }, 'figure updated');
      const [, second] = await updates.waitFor(2);
      const afterCorrection = await entryOf(api(), recorded.entryId);

      const retracted = await retract(api(), recorded.entryId, 'wrong story');
      const [, , third] = await updates.waitFor(3);
      const afterRetraction = await entryOf(api(), recorded.entryId);

      expect([recorded.revision, corrected.revision, retracted.revision]).toEqual([0, 1, 2]);
      expect(updates.items).toEqual([
        { timeline: slug, position: recorded.position, type: 'entry.recorded', entry: afterRecord },
        { timeline: slug, position: corrected.position, type: 'entry.corrected', entry: afterCorrection },
        { timeline: slug, position: retracted.position, type: 'entry.retracted', entry: afterRetraction },
      ]);
      expectStrictlyIncreasing(positionsOf(updates.items));
      expect(first.entry).toMatchObject({ ...body, entryId: recorded.entryId, timeline: slug, revision: 0, status: 'active', position: recorded.position, corrections: [] });
      expect(second.entry).toMatchObject({
        title: 'Japan pledges 4.6 billion dollars',
        revision: 1,
        status: 'active',
        position: corrected.position,
        corrections: [expect.objectContaining({ revision: 1, reason: 'figure updated', fields: ['title'] })],
      });
      expect(third.entry).toMatchObject({ revision: 2, status: 'retracted', position: retracted.position, retraction: expect.objectContaining({ reason: 'wrong story' }) });
      expect(first.entry).not.toHaveProperty('retraction');

      // Each update's entry was already what GET /entries/:id served when the update arrived.
      const atPush = await Promise.all(seenAtPush);
      expect(atPush).toEqual([afterRecord, afterCorrection, afterRetraction]);
    });

    it('sends updates only for the subscribed timeline, and unsubscribe ({ok: true}) stops them', async () => {
      const followed = await openTimeline(api(), 'live-followed');
      const other = await openTimeline(api(), 'live-other');
      const barrier = await openTimeline(api(), 'live-barrier');
      const socket = await connectLive(service().url);
      const updates = record<LiveUpdate>(socket, 'update');
      await subscribeOk(socket, { timeline: followed });

      const elsewhere = await recordEntry(api(), other, signing());
      const mine = await recordEntry(api(), followed, delivery());
      await updates.waitUntil(hasPosition(mine.position));
      expect(elsewhere.position < mine.position).toBe(true);
      expect(updates.items.map((u) => [u.timeline, u.position])).toEqual([[followed, mine.position]]);

      expect(await unsubscribe(socket, { timeline: followed })).toEqual({ ok: true });
      await subscribeOk(socket, { timeline: barrier });
      const unfollowed = await recordEntry(api(), followed, signing());
      await correct(api(), mine.entryId, 0, { title: 'Corrected after unsubscribing' });
      const last = await recordEntry(api(), barrier, announcement());
      await updates.waitUntil(hasPosition(last.position));
      expect(unfollowed.position < last.position).toBe(true);
      expect(updates.items.map((u) => [u.timeline, u.position])).toEqual([
        [followed, mine.position],
        [barrier, last.position],
      ]);
    });

    it('answers unsubscribe {ok: true} for a timeline the socket does not follow', async () => {
      const slug = await openTimeline(api(), 'live-never');
      const socket = await connectLive(service().url);
      expect(await unsubscribe(socket, { timeline: slug })).toEqual({ ok: true });
    });

    it('continues after the position in the ack when subscribing without after', async () => {
      const slug = await openTimeline(api(), 'live-noafter');
      const before = await recordEntry(api(), slug, signing());
      const socket = await connectLive(service().url);
      const updates = record<LiveUpdate>(socket, 'update');
      const position = await subscribeOk(socket, { timeline: slug });
      expect(position! >= before.position).toBe(true);
      const next = await recordEntry(api(), slug, signing());
      await updates.waitUntil(hasPosition(next.position));
      expect(positionsOf(updates.items)).toEqual([next.position]);
    });
  });

  describe('refused subscriptions', () => {
    it('answers not_found for a timeline that does not exist, and the socket subscribes fine afterwards', async () => {
      const socket = await connectLive(service().url);
      const ack = await subscribe(socket, { timeline: 'no-such-timeline-here' });
      expect(ack).toEqual({ ok: false, error: { code: 'not_found', reason: 'timeline_not_found', message: expect.stringContaining('no-such-timeline-here') } });
      // The same problem over HTTP: the reason is HTTP's code, and the message the same.
      const viaHttp = await api().get('/timelines/no-such-timeline-here');
      expect(viaHttp.status).toBe(404);
      const { reason, message } = (ack as unknown as { error: { reason: string; message: string } }).error;
      expect(viaHttp.body).toMatchObject({ code: reason, message });
      const slug = await openTimeline(api(), 'live-after-404');
      expect(await subscribe(socket, { timeline: slug })).toEqual({ ok: true, position: expect.stringMatching(POSITION) });
    });

    let slug: string;
    let known: string;
    beforeAll(async () => {
      slug = await openTimeline(api(), 'live-invalid');
      known = (await checkpointOf(api()))!;
    });

    const objectWith = (json: string) => () => [JSON.parse(json.replace('SLUG', slug))];
    const invalid: Array<[string, () => unknown[]]> = [
      // wrong types
      ['a number as timeline', () => [{ timeline: 42 }]],
      ['an array as timeline', () => [{ timeline: [slug] }]],
      ['an object as timeline', () => [{ timeline: { slug } }]],
      ['null as timeline', () => [{ timeline: null }]],
      ['a number as after', () => [{ timeline: slug, after: 42 }]],
      ['null as after', () => [{ timeline: slug, after: null }]],
      ['an object as after', () => [{ timeline: slug, after: { position: known } }]],
      ['a string as batch', () => [{ timeline: slug, after: known, batch: 'true' }]],
      ['a number as batch', () => [{ timeline: slug, after: known, batch: 1 }]],
      ['null as batch', () => [{ timeline: slug, after: known, batch: null }]],
      ['an object as batch', () => [{ timeline: slug, batch: { on: true } }]],
      // unknown fields
      ['an unknown field', () => [{ timeline: slug, from: known }]],
      ['a prototype key', objectWith('{"timeline": "SLUG", "prototype": {}}')],
      // oversize
      ['a payload over 2048 bytes', () => [{ timeline: slug, note: 'x'.repeat(2100) }]],
      ['an oversize timeline', () => [{ timeline: 'a'.repeat(3000) }]],
      ['a payload of 60 KB', () => [{ timeline: slug, note: 'x'.repeat(60 * 1024) }]],
      // not an object
      ['a string', () => [slug]],
      ['a number', () => [42]],
      ['true', () => [true]],
      ['null', () => [null]],
      ['an array', () => [[]]],
      ['an array holding a valid payload', () => [[{ timeline: slug }]]],
      ['binary data', () => [Buffer.from(JSON.stringify({ timeline: slug }))]],
      ['no payload at all', () => []],
      ['two payloads', () => [{ timeline: slug }, { timeline: slug }]],
      // missing timeline
      ['an empty object', () => [{}]],
      ['only after', () => [{ after: known }]],
      // a timeline that is not a slug
      ['an empty timeline', () => [{ timeline: '' }]],
      ['a timeline in capitals', () => [{ timeline: 'Live-Invalid' }]],
      ['a timeline of 65 characters', () => [{ timeline: 'a'.repeat(65) }]],
      // malformed after
      ['a short after', () => [{ timeline: slug, after: '42' }]],
      ['an empty after', () => [{ timeline: slug, after: '' }]],
      ['a word as after', () => [{ timeline: slug, after: 'latest' }]],
      ['an after of 21 digits', () => [{ timeline: slug, after: `0${known}` }]],
      ['an after of 19 digits', () => [{ timeline: slug, after: known.slice(1) }]],
      ['an after with a space', () => [{ timeline: slug, after: ` ${known}` }]],
      ['a negative after', () => [{ timeline: slug, after: `-${known.slice(1)}` }]],
      ['a half commit-prepare after', () => [{ timeline: slug, after: `${known}-` }]],
    ];
    // Unknown fields too, which POST bodies refuse (json-body.ts); kept apart so
    // that the one-socket test below does not fail a second time for them.
    const prototypeKeys: Array<[string, () => unknown[]]> = [
      ['a __proto__ key', objectWith('{"timeline": "SLUG", "__proto__": {"isAdmin": true}}')],
      ['a constructor key', objectWith('{"timeline": "SLUG", "constructor": {"prototype": {}}}')],
    ];

    it.each([...invalid, ...prototypeKeys])('answers invalid for %s, and the same socket then subscribes fine', async (_case, args) => {
      const socket = await connectLive(service().url);
      const ack = await emitWithAck<LiveAck>(socket, 'subscribe', args());
      expect(ack).toEqual({ ok: false, error: { code: 'invalid', reason: 'invalid', message: expect.any(String) } });
      expect(socket.connected).toBe(true);
      expect(await subscribe(socket, { timeline: slug })).toEqual({ ok: true, position: expect.stringMatching(POSITION) });
    });

    it('names the field when batch is not a boolean', async () => {
      const socket = await connectLive(service().url);
      for (const batch of ['yes', 0, null, [true]]) {
        const ack = await subscribe(socket, { timeline: slug, after: known, batch });
        expect(ack).toEqual({ ok: false, error: { code: 'invalid', reason: 'invalid', message: expect.stringMatching(/^batch must be true or false/) } });
      }
      expect(await subscribe(socket, { timeline: slug, after: known, batch: false })).toEqual({ ok: true, position: expect.stringMatching(POSITION) });
      expect(await subscribe(socket, { timeline: slug, batch: true })).toEqual({ ok: true, position: expect.stringMatching(POSITION) });
    });

    it('names the size limit for a payload over 2048 bytes', async () => {
      const socket = await connectLive(service().url);
      const ack = await subscribe(socket, { timeline: slug, note: 'x'.repeat(2100) });
      expect(ack).toEqual({ ok: false, error: { code: 'invalid', reason: 'invalid', message: expect.stringContaining('2048') } });
    });

    it('answers every invalid subscribe on one socket, in turn, and keeps that socket working', async () => {
      const socket = await connectLive(service().url);
      const updates = record<LiveUpdate>(socket, 'update');
      const codes: Array<[string, string]> = [];
      for (const [name, args] of invalid) {
        const ack = await emitWithAck<LiveAck>(socket, 'subscribe', args());
        codes.push([name, ack.ok ? 'ok' : ack.error.code]);
      }
      expect(codes).toEqual(invalid.map(([name]) => [name, 'invalid']));
      await subscribeOk(socket, { timeline: slug });
      const written = await recordEntry(api(), slug, signing());
      await updates.waitUntil(hasPosition(written.position));
      expect(positionsOf(updates.items)).toEqual([written.position]);
    });

    it.each<[string, () => unknown[]]>([
      ['no timeline', () => [{}]],
      ['a number as timeline', () => [{ timeline: 7 }]],
      ['an unknown field', () => [{ timeline: slug, after: known }]],
      ['a string', () => [slug]],
      ['null', () => [null]],
      ['an oversize payload', () => [{ timeline: slug, note: 'x'.repeat(3000) }]],
    ])('answers invalid for an unsubscribe with %s, and the socket stays usable', async (_case, args) => {
      const socket = await connectLive(service().url);
      const ack = await emitWithAck<LiveAck>(socket, 'unsubscribe', args());
      expect(ack).toEqual({ ok: false, error: { code: 'invalid', reason: 'invalid', message: expect.any(String) } });
      expect(await subscribe(socket, { timeline: slug })).toEqual({ ok: true, position: expect.stringMatching(POSITION) });
    });
  });

  describe('resuming', () => {
    it('replays exactly what a client missed while disconnected, in order, then continues live', async () => {
      const slug = await openTimeline(api(), 'live-resume');
      const other = await openTimeline(api(), 'live-resume-other');
      const first = await connectLive(service().url);
      const seen = record<LiveUpdate>(first, 'update');
      await subscribeOk(first, { timeline: slug });
      const a = await recordEntry(api(), slug, announcement());
      const b = await recordEntry(api(), slug, signing());
      const c = await recordEntry(api(), slug, delivery());
      await seen.waitUntil(hasPosition(c.position));
      expect(positionsOf(seen.items)).toEqual([a.position, b.position, c.position]);
      const lastSeen = seen.items[seen.items.length - 1].position;
      first.disconnect();

      // While it is away: new entries, and entries it had seen corrected and retracted.
      const missed: Array<[Written, LiveUpdate['type']]> = [];
      missed.push([await recordEntry(api(), slug, signing({ title: 'Recorded while away' })), 'entry.recorded']);
      await recordEntry(api(), other, signing());
      missed.push([await correct(api(), a.entryId, 0, { title: 'Corrected while away' }), 'entry.corrected']);
      missed.push([await retract(api(), b.entryId, 'retracted while away'), 'entry.retracted']);
      missed.push([await correct(api(), c.entryId, 0, { channel: 'By rail' }), 'entry.corrected']);
      missed.push([await recordEntry(api(), slug, delivery({ title: 'Also recorded while away' })), 'entry.recorded']);
      missed.push([await correct(api(), a.entryId, 1, { summary: 'Second correction while away' }), 'entry.corrected']);

      const again = await connectLive(service().url);
      const resumed = record<LiveUpdate>(again, 'update');
      const ack = await subscribe(again, { timeline: slug, after: lastSeen });
      expect(ack).toEqual({ ok: true, position: await checkpointOf(api()) });
      await resumed.waitFor(missed.length);
      const live = await recordEntry(api(), slug, announcement({ title: 'Recorded after resuming' }));
      await resumed.waitUntil(hasPosition(live.position));

      expect(resumed.items.map((u) => [u.position, u.type])).toEqual([
        ...missed.map(([w, type]) => [w.position, type]),
        [live.position, 'entry.recorded'],
      ]);
      expect(resumed.items.every((u) => u.timeline === slug && u.entry.position === u.position)).toBe(true);
      expect(resumed.items.map((u) => [u.entry.entryId, u.entry.revision])).toEqual([
        ...missed.map(([w]) => [w.entryId, w.revision]),
        [live.entryId, 0],
      ]);
      // The replayed entries are the entries as they were after each change.
      expect(resumed.items[2].entry).toMatchObject({ entryId: b.entryId, status: 'retracted', title: 'Japan and Ukraine sign a ten-year support accord' });
      expect(resumed.items[5].entry).toMatchObject({ entryId: a.entryId, revision: 2, title: 'Corrected while away', summary: 'Second correction while away' });
      expect(resumed.items[1].entry).not.toHaveProperty('summary', 'Second correction while away');
    });

    it('continues a snapshot from GET /timelines/:slug/entries with no gap and no duplicate while writers are busy', async () => {
      const slug = await openTimeline(api(), 'live-race');
      const noise = await openTimeline(api(), 'live-race-noise');
      const writes: Written[] = [];
      const noiseWrites: Written[] = [];
      const until = Date.now() + 1500;
      let started!: () => void;
      const underWay = new Promise<void>((resolve) => (started = resolve));

      async function writer(seed: number, into: string, log: Written[]): Promise<void> {
        const random = seededRandom(seed);
        const own: Array<{ entryId: string; revision: number; retracted: boolean }> = [];
        while (Date.now() < until) {
          const active = own.filter((e) => !e.retracted);
          const roll = random();
          let written: Written;
          if (active.length < 3 || (roll < 0.3 && own.length < 25)) {
            written = await recordEntry(api(), into, [announcement, signing, delivery][Math.floor(random() * 3)]({ title: `Writer ${seed} entry ${own.length}` }));
            own.push({ entryId: written.entryId, revision: 0, retracted: false });
          } else {
            const target = active[Math.floor(random() * active.length)];
            written = roll < 0.38 ? await retract(api(), target.entryId) : await correct(api(), target.entryId, target.revision, { title: `Writer ${seed} fix ${log.length}` });
            target.revision = written.revision;
            target.retracted ||= roll < 0.38;
          }
          log.push(written);
          if (writes.length >= 12) started();
        }
      }

      const writers = Promise.all([1, 2, 3, 4].map((seed) => writer(seed, slug, writes)).concat(writer(5, noise, noiseWrites)));
      await underWay;
      const socket = await connectLive(service().url);
      const updates = record<LiveUpdate>(socket, 'update');
      const snapshot = await api().get(`/timelines/${slug}/entries?limit=500&includeRetracted=true`);
      expect(snapshot.status).toBe(200);
      const P: string = snapshot.body.position;
      await subscribeOk(socket, { timeline: slug, after: P });
      await writers;
      const sentinel = await recordEntry(api(), slug, signing({ title: 'The last write' }));
      await updates.waitUntil(hasPosition(sentinel.position), 10_000);

      const expected = sorted([...writes, sentinel].map((w) => w.position).filter((p) => p > P));
      const received = positionsOf(updates.items);
      // The writers were still busy after the snapshot was taken.
      expect(expected.length).toBeGreaterThan(10);
      expect(writes.some((w) => w.position <= P)).toBe(true);
      expectStrictlyIncreasing(received);
      expect(new Set(received).size).toBe(received.length);
      expect(received).toEqual(expected);
      expect(updates.items.every((u) => u.timeline === slug && u.entry.position === u.position)).toBe(true);

      // Snapshot + updates = the timeline now.
      const state = new Map<string, [number, string]>(snapshot.body.items.map((e: Body) => [e.entryId, [e.revision, e.status]]));
      for (const { entry } of updates.items) state.set(entry.entryId, [entry.revision, entry.status]);
      const final = await api().get(`/timelines/${slug}/entries?limit=500&includeRetracted=true`);
      expect(final.body.nextCursor).toBeNull();
      const now = new Map<string, [number, string]>(final.body.items.map((e: Body) => [e.entryId, [e.revision, e.status]]));
      expect(Object.fromEntries(state)).toEqual(Object.fromEntries(now));
      expect(now.size).toBe(new Set(writes.map((w) => w.entryId)).size + 1);
    });

    it('with batch: true, replays the same updates in the same order as one `updates` message, then live ones as `update`', async () => {
      const slug = await openTimeline(api(), 'live-batch');
      const other = await openTimeline(api(), 'live-batch-other');
      const a = await recordEntry(api(), slug, announcement());
      const b = await recordEntry(api(), slug, signing());
      const after = b.position;
      const missed = [
        await recordEntry(api(), slug, delivery()),
        await correct(api(), a.entryId, 0, { title: 'Corrected while away' }),
        await recordEntry(api(), other, signing()),
        await retract(api(), b.entryId),
        await recordEntry(api(), slug, signing({ title: 'Also missed' })),
      ].filter((w, i) => i !== 2);

      const batched = await connectLive(service().url);
      const unbatched = await connectLive(service().url);
      const fromBatched = receive(batched);
      const fromUnbatched = receive(unbatched);
      const ackBatched = await subscribe(batched, { timeline: slug, after, batch: true });
      const ackUnbatched = await subscribe(unbatched, { timeline: slug, after });
      expect(ackBatched).toEqual(ackUnbatched);
      const live = await recordEntry(api(), slug, announcement({ title: 'After the resume' }));
      await fromBatched.waitFor(live.position);
      await fromUnbatched.waitFor(live.position);

      expect(fromBatched.messages).toEqual([`updates:${missed.length}`, 'update']);
      expect(fromUnbatched.messages).toEqual([...missed.map(() => 'update'), 'update']);
      expect(fromBatched.updates).toEqual(fromUnbatched.updates);
      expect(positionsOf(fromBatched.updates)).toEqual([...missed, live].map((w) => w.position));
      expect(fromBatched.updates[1].entry).toMatchObject({ entryId: a.entryId, revision: 1, title: 'Corrected while away' });
      expect(fromBatched.updates[2]).toMatchObject({ type: 'entry.retracted', entry: { entryId: b.entryId, status: 'retracted' } });
    });

    it('cuts a long batched replay into messages within the limits, shared by clients resuming from one position', async () => {
      const gateway = service().app.get(LiveGateway);
      const limits = gateway.batches.limits;
      gateway.batches.limits = { maxUpdates: 3, maxBytes: 1024 * 1024 };
      try {
        const slug = await openTimeline(api(), 'live-batch-chunks');
        const after = (await recordEntry(api(), slug, signing())).position;
        const writes: Written[] = [];
        for (let i = 0; i < 8; i++) writes.push(await recordEntry(api(), slug, signing({ title: `Missed ${i}` })));
        const sockets = await Promise.all([1, 2, 3].map(() => connectLive(service().url)));
        const received = sockets.map(receive);
        await Promise.all(sockets.map((socket) => subscribeWithOk(socket, { timeline: slug, after, batch: true })));
        for (const r of received) {
          await r.waitFor(writes[7].position);
          expect(r.messages).toEqual(['updates:3', 'updates:3', 'updates:2']);
          expect(positionsOf(r.updates)).toEqual(writes.map((w) => w.position));
        }
        expect(received[1].updates).toEqual(received[0].updates);
        // By size: one large update per message.
        gateway.batches.limits = { maxUpdates: 500, maxBytes: 100 };
        const bySize = await connectLive(service().url);
        const r = receive(bySize);
        await subscribeWithOk(bySize, { timeline: slug, after: writes[4].position, batch: true });
        await r.waitFor(writes[7].position);
        expect(r.messages).toEqual(['updates:1', 'updates:1', 'updates:1']);
      } finally {
        gateway.batches.limits = limits;
      }
    });

    it('batched and unbatched clients resuming while writers are busy: each gets every change once, in order', async () => {
      const slug = await openTimeline(api(), 'live-batch-race');
      const start = (await recordEntry(api(), slug, signing())).position;
      const writes: Written[] = [];
      let stop = false;
      const writers = Promise.all(
        [1, 2, 3].map(async (w) => {
          for (let i = 0; !stop && i < 200; i++) writes.push(await recordEntry(api(), slug, signing({ title: `Writer ${w} entry ${i}` })));
        }),
      );
      while (writes.length < 10) await new Promise((r) => setTimeout(r, 5));
      // Subscribe in the middle of the burst, each from its own earlier position, half of them batched.
      const clients = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const socket = await connectLive(service().url);
          const received = receive(socket);
          const after = i === 0 ? start : writes[Math.min(writes.length - 1, i)].position;
          await subscribeWithOk(socket, { timeline: slug, after, ...(i % 2 === 0 ? { batch: true } : {}) });
          return { after, received, batch: i % 2 === 0 };
        }),
      );
      stop = true;
      await writers;
      const sentinel = await recordEntry(api(), slug, signing({ title: 'The last write' }));
      const all = sorted([...writes, sentinel].map((w) => w.position));
      for (const { after, received, batch } of clients) {
        await received.waitFor(sentinel.position, 10_000);
        const positions = positionsOf(received.updates);
        expectStrictlyIncreasing(positions);
        expect(positions).toEqual(all.filter((p) => p > after));
        // Unbatched: only `update`. Batched: the replay as `updates`, then live changes as `update`, never a batch after them.
        const firstUpdate = received.messages.indexOf('update');
        if (!batch) expect(received.messages.every((m) => m === 'update')).toBe(true);
        else if (firstUpdate >= 0) expect(received.messages.slice(firstUpdate).every((m) => m === 'update')).toBe(true);
      }
    });

    it('accepts an after beyond its checkpoint: acks that position and sends nothing at or before it', async () => {
      const slug = await openTimeline(api(), 'live-ahead');
      const checkpoint = (await checkpointOf(api()))!;
      const ahead = positionAfter(checkpoint, 2);
      expect(ahead).toMatch(POSITION);
      const socket = await connectLive(service().url);
      const updates = record<LiveUpdate>(socket, 'update');
      expect(await subscribe(socket, { timeline: slug, after: ahead })).toEqual({ ok: true, position: ahead });

      const writes: Written[] = [];
      for (let i = 0; i < 4; i++) writes.push(await recordEntry(api(), slug, signing({ title: `Ahead ${i}` })));
      expect(writes.filter((w) => w.position <= ahead).length).toBeGreaterThan(0);
      await updates.waitUntil(hasPosition(writes[3].position));
      expect(positionsOf(updates.items)).toEqual(writes.map((w) => w.position).filter((p) => p > ahead));
    });
  });
});

describe('live feed with LIVE_MAX_REPLAY=5', () => {
  const { api, service } = useService({ LIVE_MAX_REPLAY: '5' }, { beforeStop: closeAllLive });

  it('refuses a resume that missed more than 5 changes with resync_required, and replays one that missed 5 or fewer', async () => {
    const slug = await openTimeline(api(), 'live-replay');
    const remembered = (await checkpointOf(api()))!;
    const writes: Written[] = [];
    for (let i = 0; i < 8; i++) writes.push(await recordEntry(api(), slug, signing({ title: `Entry ${i}` })));

    const socket = await connectLive(service().url);
    const updates = record<LiveUpdate>(socket, 'update');
    const refused = await subscribe(socket, { timeline: slug, after: remembered });
    expect(refused).toEqual({ ok: false, error: { code: 'resync_required', reason: 'resync_required', message: expect.any(String) } });
    // 6 missed: still one too many.
    const sixBack = await subscribe(socket, { timeline: slug, after: writes[1].position });
    expect(sixBack).toEqual({ ok: false, error: { code: 'resync_required', reason: 'resync_required', message: expect.any(String) } });

    const ack = await subscribe(socket, { timeline: slug, after: writes[4].position });
    expect(ack).toEqual({ ok: true, position: await checkpointOf(api()) });
    await updates.waitFor(3);
    const live = await recordEntry(api(), slug, delivery());
    await updates.waitUntil(hasPosition(live.position));
    expect(positionsOf(updates.items)).toEqual([...writes.slice(5).map((w) => w.position), live.position]);
  });

  it('replays exactly 5 missed changes', async () => {
    const slug = await openTimeline(api(), 'live-replay-5');
    const writes: Written[] = [];
    for (let i = 0; i < 6; i++) writes.push(await recordEntry(api(), slug, announcement({ title: `Entry ${i}` })));
    const socket = await connectLive(service().url);
    const updates = record<LiveUpdate>(socket, 'update');
    await subscribeOk(socket, { timeline: slug, after: writes[0].position });
    await updates.waitFor(5);
    const live = await recordEntry(api(), slug, signing());
    await updates.waitUntil(hasPosition(live.position));
    expect(positionsOf(updates.items)).toEqual([...writes.slice(1).map((w) => w.position), live.position]);
  });

  it('counts only the changes of the subscribed timeline towards the limit', async () => {
    const slug = await openTimeline(api(), 'live-replay-own');
    const other = await openTimeline(api(), 'live-replay-busy');
    const remembered = (await checkpointOf(api()))!;
    for (let i = 0; i < 8; i++) await recordEntry(api(), other, signing());
    const mine = await recordEntry(api(), slug, signing());
    const socket = await connectLive(service().url);
    const updates = record<LiveUpdate>(socket, 'update');
    await subscribeOk(socket, { timeline: slug, after: remembered });
    await updates.waitFor(1);
    expect(positionsOf(updates.items)).toEqual([mine.position]);
  });
});

describe('live feed with LIVE_MAX_QUEUED=20: a client that stops reading', () => {
  const MAX_QUEUED = 20;
  const { api, service } = useService({ LIVE_MAX_QUEUED: String(MAX_QUEUED) }, { beforeStop: closeAllLive });

  it('is told to resync and unsubscribed, the server queue stays bounded, and a healthy client gets every update', async () => {
    const slug = await openTimeline(api(), 'live-slow');
    const gateway = service().app.get(LiveGateway);
    const slow = await connectLive(service().url);
    const healthy = await connectLive(service().url);
    const slowUpdates = record<LiveUpdate>(slow, 'update');
    const slowResyncs = record<ResyncEvent>(slow, 'resync');
    const healthyUpdates = record<LiveUpdate>(healthy, 'update');
    const healthyResyncs = record<ResyncEvent>(healthy, 'resync');
    await subscribeOk(slow, { timeline: slug });
    await subscribeOk(healthy, { timeline: slug });
    expect(gateway.subscriptionCount()).toBe(2);
    const serverSide = namespaceOf(service()).sockets.get(slow.id!)!;
    expect(serverSide).toBeDefined();

    stopReading(slow);

    // Large entries (~25 KB each) until the kernel buffers are full and the server gives up on the slow client.
    const big = () =>
      announcement({
        summary: 's'.repeat(4000),
        sources: Array.from({ length: 20 }, (_, i) => ({
          title: `Source ${i} `.padEnd(300, 't'),
          publisher: 'p'.repeat(200),
          url: `https://example.org/${i}/${'u'.repeat(400)}`,
        })),
      });
    const writes: Written[] = [];
    let maxQueued = 0;
    const deadline = Date.now() + 12_000;
    let extra = 0;
    async function writer(): Promise<void> {
      // Keep going until the slow client was dropped, then write 2 more each, to show nothing queues for it any more.
      while (Date.now() < deadline && (gateway.subscriptionCount() === 2 || extra < 32)) {
        if (gateway.subscriptionCount() < 2) extra++;
        writes.push(await recordEntry(api(), slug, big()));
        maxQueued = Math.max(maxQueued, serverQueue(serverSide));
      }
    }
    await Promise.all(Array.from({ length: 16 }, writer));

    expect(gateway.subscriptionCount()).toBe(1);
    expect(serverSide.connected).toBe(true);
    expect(maxQueued).toBeLessThanOrEqual(MAX_QUEUED + 2);
    expect(serverQueue(serverSide)).toBeLessThanOrEqual(MAX_QUEUED + 2);
    expect(slowResyncs.items).toEqual([]); // it is not reading yet

    resumeReading(slow);
    const [resync] = await slowResyncs.waitFor(1, 10_000);
    expect(resync).toEqual({ timeline: slug, reason: 'slow_consumer' });
    // Until it was dropped it got every change, in order, without a gap.
    const all = sorted(writes.map((w) => w.position));
    const got = positionsOf(slowUpdates.items);
    expect(got.length).toBeLessThan(all.length);
    expect(got).toEqual(all.slice(0, got.length));

    const received = await healthyUpdates.waitFor(writes.length, 10_000);
    expect(positionsOf(received)).toEqual(all);
    expect(healthyResyncs.items).toEqual([]);
  });
});

describe('live feed on shutdown', () => {
  // The server closes the transport after `shutdown` rather than sending a socket.io
  // "disconnect": clients reconnect on their own only after a transport close,
  // which behind a load balancer takes them to another instance.
  it('sends connected clients a shutdown event, then closes their connection (transport close)', async () => {
    const service = await startService();
    let stopped = false;
    try {
      const api = apiAt(service.url);
      const slug = await openTimeline(api, 'live-shutdown');
      const socket: LiveSocket = await connectLive(service.url);
      await subscribeOk(socket, { timeline: slug });
      const events: Array<[string, unknown]> = [];
      socket.on('shutdown', (payload) => events.push(['shutdown', payload]));
      socket.on('disconnect', (reason) => events.push(['disconnect', reason]));
      const disconnected = nextDisconnect(socket, 10_000);

      await service.stop();
      stopped = true;
      expect(await disconnected).toBe('transport close');
      expect(events).toEqual([
        ['shutdown', { reason: expect.any(String) }],
        ['disconnect', 'transport close'],
      ]);
    } finally {
      if (!stopped) await service.stop();
    }
  });
});

