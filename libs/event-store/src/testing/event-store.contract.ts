import { randomUUID } from 'node:crypto';
import { DuplicateEventIdError, WrongExpectedVersionError } from '../event-store.errors';
import type { EventStore, NewEvent, RecordedEvent } from '../event-store.port';

/**
 * The executable specification of the EventStore port. Every adapter runs this
 * same suite (see sqlite-event-store.spec.ts, kurrentdb-event-store.spec.ts),
 * which is what keeps them interchangeable.
 *
 * Stream names carry a random suffix so the suite can run against a long-lived
 * server (KurrentDB) whose log already holds other events; assertions on the
 * global log therefore look only at this suite's streams.
 */
export interface EventStoreFixture {
  store: EventStore;
  dispose(): Promise<void>;
}

export function describeEventStoreContract(adapter: string, open: () => Promise<EventStoreFixture>): void {
  describe(`EventStore contract: ${adapter}`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;
    const run = randomUUID().slice(0, 8);
    let streamNo = 0;
    const stream = (kind = 'entry') => `${kind}-contract${run}x${++streamNo}`;

    beforeAll(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterAll(async () => fixture?.dispose());

    const event = (type = 'Something', data: Record<string, unknown> = {}): NewEvent => ({
      id: randomUUID(),
      type,
      data: { n: Math.random(), ...data },
      metadata: { recordedBy: 'contract', correlationId: randomUUID(), causationId: null, schemaVersion: 1 },
    });

    async function expectWrongVersion(promise: Promise<unknown>, actual: number | 'no-stream') {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect((error as WrongExpectedVersionError).actual).toEqual(actual);
    }

    describe('append and readStream', () => {
      it('appends to a new stream and reads the events back with their metadata', async () => {
        const s = stream();
        const events = [event('A', { x: 1 }), event('B', { nested: { y: [1, 2] } })];
        const result = await store.append(s, events, 'no-stream');
        expect(result.revision).toBe(1);

        const read = await store.readStream(s);
        expect(read.map((e) => [e.id, e.type, e.revision, e.stream])).toEqual([
          [events[0].id, 'A', 0, s],
          [events[1].id, 'B', 1, s],
        ]);
        expect(read[1].data).toEqual(events[1].data);
        expect(read[0].metadata).toMatchObject(events[0].metadata);
        expect(read[1].position).toBe(result.position);
        expect(read[0].position < read[1].position).toBe(true);
        expect(Number.isNaN(Date.parse(read[0].recordedAt))).toBe(false);
      });

      it('reads an unknown stream as empty', async () => {
        expect(await store.readStream(stream())).toEqual([]);
      });

      it('reads part of a stream with fromRevision and maxCount', async () => {
        const s = stream();
        await store.append(s, [event(), event(), event(), event()], 'no-stream');
        const part = await store.readStream(s, { fromRevision: 1, maxCount: 2 });
        expect(part.map((e) => e.revision)).toEqual([1, 2]);
      });
    });

    describe('expected revision', () => {
      it('no-stream fails once the stream exists', async () => {
        const s = stream();
        await store.append(s, [event()], 'no-stream');
        await expectWrongVersion(store.append(s, [event()], 'no-stream'), 0);
      });

      it('stream-exists fails on a missing stream and passes on an existing one', async () => {
        const s = stream();
        await expectWrongVersion(store.append(s, [event()], 'stream-exists'), 'no-stream');
        await store.append(s, [event()], 'any');
        expect((await store.append(s, [event()], 'stream-exists')).revision).toBe(1);
      });

      it('an exact revision must match the last event of the stream', async () => {
        const s = stream();
        await store.append(s, [event(), event()], 'no-stream');
        await expectWrongVersion(store.append(s, [event()], 0), 1);
        await expectWrongVersion(store.append(stream(), [event()], 0), 'no-stream');
        expect((await store.append(s, [event()], 1)).revision).toBe(2);
      });

      it('any appends whatever the state', async () => {
        const s = stream();
        expect((await store.append(s, [event()], 'any')).revision).toBe(0);
        expect((await store.append(s, [event()], 'any')).revision).toBe(1);
      });

      it('a rejected append writes nothing', async () => {
        const s = stream();
        await store.append(s, [event()], 'no-stream');
        const before = await store.readStream(s);
        await expectWrongVersion(store.append(s, [event(), event()], 5), 0);
        expect(await store.readStream(s)).toEqual(before);
      });

      it('of concurrent appends at the same expected revision, exactly one wins', async () => {
        const s = stream();
        await store.append(s, [event()], 'no-stream');
        const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => store.append(s, [event()], 0)));
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const o of outcomes.filter((o) => o.status === 'rejected')) {
          expect((o as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersionError);
        }
        expect(await store.readStream(s)).toHaveLength(2);
      });
    });

    describe('idempotence', () => {
      it('re-appending the same event ids at the same expected revision returns the original result', async () => {
        const s = stream();
        await store.append(s, [event()], 'no-stream');
        const batch = [event(), event()];
        const first = await store.append(s, batch, 0);
        const again = await store.append(s, batch, 0);
        expect(again).toEqual(first);
        expect(await store.readStream(s)).toHaveLength(3);
      });

      it('re-appending a first write with no-stream is idempotent too', async () => {
        const s = stream();
        const batch = [event()];
        const first = await store.append(s, batch, 'no-stream');
        expect(await store.append(s, batch, 'no-stream')).toEqual(first);
        expect(await store.readStream(s)).toHaveLength(1);
      });

      it('a retry is recognised however many appends came after it (exact revision and no-stream)', async () => {
        const s = stream();
        const first = [event()];
        const second = [event()];
        const original = [await store.append(s, first, 'no-stream'), await store.append(s, second, 0)];
        for (let i = 0; i < 300; i++) await store.append(stream(), [event()], 'no-stream'); // past any cache of recent ids
        expect(await store.append(s, first, 'no-stream')).toEqual(original[0]);
        expect(await store.append(s, second, 0)).toEqual(original[1]);
        expect(await store.readStream(s)).toHaveLength(2);
      });

      it("an id used in another stream is never answered with that stream's result", async () => {
        // The stores differ here (see NewEvent.id): the embedded store refuses the id, KurrentDB
        // writes a new event. Neither may pass the reuse off as a retry of the other append.
        const reused = event();
        const elsewhere = await store.append(stream(), [reused], 'no-stream');
        const s = stream();
        const outcome = await store.append(s, [reused], 'no-stream').then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        );
        if ('error' in outcome) {
          expect(outcome.error).toBeInstanceOf(DuplicateEventIdError);
          expect(await store.readStream(s)).toEqual([]);
        } else {
          expect(outcome.result).not.toEqual(elsewhere);
          expect((await store.readStream(s)).map((e) => [e.id, e.revision, e.position])).toEqual([[reused.id, 0, outcome.result.position]]);
        }
      });
    });

    describe('the global log', () => {
      it('gives every event a position; string order is log order, across streams', async () => {
        const a = stream();
        const b = stream();
        const r1 = await store.append(a, [event()], 'no-stream');
        const r2 = await store.append(b, [event()], 'no-stream');
        const r3 = await store.append(a, [event()], 0);
        expect(r1.position < r2.position && r2.position < r3.position).toBe(true);
        expect(r1.position.length).toBe(r3.position.length);
      });

      it('concurrent appends to distinct streams all succeed with distinct positions', async () => {
        const results = await Promise.all(Array.from({ length: 64 }, () => store.append(stream(), [event()], 'no-stream')));
        expect(new Set(results.map((r) => r.position)).size).toBe(64);
      });

      it('readAll pages through the log after a position, and headPosition is the last one', async () => {
        const s = stream();
        const start = await store.headPosition();
        const written = [event(), event(), event(), event(), event()];
        for (const e of written) await store.append(s, [e], 'any');

        const mine: RecordedEvent[] = [];
        let after = start ?? undefined;
        for (;;) {
          const page = await store.readAll({ after, limit: 2 });
          expect(page.length).toBeLessThanOrEqual(2);
          if (page.length === 0) break;
          for (let i = 1; i < page.length; i++) expect(page[i - 1].position < page[i].position).toBe(true);
          if (after !== undefined) expect(page[0].position > after).toBe(true);
          mine.push(...page.filter((e) => e.stream === s));
          after = page[page.length - 1].position;
        }
        expect(mine.map((e) => e.id)).toEqual(written.map((e) => e.id));
        expect(await store.headPosition()).toBe(mine[mine.length - 1].position);
      });
    });

    describe('catch-up subscription', () => {
      it('delivers history then live events with no gap and no duplicate, even under concurrent writes', async () => {
        const s1 = stream();
        const s2 = stream();
        const from = (await store.headPosition()) ?? undefined;
        const before = [event(), event(), event()];
        await store.append(s1, before, 'no-stream');

        const subscription = store.subscribeToAll({ after: from });
        const received: RecordedEvent[] = [];
        const writers = (async () => {
          // Writes racing with the subscription's hand-over from history to live.
          for (let i = 0; i < 20; i++) {
            await Promise.all([store.append(s1, [event()], 'any'), store.append(s2, [event()], 'any')]);
          }
        })();
        for await (const batch of subscription) {
          received.push(...batch.filter((e) => e.stream === s1 || e.stream === s2));
          if (received.length >= 43) break;
        }
        await subscription.close();
        await writers;

        const expected = [...(await store.readStream(s1)), ...(await store.readStream(s2))]
          .sort((a, b) => (a.position < b.position ? -1 : 1))
          .map((e) => e.id);
        expect(received.map((e) => e.id)).toEqual(expected);
      });

      it('starts strictly after the given position', async () => {
        const s = stream();
        await store.append(s, [event()], 'no-stream');
        const second = await store.append(s, [event()], 0);
        const third = await store.append(s, [event()], 1);
        const subscription = store.subscribeToAll({ after: second.position });
        const seen: string[] = [];
        for await (const batch of subscription) {
          seen.push(...batch.filter((e) => e.stream === s).map((e) => e.position));
          if (seen.length >= 1) break;
        }
        await subscription.close();
        expect(seen).toEqual([third.position]);
      });

      it('close() ends iteration of a subscription waiting for live events', async () => {
        const subscription = store.subscribeToAll({ after: (await store.headPosition()) ?? undefined });
        const iterating = (async () => {
          for await (const _ of subscription) {
            // only live events would arrive here; none are written
          }
          return 'ended';
        })();
        await new Promise((r) => setTimeout(r, 50));
        await subscription.close();
        await expect(iterating).resolves.toBe('ended');
      });
    });
  });
}
