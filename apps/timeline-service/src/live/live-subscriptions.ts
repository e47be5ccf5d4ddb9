import type { Position } from '@timeline/event-store';
import type { EntryChange, TimelineReadModel } from '@timeline/projections';
import { LiveReplayCache } from './live-replay-cache';

/** What the server pushes: a change to one entry, the entry as the read model now has it. */
export type LiveUpdate = EntryChange;

/** One connected page, as the registry needs to see it. */
export interface LiveClient {
  readonly id: string;
  send(update: LiveUpdate): void;
  /**
   * Sends these updates of one timeline, in order, as one or a few `updates`
   * messages (a batched replay). Clients resuming from the same position get
   * the same array contents, so an implementation may encode a batch once.
   */
  sendBatch(timeline: string, updates: readonly LiveUpdate[]): void;
  /** Messages accepted for this client but not yet written to its connection. */
  queued(): number;
  resync(timeline: string, reason: string): void;
}

export interface LiveLimits {
  /** A client with more messages than this waiting is told to resync and dropped from the timeline. */
  maxQueued: number;
  /** A resume that missed more changes than this is refused with resync_required. */
  maxReplay: number;
  /**
   * How many recent changes (all timelines together) to keep in memory for
   * resuming clients; 0 reads every resume from the change log. Default 2048.
   */
  replayCache?: number;
}

/** Changes kept in memory for resumes unless LiveLimits.replayCache says otherwise. */
export const DEFAULT_REPLAY_CACHE = 2048;

/** Who wants to know what the feed does (metrics); every method is on the hot path, so keep it cheap. */
export interface LiveObserver {
  updatesPushed(count: number): void;
  resynced(reason: 'slow_consumer' | 'resync_required'): void;
}

const unobserved: LiveObserver = { updatesPushed: () => undefined, resynced: () => undefined };

export type SubscribeOutcome =
  | { ok: true; position: Position | null; replay: LiveUpdate[] }
  | { ok: false; code: 'resync_required'; message: string };

/**
 * Sends a subscribe's replay: one `update` per change, or with `batch` (the
 * client asked for it) as batched `updates` messages; the same changes in the
 * same order either way. Call it in the synchronous step of subscribe(),
 * right after the ack; an empty replay sends nothing.
 */
export function sendReplay(client: LiveClient, timeline: string, replay: readonly LiveUpdate[], batch: boolean): void {
  if (replay.length === 0) return;
  if (batch) client.sendBatch(timeline, replay);
  else for (const update of replay) client.send(update);
}

interface Subscription {
  client: LiveClient;
  /** The last position this client has been sent, or told about in its ack. */
  lastSent: Position | null;
}

/**
 * Who follows which timeline, and what each of them has been sent.
 *
 * The guarantee: after subscribe(after = P) a client receives every change of
 * the timeline with position > P exactly once, in order. Missed changes come
 * from the read model's change log, live ones from the projector after each
 * commit. subscribe() reads the log and registers in one synchronous step, and
 * the projector publishes only between steps, so there is no gap at the
 * hand-over; `lastSent` filters anything already sent, so no duplicate.
 *
 * Recent changes are kept in memory (LiveReplayCache), so that clients
 * resuming from about the same place share one read of the log and the same
 * update objects: a LiveClient may encode an update once and reuse that for
 * every client it is sent to (published and replayed updates are never
 * modified).
 */
export class LiveSubscriptions {
  private readonly byTimeline = new Map<string, Map<string, Subscription>>();
  private readonly recent: LiveReplayCache;

  constructor(
    private readonly readModel: TimelineReadModel,
    private readonly limits: LiveLimits,
    private readonly observer: LiveObserver = unobserved,
  ) {
    this.recent = new LiveReplayCache(readModel, limits.replayCache ?? DEFAULT_REPLAY_CACHE);
  }

  /**
   * Registers the client; the caller must send `replay` (sendReplay) before
   * returning to the event loop. Whether the replay goes out batched or not
   * changes only its packaging on the wire, not what is sent or `lastSent`.
   */
  subscribe(client: LiveClient, timeline: string, after: Position | undefined): SubscribeOutcome {
    const checkpoint = this.readModel.checkpoint();
    let replay: LiveUpdate[] = [];
    if (after !== undefined) {
      replay = this.recent.changesAfter(timeline, after) ?? this.readModel.changesSince(timeline, after, this.limits.maxReplay + 1);
      if (replay.length > this.limits.maxReplay) {
        this.observer.resynced('resync_required');
        return {
          ok: false,
          code: 'resync_required',
          message: `more than ${this.limits.maxReplay} changes since ${after}: reload the timeline, then subscribe after its position`,
        };
      }
    }
    // The replay holds every change up to the checkpoint, so live delivery
    // continues from there; a client coming from an instance whose projector is
    // ahead of ours has already seen up to `after`, which is then later still.
    const lastSent = after !== undefined && (checkpoint === null || after > checkpoint) ? after : checkpoint;
    let subscribers = this.byTimeline.get(timeline);
    if (!subscribers) this.byTimeline.set(timeline, (subscribers = new Map()));
    subscribers.set(client.id, { client, lastSent });
    return { ok: true, position: lastSent, replay };
  }

  unsubscribe(clientId: string, timeline: string): void {
    const subscribers = this.byTimeline.get(timeline);
    subscribers?.delete(clientId);
    if (subscribers?.size === 0) this.byTimeline.delete(timeline);
  }

  /** Forgets a client that disconnected. */
  drop(clientId: string): void {
    for (const timeline of [...this.byTimeline.keys()]) this.unsubscribe(clientId, timeline);
  }

  /** Called by the projector after each commit, with the batch's changes in log order. */
  publish(changes: readonly LiveUpdate[]): void {
    let pushed = 0;
    for (const change of changes) {
      this.recent.add(change);
      const subscribers = this.byTimeline.get(change.timeline);
      if (!subscribers) continue;
      for (const subscription of [...subscribers.values()]) if (this.deliver(subscription, change)) pushed++;
    }
    this.observer.updatesPushed(pushed); // once per batch: thousands of sockets may follow one timeline
  }

  subscriptionCount(): number {
    let count = 0;
    for (const subscribers of this.byTimeline.values()) count += subscribers.size;
    return count;
  }

  /** Sends the change unless the client has it already; true when sent. */
  private deliver(subscription: Subscription, change: LiveUpdate): boolean {
    if (subscription.lastSent !== null && change.position <= subscription.lastSent) return false;
    const { client } = subscription;
    if (client.queued() >= this.limits.maxQueued) {
      // Rather than let a reader that stopped reading grow our memory without
      // bound, stop following the timeline for it and say so: it can reload
      // and subscribe again from the position it has.
      this.unsubscribe(client.id, change.timeline);
      client.resync(change.timeline, 'slow_consumer');
      this.observer.resynced('slow_consumer');
      return false;
    }
    client.send(change);
    subscription.lastSent = change.position;
    return true;
  }
}
