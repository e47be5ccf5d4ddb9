import type { RecordedEvent } from '@timeline/event-store';
import { SqliteReadModel } from '@timeline/projections';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordedAt, signingData, testPosition } from '../../../../libs/projections/src/testing/recorded-events';
import { LiveSubscriptions, sendReplay, type LiveClient, type LiveLimits, type LiveUpdate, type SubscribeOutcome } from './live-subscriptions';

const position = testPosition;

/**
 * A hand-written log: events as the store would record them, positions
 * 1, 2, 3... in a fixed width. Remembers each entry's timeline and revision
 * so that corrections and retractions follow on.
 */
class Log {
  private last = 0;
  private readonly entries = new Map<string, { timeline: string; revision: number }>();

  get head(): string {
    return position(this.last);
  }

  open(slug: string): RecordedEvent {
    return this.event(`timeline-${slug}`, 0, 'TimelineOpened', { slug, title: `Timeline ${slug}`, description: '' });
  }

  record(timeline: string, entryId: string = randomUUID()): RecordedEvent {
    this.entries.set(entryId, { timeline, revision: 0 });
    return this.event(`entry-${entryId}`, 0, 'SigningRecorded', signingData(timeline, entryId));
  }

  correct(entryId: string, title = `Corrected at ${this.last + 1}`): RecordedEvent {
    const entry = this.entry(entryId);
    entry.revision += 1;
    return this.event(`entry-${entryId}`, entry.revision, 'EntryCorrected', { entryId, timeline: entry.timeline, changes: { title }, reason: 'a better source' });
  }

  retract(entryId: string): RecordedEvent {
    const entry = this.entry(entryId);
    entry.revision += 1;
    return this.event(`entry-${entryId}`, entry.revision, 'EntryRetracted', { entryId, timeline: entry.timeline, reason: 'duplicate' });
  }

  private entry(entryId: string) {
    const entry = this.entries.get(entryId);
    if (!entry) throw new Error(`no entry ${entryId} in this log`);
    return entry;
  }

  private event(stream: string, revision: number, type: string, data: Record<string, unknown>): RecordedEvent {
    this.last += 1;
    return recordedAt(this.last, stream, revision, type, data);
  }
}

/** A connected page whose outgoing queue the test controls. */
class FakeClient implements LiveClient {
  /** Every update received, batched or not, in order. */
  readonly sent: LiveUpdate[] = [];
  /** The messages as they went out: an `update` (one update) or an `updates` batch. */
  readonly messages: Array<{ event: 'update'; update: LiveUpdate } | { event: 'updates'; timeline: string; updates: readonly LiveUpdate[] }> = [];
  readonly resyncs: Array<{ timeline: string; reason: string }> = [];
  /** Messages "waiting" for this client. */
  waiting = 0;

  /** stalled: every message sent stays waiting, as for a page that stopped reading. */
  constructor(
    readonly id: string,
    private readonly stalled = false,
  ) {}

  send(update: LiveUpdate): void {
    this.sent.push(update);
    this.messages.push({ event: 'update', update });
    if (this.stalled) this.waiting += 1;
  }

  sendBatch(timeline: string, updates: readonly LiveUpdate[]): void {
    this.sent.push(...updates);
    this.messages.push({ event: 'updates', timeline, updates });
    if (this.stalled) this.waiting += 1;
  }

  queued(): number {
    return this.waiting;
  }

  resync(timeline: string, reason: string): void {
    this.resyncs.push({ timeline, reason });
  }

  positions(): string[] {
    return this.sent.map((u) => u.position);
  }
}

const positionsOf = (updates: LiveUpdate[]) => updates.map((u) => u.position);

