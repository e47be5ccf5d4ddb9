import {
  StoreUnavailableError,
  type AppendResult,
  type EventStore,
  type EventSubscription,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from '@timeline/event-store';

export interface StoreFailure {
  /** What could not be done: take a write, or answer a read. */
  operation: 'write' | 'read';
  /** The StoreUnavailableError's message: names the store and what is wrong. */
  message: string;
  /** The first failure of this run of failures. */
  since: Date;
  /** The latest. */
  last: Date;
}

export interface MonitorOptions {
  /**
   * A failure counts for this long after the latest attempt that failed,
   * unless an attempt succeeds first. Writes are only tried when someone
   * writes: without a window, a store that came back while nobody wrote
   * would be reported unavailable for ever. Default 30 s.
   */
  windowMs?: number;
  now?: () => number;
}

/**
 * The event store as the app uses it, watched: every call that fails with
 * StoreUnavailableError is remembered, and cleared by the next call of the
 * same kind (write or read) that the store answers, so that /health can say
 * whether the store works without writing anything to find out. Works the
 * same for every adapter (SQLite, KurrentDB); the adapter itself is `inner`.
 */
export class MonitoredEventStore implements EventStore {
  private readonly failures: { write: StoreFailure | null; read: StoreFailure | null } = { write: null, read: null };
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(
    readonly inner: EventStore,
    options: MonitorOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The failures that still count (see MonitorOptions.windowMs), writes first. */
  currentFailures(): StoreFailure[] {
    const now = this.now();
    return [this.failures.write, this.failures.read].filter((f): f is StoreFailure => f !== null && now - f.last.getTime() < this.windowMs);
  }

  append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    return this.watch('write', () => this.inner.append(stream, events, expected));
  }

  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.watch('read', () => this.inner.readStream(stream, options));
  }

  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.watch('read', () => this.inner.readAll(options));
  }

  headPosition(): Promise<Position | null> {
    return this.watch('read', () => this.inner.headPosition());
  }

  /** The projector's subscription: its failures show in Projector.lastError. */
  subscribeToAll(options?: SubscribeOptions): EventSubscription {
    return this.inner.subscribeToAll(options);
  }

  isPosition(value: string): boolean {
    return this.inner.isPosition(value);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async watch<T>(operation: 'write' | 'read', call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      this.failures[operation] = null;
      return result;
    } catch (error) {
      // Any other error (a wrong expected revision, a bad position) is an answer: the store works.
      if (error instanceof StoreUnavailableError) {
        const at = new Date(this.now());
        const previous = this.failures[operation];
        const ongoing = previous !== null && at.getTime() - previous.last.getTime() < this.windowMs;
        this.failures[operation] = { operation, message: error.message, since: ongoing ? previous.since : at, last: at };
      } else {
        this.failures[operation] = null;
      }
      throw error;
    }
  }
}
