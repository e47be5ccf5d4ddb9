import type { AllStreamSubscription } from '@kurrent/kurrentdb-client';
import { StoreUnavailableError } from '../event-store.errors';
import type { EventSubscription, Position, RecordedEvent } from '../event-store.port';
import { isSystem, toRecorded, toStoreError } from './kurrentdb-mapping';

export const HISTORY_PAGE = 500;

const CLOSED = Symbol('closed');

/**
 * Catch-up subscription: pages through history with readAll, then hands over
 * to a live server subscription starting after the last event yielded. The
 * server subscription itself catches up from that point, so events written
 * during the hand-over are not lost; anything at or before the last yielded
 * position is dropped, so none is delivered twice.
 */
export class KurrentDbSubscription implements EventSubscription {
  private closed = false;
  /** Settles the wait in progress, if any, with CLOSED. */
  private wakeWaiter: (() => void) | undefined;
  private live: AllStreamSubscription | undefined;
  private iterator: AsyncGenerator<RecordedEvent[], void, undefined> | undefined;

  constructor(
    private readonly after: Position | undefined,
    private readonly readPage: (after: Position | undefined) => Promise<RecordedEvent[]>,
    private readonly openLive: (after: Position | undefined) => AllStreamSubscription,
    private readonly onClose: () => void,
  ) {}

  [Symbol.asyncIterator](): AsyncGenerator<RecordedEvent[], void, undefined> {
    // One server subscription per EventSubscription, however often it is iterated.
    this.iterator ??= this.run();
    return this.iterator;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.wakeWaiter?.(); // ends an iteration waiting on the server
    await this.releaseLive();
  }

  private async *run(): AsyncGenerator<RecordedEvent[], void, undefined> {
    let last = this.after;
    try {
      for (;;) {
        if (this.closed) return;
        const page = await this.unlessClosed(this.readPage(last));
        if (page === CLOSED) return;
        if (page.length > 0) {
          last = page[page.length - 1].position;
          yield page;
        }
        if (page.length < HISTORY_PAGE) break;
      }
      if (this.closed) return;
      this.live = this.openLive(last);
      // The client emits 'error' on the stream; without a listener a late one (after
      // we stopped iterating) would crash the process. Iteration still sees errors.
      this.live.on('error', () => undefined);
      const events = this.live[Symbol.asyncIterator]();
      for (;;) {
        const next = await this.unlessClosed(events.next());
        if (next === CLOSED) return;
        if (next.done) throw new StoreUnavailableError('KurrentDB ended the $all subscription');
        const raw = next.value.event;
        if (!raw || isSystem(raw)) continue;
        const event = toRecorded(raw);
        if (last !== undefined && event.position <= last) continue;
        last = event.position;
        yield [event];
      }
    } catch (error) {
      if (this.closed) return; // errors caused by tearing the subscription down
      throw toStoreError(error);
    } finally {
      // Also reached on `break` in for-await (the generator's return()).
      await this.close();
    }
  }

  /**
   * Resolves with CLOSED as soon as close() is called, so no wait outlives the
   * subscription. (Not Promise.race against one long-lived "closed" promise:
   * that would pile up a reaction per event for the subscription's lifetime.)
   */
  private unlessClosed<T>(promise: Promise<T>): Promise<T | typeof CLOSED> {
    return new Promise((resolve, reject) => {
      const wake = () => resolve(CLOSED);
      const settle = () => {
        if (this.wakeWaiter === wake) this.wakeWaiter = undefined;
      };
      // Always handled, so a read that fails after we stopped waiting is not an unhandled rejection.
      promise.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
      if (this.closed) wake();
      else this.wakeWaiter = wake;
    });
  }

  private async releaseLive(): Promise<void> {
    const live = this.live;
    this.live = undefined;
    if (!live) return;
    const unsubscribing = live.unsubscribe(); // cancels the gRPC call: frees the server side
    live.destroy(); // ends the local stream at once, whatever the server does
    await unsubscribing.catch(() => undefined);
  }
}
