import type { LiveFeedError, LiveHandlers, Subscription } from './live-client';
import type { LiveUpdate, Position } from './types';

/*
 * What a feed keeps per followed timeline, and the rules both transports
 * (LiveFeed over socket.io, SseFeed over SSE) apply to it: written once here.
 */

export interface Followed {
  timeline: string;
  handlers: LiveHandlers;
  /** The last position received: where a resume starts. */
  position: Position | null;
  ended: boolean;
  settle: { resolve(position: Position | null): void; reject(error: LiveFeedError): void } | null;
}

/** Registers `entry` under its timeline and returns the caller's handle on it. */
export function startFollowing<F extends Followed>(followed: Map<string, F>, entry: F, unsubscribe: () => Promise<void>): Subscription {
  const ready = new Promise<Position | null>((resolve, reject) => (entry.settle = { resolve, reject }));
  // Callers who rely on onError need not also handle `ready`.
  ready.catch(() => undefined);
  followed.set(entry.timeline, entry);
  return {
    timeline: entry.timeline,
    ready,
    get position() {
      return entry.position;
    },
    unsubscribe,
  };
}

/** Hands the update on unless it is at or before the last position received: nothing twice, nothing backwards. */
export function deliverUpdate(entry: Followed | undefined, update: LiveUpdate): void {
  if (!entry || entry.ended) return;
  // Positions are zero-padded, so string order is log order.
  if (entry.position !== null && update.position <= entry.position) return;
  entry.position = update.position;
  entry.handlers.onUpdate(update);
}

/** Ends the subscription once: `ready` rejects, and with `report` onError hears why. False when it had ended already. */
export function endFollowing(followed: Map<string, Followed>, entry: Followed, error: LiveFeedError, report: boolean): boolean {
  if (entry.ended) return false;
  entry.ended = true;
  followed.delete(entry.timeline);
  entry.settle?.reject(error);
  entry.settle = null;
  if (report) entry.handlers.onError?.(error);
  return true;
}
