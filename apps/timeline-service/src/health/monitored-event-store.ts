import {
  DuplicateEventIdError,
  StoreUnavailableError,
  WrongExpectedVersionError,
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

/** What happened to one append, for metrics (see metrics/store-metrics.ts). */
export interface AppendObservation {
  stream: string;
  events: readonly NewEvent[];
  /** ok; conflict (wrong expected revision, a duplicate id: the store answered); unavailable (StoreUnavailableError); error (anything else). */
  outcome: 'ok' | 'conflict' | 'unavailable' | 'error';
  seconds: number;
}

export interface AppendObserver {
  appended(observation: AppendObservation): void;
}

export interface MonitorOptions {
  /** Told of every append and how long it took. */
  observer?: AppendObserver;
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
  private readonly observer: AppendObserver | undefined;

  constructor(
    readonly inner: EventStore,
    options: MonitorOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.observer = options.observer;
  }

  /** The failures that still count (see MonitorOptions.windowMs), writes first. */
  currentFailures(): StoreFailure[] {
    const now = this.now();
    return [this.failures.write, this.failures.read].filter((f): f is StoreFailure => f !== null && now - f.last.getTime() < this.windowMs);
  }

  append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const appending = this.watch('write', () => this.inner.append(stream, events, expected));
    const observer = this.observer;
    if (observer === undefined) return appending;
    const started = process.hrtime.bigint();
    const observe = (outcome: AppendObservation['outcome']) => {
      try {
        observer.appended({ stream, events, outcome, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
      } catch {
        // Metrics never fail an append.
      }
    };
    return appending.then(
      (result) => {
        observe('ok');
        return result;
      },
      (error: unknown) => {
        observe(outcomeOf(error));
        throw error;
      },
    );
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

function outcomeOf(error: unknown): AppendObservation['outcome'] {
  if (error instanceof StoreUnavailableError) return 'unavailable';
  if (error instanceof WrongExpectedVersionError || error instanceof DuplicateEventIdError) return 'conflict';
  return 'error';
}
