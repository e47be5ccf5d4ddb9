import {
  BACKWARDS,
  END,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  KurrentDBClient,
  NotLeaderError,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError as KurrentWrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import type { Direction, ReadPosition } from '@kurrent/kurrentdb-client';
import { StoreUnavailableError, WrongExpectedVersionError } from '../event-store.errors';
import type {
  AppendResult,
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
import { clampLimit, isSystem, toActual, toRecorded, toStoreError, toStreamState } from './kurrentdb-mapping';
import { decodeKurrentDbPosition, encodeKurrentDbPosition } from './kurrentdb-positions';
import { HISTORY_PAGE, KurrentDbSubscription } from './kurrentdb-subscription';

const NOT_LEADER_ATTEMPTS = 3;

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

  isPosition(value: string): boolean {
    try {
      decodeKurrentDbPosition(value);
      return true;
    } catch {
      return false;
    }
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
