import {
  ANY,
  BACKWARDS,
  CancelledError,
  DeadlineExceededError,
  END,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  KurrentDBClient,
  NO_STREAM,
  NotLeaderError,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError as KurrentWrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import type {
  AllStreamSubscription,
  AppendStreamState,
  CurrentStreamState,
  Direction,
  ReadPosition,
} from '@kurrent/kurrentdb-client';
import { StoreUnavailableError, WrongExpectedVersionError } from '../event-store.errors';
import type {
  AppendResult,
  EventMetadata,
  EventStore,
  EventSubscription,
  ExpectedRevision,
  NewEvent,
  Position,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
} from '../event-store.port';
import { decodeKurrentDbPosition, encodeKurrentDbPosition, type KurrentDbLogPosition } from './kurrentdb-positions';

const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10_000;
const HISTORY_PAGE = 500;
const NOT_LEADER_ATTEMPTS = 3;
const U64_MAX = (1n << 64n) - 1n;

/** The fields we use of the client's recorded events (stream reads and $all reads alike). */
interface ClientRecord {
  id: string;
  streamId: string;
  revision: bigint;
  type: string;
  created: Date | number;
  data: unknown;
  metadata: unknown;
  position?: KurrentDbLogPosition;
}

/**
 * The EventStore port over KurrentDB (gRPC client @kurrent/kurrentdb-client).
 *
 * KurrentDB does the hard parts itself: optimistic concurrency, idempotent
 * re-appends (by event id at the same expected revision) and a global log with
 * (commit, prepare) positions. This adapter translates types and errors, and
 * makes $all reads exclusive of `after` (KurrentDB's are inclusive).
 */
export class KurrentDbEventStore implements EventStore {
  private readonly subscriptions = new Set<KurrentDbSubscription>();
  private closed = false;

  constructor(private readonly client: KurrentDBClient) {}

  /** e.g. kurrentdb://localhost:2113?tls=false */
  static fromConnectionString(connectionString: string): KurrentDbEventStore {
    return new KurrentDbEventStore(KurrentDBClient.connectionString(connectionString));
  }

  async append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const proposed = events.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data, metadata: e.metadata }));
    const result = await this.call(() => this.client.appendToStream(stream, proposed, { streamState: toStreamState(expected) }), {
      stream,
      expected,
    });
    // Only reachable when the connection string sets throwOnAppendFailure=false.
    if (!result.success) throw new WrongExpectedVersionError(stream, expected, toActual(result.nextExpectedRevision));
    const revision = result.nextExpectedRevision;
    // The append's own position is not relied on: an idempotent retry answers without one
    // (or with another log position), and the server reports one number as both commit and
    // prepare, which for multi-event appends need not be the last event's (commit, prepare).
    // Reading the last event back gives exactly what readStream/readAll report, and the
    // same answer for the original append and every retry of it.
    const position = await this.positionOf(stream, revision, events[events.length - 1].id);
    return { revision: Number(revision), position };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const { fromRevision, maxCount } = options;
    if (maxCount !== undefined && maxCount <= 0) return [];
    return this.call(async () => {
      const events: RecordedEvent[] = [];
      try {
        const reading = this.client.readStream(stream, {
          fromRevision: fromRevision === undefined ? START : BigInt(fromRevision),
          maxCount,
        });
        for await (const resolved of reading) {
          if (resolved.event) events.push(toRecorded(resolved.event));
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return [];
        throw error;
      }
      return events;
    });
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = clampLimit(options.limit);
    if (options.after !== undefined) decodeKurrentDbPosition(options.after); // malformed: fail before any I/O
    return this.call(async () => {
      const page: RecordedEvent[] = [];
      // +1: the read starts *at* `after`, which is then skipped.
      for await (const event of this.scanAll(FORWARDS, options.after, limit + 1)) {
        page.push(event);
        if (page.length === limit) break;
      }
      return page;
    });
  }

  subscribeToAll(options: SubscribeOptions = {}): EventSubscription {
    this.assertOpen();
    if (options.after !== undefined) decodeKurrentDbPosition(options.after); // reject a malformed position now, not later
    const subscription = new KurrentDbSubscription(
      options.after,
      (after) => this.readAll({ after, limit: HISTORY_PAGE }),
      (after) =>
        this.client.subscribeToAll({
          // Subscriptions start strictly after fromPosition (unlike reads); the
          // subscription also drops anything at or before `after` in case that changes.
          fromPosition: after === undefined ? START : decodeKurrentDbPosition(after),
          filter: excludeSystemEvents(),
        }),
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<Position | null> {
    this.assertOpen();
    return this.call(async () => {
      for await (const event of this.scanAll(BACKWARDS, undefined, 32)) return event.position;
      return null;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
  }

  /**
   * Application events of $all in `direction`, strictly beyond `start`, read in
   * pages. System events are filtered by the server (event types starting with
   * '$'); events of '$' streams are dropped here too, which is why one server
   * page may not fill a caller's page and we keep reading.
   */
  private async *scanAll(direction: Direction, start: Position | undefined, pageSize: number): AsyncGenerator<RecordedEvent> {
    const forwards = direction === FORWARDS;
    // At least 2: reads include the event at `cursor`, so a page of 1 would never advance.
    const maxCount = Math.max(pageSize, 2);
    let cursor = start;
    for (;;) {
      const from: ReadPosition = cursor === undefined ? (forwards ? START : END) : decodeKurrentDbPosition(cursor);
      let read = 0;
      let advanced = false;
      for await (const resolved of this.client.readAll({ direction, fromPosition: from, maxCount, filter: excludeSystemEvents() })) {
        read += 1;
        const event = resolved.event;
        if (!event) continue;
        const position = encodeKurrentDbPosition(event.position);
        if (cursor !== undefined && (forwards ? position <= cursor : position >= cursor)) continue;
        cursor = position;
        advanced = true;
        if (!isSystem(event)) yield toRecorded(event, position);
      }
      if (read < maxCount || !advanced) return;
    }
  }

  /** Reads back the event an append just wrote (or had written, for a retry) to learn its log position. */
  private async positionOf(stream: string, revision: bigint, eventId: string): Promise<Position> {
    return this.call(async () => {
      // From the leader: a follower may not have the event yet.
      const reading = this.client.readStream(stream, { fromRevision: revision, maxCount: 1, requiresLeader: true });
      for await (const resolved of reading) {
        const event = resolved.event;
        if (event && event.id.toLowerCase() === eventId.toLowerCase()) return toRecorded(event).position;
      }
      throw new Error(`KurrentDB: event ${eventId} is not at ${stream}@${revision} right after appending it there`);
    });
  }

  /**
   * Runs one client call, translating its errors into the port's. NotLeader is
   * retried: the client reconnects to the leader after reporting it, and the
   * request was refused, not executed, so repeating it is safe.
   */
  private async call<T>(run: () => Promise<T>, append?: { stream: string; expected: ExpectedRevision }): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (error instanceof NotLeaderError && attempt < NOT_LEADER_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
          continue;
        }
        if (append && error instanceof KurrentWrongExpectedVersionError) {
          throw new WrongExpectedVersionError(append.stream, append.expected, toActual(error.actualState));
        }
        throw toStoreError(error);
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the event store is closed');
  }
}

const CLOSED = Symbol('closed');

/**
 * Catch-up subscription: pages through history with readAll, then hands over
 * to a live server subscription starting after the last event yielded. The
 * server subscription itself catches up from that point, so events written
 * during the hand-over are not lost; anything at or before the last yielded
 * position is dropped, so none is delivered twice.
 */
class KurrentDbSubscription implements EventSubscription {
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

function toStreamState(expected: ExpectedRevision): AppendStreamState {
  switch (expected) {
    case 'no-stream':
      return NO_STREAM;
    case 'stream-exists':
      return STREAM_EXISTS;
    case 'any':
      return ANY;
    default:
      return BigInt(expected);
  }
}

/** The client says 'no_stream', or a negative revision (-1 no stream, -5/-6 deleted), for a stream without events. */
function toActual(state: CurrentStreamState): number | 'no-stream' {
  return typeof state === 'bigint' && state >= 0n ? Number(state) : 'no-stream';
}

function toRecorded(event: ClientRecord, encoded?: Position): RecordedEvent {
  const position = encoded ?? encodePosition(event);
  return {
    id: event.id,
    stream: event.streamId,
    revision: Number(event.revision),
    position,
    type: event.type,
    data: asRecord(event.data),
    // Our own appends always carry EventMetadata; events written by other tools are passed through as they are.
    metadata: asRecord(event.metadata) as EventMetadata,
    recordedAt: toIsoString(event.created),
  };
}

function encodePosition(event: ClientRecord): Position {
  const p = event.position;
  // Servers before 22.6 send no position on stream reads; the server writes u64 max for "unknown".
  if (!p || p.commit === U64_MAX || p.prepare === U64_MAX) {
    throw new Error(`KurrentDB sent no log position for ${event.streamId}@${event.revision} (server older than 22.6?)`);
  }
  return encodeKurrentDbPosition(p);
}

/** JSON events arrive parsed; anything else (binary data, a JSON array or string) has no fields to offer. */
function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
    ? (value as Record<string, unknown>)
    : {};
}

const MAX_DATE_MS = 8.64e15;
const TICKS_PER_MS = 10_000;

/** The client types `created` as a Date; older code paths carried a number (ms, or .NET ticks of 100ns). */
function toIsoString(created: Date | number): string {
  const date =
    created instanceof Date ? created : new Date(Math.abs(created) > MAX_DATE_MS ? Math.floor(created / TICKS_PER_MS) : created);
  // The client itself falls back to the epoch when the server omits the timestamp.
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}

function isSystem(event: { type: string; streamId: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIMIT;
  return Math.min(Math.max(Math.floor(limit), 1), MAX_LIMIT);
}

/** Connection-level failures become StoreUnavailableError; everything else keeps its meaning. */
function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || error instanceof WrongExpectedVersionError) return error;
  const unavailable =
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof NotLeaderError ||
    error instanceof CancelledError ||
    // Raw gRPC status UNAVAILABLE (14) / DEADLINE_EXCEEDED (4) that the client did not wrap.
    (error instanceof Error && [4, 14].includes((error as { code?: unknown }).code as number)) ||
    // Cluster discovery gives up with a plain Error.
    (error instanceof Error && error.message.startsWith('Failed to discover'));
  if (!unavailable) return error;
  const message = error instanceof Error && error.message ? error.message : String(error);
  return new StoreUnavailableError(`KurrentDB is unavailable: ${message}`, error);
}