describe('LiveSubscriptions', () => {
  let dir: string;
  let readModel: SqliteReadModel;
  let log: Log;
  let live: LiveSubscriptions;
  const limits: LiveLimits = { maxQueued: 5, maxReplay: 10 };

  /** What the projector does: apply a batch in one transaction, then publish its changes. */
  const commit = (...events: RecordedEvent[]) => {
    const changes = readModel.apply(events);
    live.publish(changes);
    return changes;
  };

  /**
   * The gateway's subscribe: the replay is sent right after the ack, in the
   * same synchronous step (batched when asked). Returns the outcome, the
   * client having received the replay.
   */
  const subscribe = (client: FakeClient, timeline: string, after?: string, batch = false): SubscribeOutcome => {
    const outcome = live.subscribe(client, timeline, after);
    if (outcome.ok) sendReplay(client, timeline, outcome.replay, batch);
    return outcome;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'timeline-live-'));
    readModel = new SqliteReadModel(join(dir, 'read-model.sqlite'));
    log = new Log();
    live = new LiveSubscriptions(readModel, limits);
    commit(log.open('news'), log.open('sport'));
  });

  afterEach(() => {
    readModel.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('subscribe', () => {
    it('without after: ok at the checkpoint, no replay, then every later change of that timeline, in order', () => {
      const old = commit(log.record('news'));
      const client = new FakeClient('a');
      expect(live.subscribe(client, 'news', undefined)).toEqual({ ok: true, position: readModel.checkpoint(), replay: [] });

      const a = log.record('news');
      const b = log.record('sport');
      const changes = commit(a, b, log.correct(a.data.entryId as string), log.retract(a.data.entryId as string));
      commit(log.record('news'));

      expect(client.sent.map((u) => [u.type, u.timeline])).toEqual([
        ['entry.recorded', 'news'],
        ['entry.corrected', 'news'],
        ['entry.retracted', 'news'],
        ['entry.recorded', 'news'],
      ]);
      expect(client.sent[0]).toEqual(changes[0]);
      expect(client.sent[2].entry).toMatchObject({ entryId: a.data.entryId, revision: 2, status: 'retracted' });
      expect(client.positions()).not.toContain(old[0].position);
      expect(client.positions()).toEqual([...client.positions()].sort());
      expect(live.subscriptionCount()).toBe(1);
    });

    it('with after: replays the missed changes of that timeline, then live ones, with no gap and no duplicate', () => {
      const first = log.record('news');
      commit(first, log.record('sport'));
      const after = log.head;
      // Missed: written while the client was away (committed and published to nobody).
      const missed = commit(log.record('news'), log.record('sport'), log.correct(first.data.entryId as string), log.record('news'));

      const client = new FakeClient('a');
      const outcome = subscribe(client, 'news', after);
      expect(outcome).toMatchObject({ ok: true, position: log.head });
      const replayed = missed.filter((c) => c.timeline === 'news');
      expect(outcome.ok && outcome.replay).toEqual(replayed);
      expect(replayed.map((c) => c.type)).toEqual(['entry.recorded', 'entry.corrected', 'entry.recorded']);

      const liveChanges = commit(log.record('news'), log.record('sport'), log.retract(first.data.entryId as string));
      expect(client.positions()).toEqual(
        [...replayed, ...liveChanges].filter((c) => c.timeline === 'news').map((c) => c.position),
      );
      expect(client.positions()).toEqual(positionsOf(readModel.changesSince('news', after, 100)));
    });

    it('with after at the checkpoint: nothing to replay, acks the checkpoint', () => {
      commit(log.record('news'));
      const client = new FakeClient('a');
      expect(subscribe(client, 'news', log.head)).toEqual({ ok: true, position: log.head, replay: [] });
      const next = commit(log.record('news'));
      expect(client.positions()).toEqual([next[0].position]);
    });

    it('with after ahead of the checkpoint: acks that position and sends nothing at or before it', () => {
      commit(log.record('news'));
      const ahead = position(Number(log.head) + 3);
      const client = new FakeClient('a');
      expect(subscribe(client, 'news', ahead)).toEqual({ ok: true, position: ahead, replay: [] });

      const changes = [1, 2, 3, 4, 5].map(() => commit(log.record('news'))[0]);
      expect(changes.map((c) => c.position <= ahead)).toEqual([true, true, true, false, false]);
      expect(client.positions()).toEqual(changes.slice(3).map((c) => c.position));
    });

    it('replays exactly maxReplay missed changes, and refuses maxReplay + 1 with resync_required, registering nothing', () => {
      const after = log.head;
      const changes = Array.from({ length: limits.maxReplay + 1 }, () => commit(log.record('news'))[0]);

      const refused = new FakeClient('refused');
      const outcome = subscribe(refused, 'news', after);
      expect(outcome).toEqual({ ok: false, code: 'resync_required', message: expect.stringContaining(String(limits.maxReplay)) });
      expect(live.subscriptionCount()).toBe(0);

      const accepted = new FakeClient('accepted');
      const ok = subscribe(accepted, 'news', changes[0].position);
      expect(ok.ok && ok.replay.length).toBe(limits.maxReplay);
      expect(accepted.positions()).toEqual(changes.slice(1).map((c) => c.position));

      const next = commit(log.record('news'));
      expect(refused.sent).toEqual([]);
      expect(accepted.positions().at(-1)).toBe(next[0].position);
    });

    it('counts only the changes of the subscribed timeline towards maxReplay', () => {
      const after = log.head;
      for (let i = 0; i < limits.maxReplay * 2; i++) commit(log.record('sport'));
      const mine = commit(log.record('news'));
      const client = new FakeClient('a');
      expect(subscribe(client, 'news', after)).toMatchObject({ ok: true, replay: mine });
    });

    it('subscribing again to the same timeline replaces the subscription: one delivery per change', () => {
      const client = new FakeClient('a');
      subscribe(client, 'news');
      subscribe(client, 'news');
      expect(live.subscriptionCount()).toBe(1);
      const change = commit(log.record('news'));
      expect(client.sent).toEqual(change);
    });
  });

  describe('lastSent', () => {
    it('does not send again a change that was replayed when the projector publishes it after the subscribe', () => {
      const after = log.head;
      // Committed but not yet published: the subscribe happens in between.
      const pending = readModel.apply([log.record('news'), log.record('news')]);
      const client = new FakeClient('a');
      const outcome = subscribe(client, 'news', after);
      expect(outcome.ok && outcome.replay).toEqual(pending);

      live.publish(pending);
      expect(client.positions()).toEqual(positionsOf(pending));
      const next = commit(log.record('news'));
      expect(client.positions()).toEqual(positionsOf([...pending, ...next]));
    });

    it('does not send a change at or before the ack position to a client subscribed without after', () => {
      const pending = readModel.apply([log.record('news')]);
      const client = new FakeClient('a');
      expect(subscribe(client, 'news')).toMatchObject({ ok: true, position: pending[0].position });
      live.publish(pending);
      expect(client.sent).toEqual([]);
    });

    it('sends each change once even when it is published twice or out of order', () => {
      const client = new FakeClient('a');
      subscribe(client, 'news');
      const first = commit(log.record('news'));
      const second = commit(log.record('news'));
      live.publish(first);
      live.publish([...first, ...second]);
      expect(client.positions()).toEqual(positionsOf([...first, ...second]));
    });
  });

  describe('slow consumers (maxQueued)', () => {
    it('stops a client with maxQueued messages waiting: one resync, unsubscribed, while other clients keep receiving', () => {
      const slow = new FakeClient('slow', true);
      const healthy = new FakeClient('healthy');
      subscribe(slow, 'news');
      subscribe(healthy, 'news');

      const changes = Array.from({ length: limits.maxQueued + 4 }, () => commit(log.record('news'))[0]);
      // It was sent exactly as many as may wait, then told to resync once, and never sent more.
      expect(slow.positions()).toEqual(changes.slice(0, limits.maxQueued).map((c) => c.position));
      expect(slow.resyncs).toEqual([{ timeline: 'news', reason: 'slow_consumer' }]);
      expect(live.subscriptionCount()).toBe(1);
      expect(healthy.positions()).toEqual(positionsOf(changes));
      expect(healthy.resyncs).toEqual([]);

      slow.waiting = 0; // it catches up: still not subscribed, so nothing more comes
      const later = commit(log.record('news'));
      expect(slow.sent).toHaveLength(limits.maxQueued);
      expect(healthy.positions().at(-1)).toBe(later[0].position);
    });

    it('still sends to a client with maxQueued - 1 waiting, and resyncs one with maxQueued waiting', () => {
      const almost = new FakeClient('almost');
      const full = new FakeClient('full');
      almost.waiting = limits.maxQueued - 1;
      full.waiting = limits.maxQueued;
      subscribe(almost, 'news');
      subscribe(full, 'news');
      const change = commit(log.record('news'));
      expect(almost.sent).toEqual(change);
      expect(almost.resyncs).toEqual([]);
      expect(full.sent).toEqual([]);
      expect(full.resyncs).toEqual([{ timeline: 'news', reason: 'slow_consumer' }]);
    });

    it('drops the slow client only from the timeline whose change found it full', () => {
      const client = new FakeClient('a');
      subscribe(client, 'news');
      subscribe(client, 'sport');
      client.waiting = limits.maxQueued;
      commit(log.record('news'));
      expect(client.resyncs).toEqual([{ timeline: 'news', reason: 'slow_consumer' }]);
      expect(live.subscriptionCount()).toBe(1);

      client.waiting = 0;
      const sport = commit(log.record('sport'), log.record('news'));
      expect(client.sent).toEqual([sport[0]]);
    });

    it('lets a dropped client resume after the last position it was sent, without a gap', () => {
      const slow = new FakeClient('slow', true);
      subscribe(slow, 'news');
      for (let i = 0; i < limits.maxQueued + 3; i++) commit(log.record('news'));
      expect(slow.resyncs).toHaveLength(1);

      slow.waiting = 0;
      const outcome = subscribe(slow, 'news', slow.positions().at(-1));
      expect(outcome.ok).toBe(true);
      commit(log.record('news'));
      expect(slow.positions()).toEqual(positionsOf(readModel.changesSince('news', null, 100)));
    });
  });

  describe('recent changes kept in memory (replay cache)', () => {
    const spy = () => jest.spyOn(readModel, 'changesSince');

    it('serves resumes from memory: the same update objects for every client resuming, then live ones, no gap, no duplicate', () => {
      // What memory holds of a timeline starts at the first change published to it while this instance runs.
      const after = commit(log.record('news'))[0].position;
      const missed = commit(log.record('news'), log.record('sport'), log.record('news'), log.record('news'));
      const news = missed.filter((c) => c.timeline === 'news');
      const reads = spy();

      const a = new FakeClient('a');
      const b = new FakeClient('b');
      const fromA = subscribe(a, 'news', after);
      const fromB = subscribe(b, 'news', news[0].position);
      // Only the check that the log holds nothing newer than the cache (limit 1), never the replay itself.
      expect(reads.mock.calls.every(([, , limit]) => limit === 1)).toBe(true);
      expect(fromA.ok && fromA.replay).toEqual(news);
      expect(fromB.ok && fromB.replay).toEqual(news.slice(1));
      // Shared objects: an update is encoded once however many clients it goes to.
      expect(a.sent[1]).toBe(b.sent[0]);
      expect(a.sent[1]).toBe(news[1]);

      const next = commit(log.record('news'), log.record('sport'));
      expect(a.positions()).toEqual(positionsOf(readModel.changesSince('news', after, 100)));
      expect(b.positions()).toEqual(positionsOf(readModel.changesSince('news', news[0].position, 100)));
      expect(a.sent.at(-1)).toBe(next[0]);
    });

    it('reads the log when a change is committed but not yet published (subscribe during a burst), and sends it once', () => {
      commit(log.record('news'));
      const after = log.head;
      commit(log.record('news'));
      const pending = readModel.apply([log.record('news'), log.record('sport'), log.record('news')]);
      const client = new FakeClient('a');
      const outcome = subscribe(client, 'news', after);
      expect(positionsOf(outcome.ok ? outcome.replay : [])).toEqual(positionsOf(readModel.changesSince('news', after, 100)));
      expect(outcome).toMatchObject({ ok: true, position: log.head });

      live.publish(pending);
      const next = commit(log.record('news'));
      expect(client.positions()).toEqual(positionsOf(readModel.changesSince('news', after, 100)));
      expect(client.positions().at(-1)).toBe(next[0].position);
    });

    it('does not serve across changes that were never published (e.g. a rebuild): a new run starts after the gap', () => {
      commit(log.record('news'));
      const after = log.head;
      commit(log.record('news'));
      readModel.apply([log.record('news')]); // applied, never published
      const published = commit(log.record('news'));
      const client = new FakeClient('a');
      const outcome = subscribe(client, 'news', after);
      expect(positionsOf(outcome.ok ? outcome.replay : [])).toEqual(positionsOf(readModel.changesSince('news', after, 100)));
      expect(outcome.ok && outcome.replay).toHaveLength(3);

      // From within the new run, memory serves again.
      const late = new FakeClient('b');
      const fromRun = subscribe(late, 'news', published[0].position);
      expect(fromRun).toEqual({ ok: true, position: log.head, replay: [] });
    });

    it('falls back to the log for a resume older than what is held (capacity), with the same result', () => {
      const small = new LiveSubscriptions(readModel, { ...limits, replayCache: 3 });
      const after = log.head;
      const changes = Array.from({ length: 6 }, () => readModel.apply([log.record(['news', 'sport'][Math.floor(Math.random() * 2)])])[0]);
      for (const change of changes) small.publish([change]);
      for (const change of [undefined, ...changes]) {
        const from = change?.position ?? after;
        const outcome = small.subscribe(new FakeClient(`c${from}`), 'news', from);
        expect(positionsOf(outcome.ok ? outcome.replay : [])).toEqual(positionsOf(readModel.changesSince('news', from, 100)));
      }
    });

    it('asks the log whether memory is up to date once per checkpoint, not once per resume', () => {
      const after = commit(log.record('news'))[0].position;
      commit(log.record('news'), log.record('news'));
      const reads = spy();
      const asks = jest.spyOn(readModel, 'nextChangePosition');
      for (let i = 0; i < 20; i++) expect(subscribe(new FakeClient(`c${i}`), 'news', after, i % 2 === 0)).toMatchObject({ ok: true, replay: [expect.anything(), expect.anything()] });
      expect(asks).toHaveBeenCalledTimes(1);
      expect(reads).not.toHaveBeenCalled(); // the answer comes from the index, no change is read
      // A change applied but not yet published moves the checkpoint: the log is asked again, and read.
      readModel.apply([log.record('news')]);
      const late = new FakeClient('late');
      subscribe(late, 'news', after, true);
      expect(late.positions()).toEqual(positionsOf(readModel.changesSince('news', after, 100)));
      expect(late.sent).toHaveLength(3);
    });

    it('ahead clients: nothing at or before their position, from memory as from the log', () => {
      const changes = [1, 2, 3].map(() => commit(log.record('news'))[0]);
      const ahead = position(Number(log.head) + 2);
      const client = new FakeClient('a');
      expect(subscribe(client, 'news', ahead)).toEqual({ ok: true, position: ahead, replay: [] });
      const behind = new FakeClient('b');
      expect(subscribe(behind, 'news', changes[0].position)).toMatchObject({ ok: true, replay: changes.slice(1) });
      const next = [1, 2, 3].map(() => commit(log.record('news'))[0]);
      expect(client.positions()).toEqual(positionsOf(next.slice(2)));
      expect(behind.positions()).toEqual(positionsOf([...changes.slice(1), ...next]));
    });
  });

  describe('batched replay (subscribe with batch: true)', () => {
    const events = (client: FakeClient) => client.messages.map((m) => m.event);

    it('sends what a client missed as one batch: the same updates, in the same order, as one update per change', () => {
      const after = commit(log.record('news'))[0].position;
      const first = commit(log.record('news'))[0];
      const missed = commit(log.record('news'), log.record('sport'), log.correct(first.entry.entryId), log.record('news'));
      const batched = new FakeClient('batched');
      const unbatched = new FakeClient('unbatched');
      const fromBatched = subscribe(batched, 'news', after, true);
      const fromUnbatched = subscribe(unbatched, 'news', after, false);

      expect(fromBatched).toEqual(fromUnbatched);
      expect(batched.sent).toEqual(unbatched.sent);
      expect(batched.positions()).toEqual(positionsOf(readModel.changesSince('news', after, 100)));
      expect(batched.positions()).toEqual(positionsOf([first, ...missed.filter((c) => c.timeline === 'news')]));
      expect(events(batched)).toEqual(['updates']);
      expect(batched.messages[0]).toMatchObject({ timeline: 'news' });
      expect(events(unbatched)).toEqual(['update', 'update', 'update', 'update']);
      // The same update objects either way: encoded once, whichever way they travel.
      batched.sent.forEach((update, i) => expect(update).toBe(unbatched.sent[i]));

      // Live changes come as `update`, to both.
      const next = commit(log.record('news'), log.record('sport'));
      expect(events(batched)).toEqual(['updates', 'update']);
      expect(batched.sent.at(-1)).toBe(next[0]);
      expect(unbatched.sent.at(-1)).toBe(next[0]);
      expect(batched.positions()).toEqual(unbatched.positions());
    });

    it('sends no batch when nothing was missed, or without after', () => {
      commit(log.record('news'));
      const upToDate = new FakeClient('a');
      const fresh = new FakeClient('b');
      expect(subscribe(upToDate, 'news', log.head, true)).toMatchObject({ ok: true, replay: [] });
      expect(subscribe(fresh, 'news', undefined, true)).toMatchObject({ ok: true, replay: [] });
      expect(upToDate.messages).toEqual([]);
      expect(fresh.messages).toEqual([]);
      const next = commit(log.record('news'));
      expect(upToDate.messages).toEqual([{ event: 'update', update: next[0] }]);
      expect(fresh.messages).toEqual([{ event: 'update', update: next[0] }]);
    });

    it('subscribing during a burst (committed, not yet published): the batch holds it, and it is not sent again', () => {
      commit(log.record('news'));
      const after = log.head;
      commit(log.record('news'));
      const pending = readModel.apply([log.record('news'), log.record('sport'), log.record('news')]);
      const batched = new FakeClient('batched');
      const unbatched = new FakeClient('unbatched');
      subscribe(batched, 'news', after, true);
      subscribe(unbatched, 'news', after, false);
      expect(batched.positions()).toEqual(positionsOf(readModel.changesSince('news', after, 100)));
      expect(events(batched)).toEqual(['updates']);

      live.publish(pending); // the projector publishes the burst after the subscribe: nothing new for either
      expect(events(batched)).toEqual(['updates']);
      const next = commit(log.record('news'));
      expect(batched.positions()).toEqual(positionsOf(readModel.changesSince('news', after, 100)));
      expect(new Set(batched.positions()).size).toBe(batched.sent.length);
      expect(batched.positions().at(-1)).toBe(next[0].position);
      expect(batched.sent).toEqual(unbatched.sent);
    });

    it('mixed clients from different positions: each gets exactly its own missed changes, then the same live ones', () => {
      const starts = [1, 2, 3, 4, 5, 6].map(() => commit(log.record('news'), log.record('sport'))[0].position);
      const clients = starts.map((after, i) => ({ after, batch: i % 2 === 0, client: new FakeClient(`c${i}`) }));
      for (const { client, after, batch } of clients) subscribe(client, 'news', after, batch);
      const live1 = commit(log.record('news'));
      for (const { client, after, batch } of clients) {
        expect(client.positions()).toEqual(positionsOf(readModel.changesSince('news', after, 100)));
        const missed = starts.filter((p) => p > after).length;
        expect(events(client)).toEqual(batch ? [...(missed > 0 ? ['updates'] : []), 'update'] : Array(missed + 1).fill('update'));
        expect(client.sent.at(-1)).toBe(live1[0]);
      }
    });
  });

  describe('unsubscribe and drop', () => {
    it('unsubscribe stops the updates of that timeline only; unknown unsubscribes are harmless', () => {
      const client = new FakeClient('a');
      subscribe(client, 'news');
      subscribe(client, 'sport');
      live.unsubscribe('a', 'news');
      live.unsubscribe('a', 'news');
      live.unsubscribe('nobody', 'sport');
      live.unsubscribe('a', 'no-such-timeline');
      const changes = commit(log.record('news'), log.record('sport'));
      expect(client.sent).toEqual([changes[1]]);
      expect(live.subscriptionCount()).toBe(1);
    });

    it('drop() removes a client from every timeline and leaves the others', () => {
      commit(log.open('weather'));
      const gone = new FakeClient('gone');
      const stays = new FakeClient('stays');
      for (const timeline of ['news', 'sport', 'weather']) subscribe(gone, timeline);
      subscribe(stays, 'sport');
      expect(live.subscriptionCount()).toBe(4);

      live.drop('gone');
      expect(live.subscriptionCount()).toBe(1);
      const changes = commit(log.record('news'), log.record('sport'), log.record('weather'));
      expect(gone.sent).toEqual([]);
      expect(stays.sent).toEqual([changes[1]]);
      live.drop('gone');
      live.drop('never-seen');
      expect(live.subscriptionCount()).toBe(1);
    });
  });

  it.each([
    ['no cache', 0],
    ['a cache of 3 changes', 3],
    ['the default cache', undefined],
  ])('keeps the guarantee under any interleaving of commits, late publishes and subscribes (%s)', (_name, replayCache) => {
    type Op =
      | { kind: 'write'; timeline: number; correct: boolean; publishNow: boolean }
      | { kind: 'publish' }
      | { kind: 'subscribe'; client: number; timeline: number; after: 'none' | 'ahead' | number; batch: boolean };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), timeline: fc.nat(1), correct: fc.boolean(), publishNow: fc.boolean() }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'publish' as const }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('subscribe' as const),
          client: fc.nat(4),
          timeline: fc.nat(1),
          after: fc.oneof(fc.constant('none' as const), fc.constant('ahead' as const), fc.nat(15)),
          batch: fc.boolean(),
        }),
      },
    );
    let run = 0;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const model = new SqliteReadModel(join(dir, `interleaving-${run++}.sqlite`));
        try {
          const events = new Log();
          const subs = new LiveSubscriptions(model, { maxQueued: 1000, maxReplay: 6, replayCache });
          const slugs = ['news', 'sport'];
          subs.publish(model.apply([events.open('news'), events.open('sport')]));
          const positions = [events.head];
          const lastEntry: Array<string | undefined> = [undefined, undefined];
          let pending: LiveUpdate[] = [];
          const started = new Map<number, { client: FakeClient; timeline: string; from: string }>();

          for (const o of ops) {
            if (o.kind === 'write') {
              const entryId = lastEntry[o.timeline];
              const event = o.correct && entryId ? events.correct(entryId) : events.record(slugs[o.timeline]);
              lastEntry[o.timeline] = event.data.entryId as string;
              pending.push(...model.apply([event]));
              positions.push(event.position);
              if (o.publishNow) {
                subs.publish(pending);
                pending = [];
              }
            } else if (o.kind === 'publish') {
              subs.publish(pending);
              pending = [];
            } else if (!started.has(o.client)) {
              const client = new FakeClient(`c${o.client}`);
              const timeline = slugs[o.timeline];
              const after =
                o.after === 'none' ? undefined : o.after === 'ahead' ? position(Number(events.head) + 2) : positions[Math.max(0, positions.length - 1 - o.after)];
              const outcome = subs.subscribe(client, timeline, after);
              if (!outcome.ok) {
                expect(model.changesSince(timeline, after!, 100).length).toBeGreaterThan(6);
                continue;
              }
              sendReplay(client, timeline, outcome.replay, o.batch);
              started.set(o.client, { client, timeline, from: after ?? outcome.position! });
              if (after !== undefined) expect(outcome.position).toBe(after > model.checkpoint()! ? after : model.checkpoint());
            }
          }
          subs.publish(pending);

          for (const { client, timeline, from } of started.values()) {
            expect(client.positions()).toEqual(positionsOf(model.changesSince(timeline, from, 1000)));
            expect(client.sent.every((u) => u.timeline === timeline)).toBe(true);
          }
        } finally {
          model.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
