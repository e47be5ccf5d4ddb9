import type { EventSubscription, Position, RecordedEvent } from '../event-store.port';

/**
 * A catch-up subscription over the SQLite log. History and live events come
 * from the same query ("events after my last position"), so there is no
 * hand-over to get wrong: no gap and no duplicate by construction.
 */
export class SqliteSubscription implements EventSubscription {
  private closed = false;
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly readAfter: (after: Position | undefined) => RecordedEvent[],
    private after: Position | undefined,
    private readonly pollIntervalMs: number,
    private readonly onClose: () => void,
  ) {}

  /** Called by the store after a commit, so in-process subscribers need not wait for the poll. */
  wake(): void {
    this.wakeUp?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RecordedEvent[]> {
    try {
      while (!this.closed) {
        const batch = this.readAfter(this.after);
        if (batch.length > 0) {
          this.after = batch[batch.length - 1].position;
          yield batch;
          continue;
        }
        await this.idle();
      }
    } finally {
      await this.close();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.pollIntervalMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeUp = null;
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
