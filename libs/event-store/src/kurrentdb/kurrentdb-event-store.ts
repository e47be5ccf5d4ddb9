import {
  BACKWARDS,
  END,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  KurrentDBClient,
  NotLeaderError,
  START,
  StreamDeletedError as KurrentStreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError as KurrentWrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import type { Direction, ReadPosition } from '@kurrent/kurrentdb-client';
import { StoreUnavailableError, StreamDeletedError, WrongExpectedVersionError } from '../event-store.errors';
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
import { clampLimit, isSystem, toActual, toRecorded, toStoreError, toStreamState, withRecordedAt } from './kurrentdb-mapping';
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
 *
 * The client is replaced after any connection-level failure: its native reader
 * (@kurrent/bridge) gives up for good when its first connection fails, so a
 * client made while KurrentDB was down would never read again.
 */
export class KurrentDbEventStore implements EventStore {
  private readonly subscriptions = new Set<KurrentDbSubscription>();
  private closed = false;
  private client: KurrentDBClient;

  constructor(private readonly connect: () => KurrentDBClient) {
    this.client = connect();
  }

  /** e.g. kurrentdb://localhost:2113?tls=false */
  static fromConnectionString(connectionString: string): KurrentDbEventStore {
    return new KurrentDbEventStore(() => KurrentDBClient.connectionString(connectionString));
  }

  async append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new RangeError('append needs at least one event');
    // recordedAt travels in the metadata (see withRecordedAt): the server's own
    // time comes back in whole seconds on reads and to the millisecond on subscriptions.
    const recordedAt = new Date().toISOString();
    const proposed = events.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data, metadata: withRecordedAt(e.metadata, recordedAt) }));
    const result = await this.call((client) => client.appendToStream(stream, proposed, { streamState: toStreamState(expected) }), {
      stream,
      expected,
    });
    // Only with throwOnAppendFailure=false in the connection string, whose answer
    // carries a wrong revision (client 1.3.1 reports 0 or 1): ask the stream itself.
    if (!result.success) throw new WrongExpectedVersionError(stream, expected, await this.currentRevision(stream));
    // The append's own answer: the server gives the last event's log position,
    // for a recognised retry too, as one number used as both commit and prepare,
    // which is where $all reads place a self-committed event. Never read back:
    // a read that failed after a committed write would report the write as failed.
    if (!result.position) throw new Error(`KurrentDB answered an append to ${stream} without a log position (server older than 20.6?)`);
    return { revision: Number(result.nextExpectedRevision), position: encodeKurrentDbPosition(result.position) };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const { fromRevision, maxCount } = options;
    if (maxCount !== undefined && maxCount <= 0) return [];
    return this.call(async (client) => {
      const events: RecordedEvent[] = [];
      try {
        const reading = client.readStream(stream, {
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
    }, { stream });
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = clampLimit(options.limit);
    if (options.after !== undefined) decodeKurrentDbPosition(options.after); // malformed: fail before any I/O
    return this.call(async (client) => {
      const page: RecordedEvent[] = [];
      // +1: the read starts *at* `after`, which is then skipped.
      for await (const event of this.scanAll(client, FORWARDS, options.after, limit + 1)) {
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
        this.currentClient().subscribeToAll({
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
    return this.call(async (client) => {
      for await (const event of this.scanAll(client, BACKWARDS, undefined, 32)) return event.position;
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
  private async *scanAll(client: KurrentDBClient, direction: Direction, start: Position | undefined, pageSize: number): AsyncGenerator<RecordedEvent> {
    const forwards = direction === FORWARDS;
    // At least 2: reads include the event at `cursor`, so a page of 1 would never advance.
    const maxCount = Math.max(pageSize, 2);
    let cursor = start;
    for (;;) {
      const from: ReadPosition = cursor === undefined ? (forwards ? START : END) : decodeKurrentDbPosition(cursor);
      let read = 0;
      let advanced = false;
      for await (const resolved of client.readAll({ direction, fromPosition: from, maxCount, filter: excludeSystemEvents() })) {
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

  /** The stream's last revision, or 'no-stream', asked of the leader (a follower may lag). */
  private async currentRevision(stream: string): Promise<number | 'no-stream'> {
    return this.call(async (client) => {
      try {
        for await (const resolved of client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1, requiresLeader: true })) {
          if (resolved.event) return Number(resolved.event.revision);
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return 'no-stream';
        throw error;
      }
      return 'no-stream';
    }, { stream });
  }

  /**
   * Runs one client call, translating its errors into the port's. NotLeader is
   * retried: the client reconnects to the leader after reporting it, and the
   * request was refused, not executed, so repeating it is safe. After a
   * connection-level failure the next call gets a new client.
   */
  private async call<T>(run: (client: KurrentDBClient) => Promise<T>, about?: { stream: string; expected?: ExpectedRevision }): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = this.currentClient();
      try {
        return await run(client);
      } catch (error) {
        if (error instanceof NotLeaderError && attempt < NOT_LEADER_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
          continue;
        }
        if (about?.expected !== undefined && error instanceof KurrentWrongExpectedVersionError) {
          throw new WrongExpectedVersionError(about.stream, about.expected, toActual(error.actualState));
        }
        if (error instanceof KurrentStreamDeletedError) throw new StreamDeletedError(about?.stream ?? error.streamName);
        const mapped = toStoreError(error);
        if (mapped instanceof StoreUnavailableError) this.replace(client);
        throw mapped;
      }
    }
  }

  private currentClient(): KurrentDBClient {
    this.assertOpen();
    return this.client;
  }

  /** A new client for the next call, unless another failed call already made one. */
  private replace(failed: KurrentDBClient): void {
    if (this.closed || this.client !== failed) return;
    this.client = this.connect();
    failed.dispose().catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the event store is closed');
  }
}
