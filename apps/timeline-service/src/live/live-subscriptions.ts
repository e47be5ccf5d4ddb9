import type { Position } from '@timeline/event-store';
import type { EntryChange, SqliteReadModel } from '@timeline/projections';

/** What the server pushes: a change to one entry, the entry as the read model now has it. */
export type LiveUpdate = EntryChange;

/** One connected page, as the registry needs to see it. */
export interface LiveClient {
  readonly id: string;
  send(update: LiveUpdate): void;
  /** Messages accepted for this client but not yet written to its connection. */
  queued(): number;
  resync(timeline: string, reason: string): void;
}

export interface LiveLimits {
  /** A client with more messages than this waiting is told to resync and dropped from the timeline. */
  maxQueued: number;
  /** A resume that missed more changes than this is refused with resync_required. */
  maxReplay: number;
}

export type SubscribeOutcome =
  | { ok: true; position: Position | null; replay: LiveUpdate[] }
  | { ok: false; code: 'resync_required'; message: string };

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
 */
export class LiveSubscriptions {
  private readonly byTimeline = new Map<string, Map<string, Subscription>>();

  constructor(
    private readonly readModel: SqliteReadModel,
    private readonly limits: LiveLimits,
  ) {}

  /** Registers the client; the caller must send `replay` before returning to the event loop. */
  subscribe(client: LiveClient, timeline: string, after: Position | undefined): SubscribeOutcome {
    const checkpoint = this.readModel.checkpoint();
    let replay: LiveUpdate[] = [];
    if (after !== undefined) {
      replay = this.readModel.changesSince(timeline, after, this.limits.maxReplay + 1);
      if (replay.length > this.limits.maxReplay) {
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
    for (const change of changes) {
      const subscribers = this.byTimeline.get(change.timeline);
      if (!subscribers) continue;
      for (const subscription of [...subscribers.values()]) this.deliver(subscription, change);
    }
  }

  subscriptionCount(): number {
    let count = 0;
    for (const subscribers of this.byTimeline.values()) count += subscribers.size;
    return count;
  }

  private deliver(subscription: Subscription, change: LiveUpdate): void {
    if (subscription.lastSent !== null && change.position <= subscription.lastSent) return;
    const { client } = subscription;
    if (client.queued() >= this.limits.maxQueued) {
      // Rather than let a reader that stopped reading grow our memory without
      // bound, stop following the timeline for it and say so: it can reload
      // and subscribe again from the position it has.
      this.unsubscribe(client.id, change.timeline);
      client.resync(change.timeline, 'slow_consumer');
      return;
    }
    client.send(change);
    subscription.lastSent = change.position;
  }
}
