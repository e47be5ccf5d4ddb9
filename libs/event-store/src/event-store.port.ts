/**
 * The event store port. Semantics follow KurrentDB (EventStoreDB) so that the
 * embedded SQLite adapter and the KurrentDB adapter are interchangeable; the
 * contract suite in ./testing/event-store.contract.ts is the executable spec.
 */

/**
 * A place in the global log. Adapters encode positions as fixed-width strings,
 * so plain string comparison (`a < b`) is log order. Positions are opaque:
 * compare them, store them, hand them back; never do arithmetic on them.
 */
export type Position = string;

/** What the writer believes about the stream before appending (optimistic concurrency). */
export type ExpectedRevision = 'no-stream' | 'stream-exists' | 'any' | number;

/** Metadata every event carries; adapters may add keys (e.g. tamper-evidence hashes). */
export interface EventMetadata {
  /** Who asked for the change: the API key's name, or 'seed', 'import', ... */
  recordedBy: string;
  /** Ties together every event caused by one request. */
  correlationId: string;
  /** The message (request or event id) that directly caused this one. */
  causationId: string | null;
  /** Version of the event's data schema, for upcasting later. */
  schemaVersion: number;
  [key: string]: unknown;
}

export interface NewEvent {
  /**
   * A uuid, new for every event: never reuse one.
   *
   * Both stores promise: re-appending the same events (same ids, same order) to
   * the same stream at the same exact revision or 'no-stream' returns the
   * original result and writes nothing, however long ago the original was.
   * Retry that way (handleCommand does).
   *
   * They differ elsewhere, and callers may rely on neither: the embedded store
   * refuses an id already used anywhere in the log (DuplicateEventIdError), and
   * recognises a retry at 'any' or 'stream-exists' for ever; KurrentDB accepts
   * an id used in another stream as a new event, and recognises a retry at 'any'
   * or 'stream-exists' only while the id is in its bounded cache of recent ids
   * (after that the retry writes a duplicate).
   */
  id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
}

export interface RecordedEvent {
  id: string;
  stream: string;
  /** 0-based index of the event in its stream. */
  revision: number;
  position: Position;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  /** The store's own clock at append time, ISO-8601 UTC. */
  recordedAt: string;
}

export interface AppendResult {
  /** Revision of the last event written: the expected revision for the next append. */
  revision: number;
  /** Position of the last event written. */
  position: Position;
}

export interface ReadStreamOptions {
  fromRevision?: number;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Omit to read from the start. */
  after?: Position;
  /** At most this many events (adapters cap it). */
  limit?: number;
}

export interface SubscribeOptions {
  /** Exclusive: deliver events strictly after this position. Omit for the whole log. */
  after?: Position;
}

/**
 * A catch-up subscription to the whole log: yields batches of events in log
 * order, first the history after `after`, then live events, with no gap and no
 * duplicate at the hand-over. Iteration ends only when close() is called.
 */
export interface EventSubscription extends AsyncIterable<RecordedEvent[]> {
  close(): Promise<void>;
}

export interface EventStore {
  /** Throws WrongExpectedVersionError when `expected` does not hold. */
  append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  /** Events of one stream, oldest first; [] when the stream does not exist. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** A page of the global log, in log order. Only this application's events (no system events). */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(options?: SubscribeOptions): EventSubscription;
  /** Position of the last event in the log, or null when the log is empty. */
  headPosition(): Promise<Position | null>;
  /** Whether a string is a position of this store (each adapter has its own form). */
  isPosition(value: string): boolean;
  close(): Promise<void>;
}
