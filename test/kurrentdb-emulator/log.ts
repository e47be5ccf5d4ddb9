/**
 * One file past 300 lines: the write checks, the index and the reads share one
 * in-memory structure whose invariants are easier to check in one place.
 *
 * The in-memory log: KurrentDB's transaction file, stream index and write checks,
 * reduced to what the gRPC Streams API exposes.
 *
 * Writes follow the server's storage writer (StorageWriterService) and its commit
 * checks (IndexWriter.CheckCommit in src/KurrentDB.Core/Services/Storage/ReaderIndex/
 * IndexWriter.cs), including idempotency:
 *   - expected `any` / `stream_exists`: *weak* idempotency. Only the recent-ids cache
 *     (RecentEventIds) is consulted; a retry whose ids were evicted is written again.
 *   - expected exact revision / `no_stream` with the stream already written past it:
 *     *strong* idempotency. The events at expected+1.. are compared by id (cache, then
 *     the stream itself), so a retry is recognised however old it is.
 *   - a retry that matches only partly (CorruptedIdempotency) is a consistency failure.
 *   - an idempotent retry answers success with the original revisions and the log
 *     position of the original last event (StorageMessage.AlreadyCommitted).
 * Consistency failures become WrongExpectedVersion with the stream's current version,
 * or StreamDeleted when the stream is tombstoned, or soft-deleted while the writer
 * expected it to exist (RequestManagerBase.Handle(ConsistencyChecksFailed)).
 *
 * Everything is synchronous: JavaScript runs one write at a time, which gives the
 * single-writer ordering of the server's writer for free, and lets readers and
 * subscriptions see a consistent log with no locking.
 */
import { randomUUID } from 'node:crypto';
import { Journal } from './journal';
import { DELETED_STREAM, ExpectedVersion, prepareRecordSize, ticksNow, transactionStart } from './positions';
import { RecentEventIds } from './recent-event-ids';
import {
  isMetastream,
  METADATA_EVENT_TYPE,
  metastreamOf,
  originalStreamOf,
  parseStreamMetadata,
  softDeletedMetadata,
  undeletedMetadata,
  type StreamMetadata,
} from './stream-metadata';

/**
 * What a prepare record is: an event (PrepareFlags.Data), a tombstone
 * (PrepareFlags.StreamDelete), or the empty record an append of zero events writes
 * (neither flag: it takes log space and has a position, but no reader sees it).
 */
export type RecordKind = 'event' | 'tombstone' | 'empty';

/** One prepare record in the log. */
export interface LogRecord {
  readonly kind: RecordKind;
  /** Commit = prepare = the record's byte offset in the log. */
  readonly position: bigint;
  readonly size: bigint;
  readonly stream: string;
  /** Event number in its stream; DELETED_STREAM (2^63 - 1) for a tombstone. */
  readonly revision: bigint;
  /** Lower-case canonical UUID, as the server's Guid.ToString() gives it back. */
  readonly id: string;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: Buffer;
  readonly metadata: Buffer;
  /** .NET ticks since the Unix epoch. */
  readonly created: bigint;
}

export interface ProposedEvent {
  id: string;
  type: string;
  isJson: boolean;
  data: Uint8Array;
  metadata: Uint8Array;
}

/** The server's expected version, a long: >= 0 a revision, or ExpectedVersion.Any/NoStream/StreamExists. */
export type Expected = bigint;

export type WriteOutcome =
  | {
      kind: 'success';
      /** Last event number written (or re-acknowledged); -1 when nothing was written to a missing stream. */
      lastRevision: bigint;
      /** Log position of the last event, or null when no event was written. */
      position: bigint | null;
    }
  | { kind: 'wrong-expected-version'; currentVersion: bigint }
  | { kind: 'stream-deleted' };

export type StreamReadOutcome =
  | { kind: 'not-found' }
  | { kind: 'deleted' }
  | { kind: 'events'; events: LogRecord[]; lastEventNumber: bigint; firstStreamPosition?: bigint };

type CommitCheck =
  | { decision: 'ok'; currentVersion: bigint; softDeleted: boolean }
  | { decision: 'idempotent'; lastEventNumber: bigint; logPosition: bigint }
  | { decision: 'failure'; currentVersion: bigint; softDeleted: boolean | null };

interface StreamIndex {
  /** events[n] has event number n (gaps are impossible: numbers are dense per stream). */
  events: LogRecord[];
  tombstone: LogRecord | null;
}

export type CommitListener = (record: LogRecord) => void;

export interface EventLogOptions {
  /** Entries of the weak-idempotency cache (see RecentEventIds). */
  recentEventIds?: number;
  journal?: Journal;
  /** Replayed writes, from a journal. */
  history?: LogRecord[][];
}

export class EventLog {
  private readonly records: LogRecord[] = [];
  private readonly streams = new Map<string, StreamIndex>();
  private readonly listeners = new Set<CommitListener>();
  private readonly recentIds: RecentEventIds;
  private readonly journal: Journal | undefined;
  /** The writer checkpoint: where the next record goes. */
  private writerPosition = 0n;

  constructor(options: EventLogOptions = {}) {
    this.recentIds = new RecentEventIds(options.recentEventIds ?? 256);
    this.journal = options.journal;
    // Replayed writes do not enter the idempotency cache: a restarted server's cache is empty.
    for (const write of options.history ?? []) this.apply(write, false);
  }

  // ---------------------------------------------------------------- reading

  /** All records in log order, empty records included (do not mutate). */
  get all(): readonly LogRecord[] {
    return this.records;
  }

  /** Position of the last record, -1 when the log is empty (the server's LastIndexedPosition). */
  get lastPosition(): bigint {
    return this.records.length === 0 ? -1n : this.records[this.records.length - 1].position;
  }

  /** The writer checkpoint: post-position of the last record. */
  get end(): bigint {
    return this.writerPosition;
  }

  /** Index in `all` of the first record at or after `position` (binary search). */
  indexAtOrAfter(position: bigint): number {
    let low = 0;
    let high = this.records.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.records[mid].position < position) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Whether `position` is where a record starts or the end of the log (anything else is mid-record). */
  isRecordBoundary(position: bigint): boolean {
    if (position === this.writerPosition || position === 0n) return true;
    const index = this.indexAtOrAfter(position);
    return index < this.records.length && this.records[index].position === position;
  }

  /** IndexReader.GetStreamLastEventNumber: DELETED_STREAM when tombstoned, -1 when it has no events. */
  lastEventNumber(stream: string): bigint {
    const index = this.streams.get(stream);
    if (!index) return ExpectedVersion.NoStream;
    if (index.tombstone) return DELETED_STREAM;
    return BigInt(index.events.length) - 1n;
  }

  eventAt(stream: string, eventNumber: bigint): LogRecord | undefined {
    const events = this.streams.get(stream)?.events;
    return events && eventNumber >= 0n && eventNumber < BigInt(events.length) ? events[Number(eventNumber)] : undefined;
  }

  metadataOf(stream: string): StreamMetadata {
    const events = this.streams.get(metastreamOf(stream))?.events;
    const last = events?.[events.length - 1];
    return last ? parseStreamMetadata(last.data) : {};
  }

  isSoftDeleted(stream: string): boolean {
    return this.metadataOf(stream).truncateBefore === DELETED_STREAM;
  }

  /**
   * The events of a stream that reads may see, oldest first, with the stream's
   * last event number (IndexReader.ReadStreamEvents*: NoStream when it has no events
   * or is soft-deleted, StreamDeleted when tombstoned, and events below $tb, beyond
   * $maxCount or older than $maxAge hidden).
   */
  visibleEvents(stream: string, nowTicks: bigint = ticksNow()): StreamReadOutcome {
    const last = this.lastEventNumber(stream);
    if (last === DELETED_STREAM) return { kind: 'deleted' };
    const metadata = this.metadataOf(stream);
    if (last === ExpectedVersion.NoStream || metadata.truncateBefore === DELETED_STREAM) return { kind: 'not-found' };
    let min = 0n;
    if (metadata.maxCount !== undefined) min = bigMax(min, last - metadata.maxCount + 1n);
    if (metadata.truncateBefore !== undefined) min = bigMax(min, metadata.truncateBefore);
    const all = this.streams.get(stream)?.events ?? [];
    let events = min > last ? [] : all.slice(Number(min));
    if (metadata.maxAgeSeconds !== undefined) {
      const threshold = nowTicks - metadata.maxAgeSeconds * 10_000_000n;
      events = events.filter((e) => e.created >= threshold);
    }
    return { kind: 'events', events, lastEventNumber: last, firstStreamPosition: min };
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A restarted node forgets its in-memory idempotency cache. */
  forgetRecentEventIds(): void {
    this.recentIds.clear();
  }

  // ---------------------------------------------------------------- writing

  /** ClientMessage.WriteEvents for one stream. */
  append(stream: string, expected: Expected, events: readonly ProposedEvent[]): WriteOutcome {
    const check = this.checkCommit(
      stream,
      expected,
      events.map((e) => e.id),
    );
    if (check.decision === 'idempotent') {
      return { kind: 'success', lastRevision: check.lastEventNumber, position: check.logPosition };
    }
    if (check.decision === 'failure') return this.failure(expected, check);
    const created = ticksNow();
    // An append of no events still writes one empty prepare record (StorageWriterService:
    // "an empty write ... causes undeletion, too"), and answers with its position.
    const proposed: readonly ProposedEvent[] = events.length > 0 ? events : [{ id: randomUUID(), type: '', isJson: false, data: new Uint8Array(), metadata: new Uint8Array() }];
    const records = this.layOut(
      proposed.map((event, offset) => ({
        kind: events.length > 0 ? ('event' as const) : ('empty' as const),
        stream,
        revision: check.currentVersion + 1n + BigInt(offset),
        id: event.id,
        type: event.type,
        isJson: event.isJson,
        data: Buffer.from(event.data),
        metadata: Buffer.from(event.metadata),
        created,
      })),
    );
    const undelete = this.undeleteTarget(stream, check);
    this.commit(records);
    if (undelete) this.undelete(undelete);
    const last = records[records.length - 1];
    return { kind: 'success', lastRevision: events.length > 0 ? last.revision : check.currentVersion, position: last.position };
  }

  /** ClientMessage.DeleteStream: soft delete (hard = false) or tombstone (hard = true). */
  delete(stream: string, expected: Expected, hard: boolean): WriteOutcome {
    // The server checks the write with one fresh event id, so it is never idempotent.
    const check = this.checkCommit(stream, expected, [randomUUID()]);
    if (check.decision === 'failure') return this.failure(expected, check);
    if (check.decision === 'idempotent') throw new Error('a fresh event id cannot be idempotent');
    const created = ticksNow();
    if (hard) {
      const [tombstone] = this.layOut([
        {
          kind: 'tombstone',
          stream,
          revision: DELETED_STREAM,
          id: randomUUID(),
          type: '$streamDeleted',
          isJson: false,
          data: Buffer.alloc(0),
          metadata: Buffer.alloc(0),
          created,
        },
      ]);
      this.commit([tombstone]);
      return { kind: 'success', lastRevision: DELETED_STREAM - 1n, position: tombstone.position };
    }
    const metastream = metastreamOf(stream);
    const metaVersion = this.lastEventNumber(metastream);
    if (this.lastEventNumber(stream) < 0n && metaVersion < 0n) {
      // "stream has never existed": a consistency failure whatever was expected.
      return { kind: 'wrong-expected-version', currentVersion: ExpectedVersion.NoStream };
    }
    const [metadata] = this.layOut([
      {
        kind: 'event',
        stream: metastream,
        revision: metaVersion + 1n,
        id: randomUUID(),
        type: METADATA_EVENT_TYPE,
        isJson: true,
        data: softDeletedMetadata(),
        metadata: Buffer.alloc(0),
        created,
      },
    ]);
    this.commit([metadata]);
    return { kind: 'success', lastRevision: metaVersion + 1n, position: metadata.position };
  }

  // ---------------------------------------------------------------- internals

  private failure(expected: Expected, check: Extract<CommitCheck, { decision: 'failure' }>): WriteOutcome {
    const tombstoned = check.currentVersion === DELETED_STREAM;
    const softDeleted = expected === ExpectedVersion.StreamExists && check.softDeleted === true;
    if (tombstoned || softDeleted) return { kind: 'stream-deleted' };
    return { kind: 'wrong-expected-version', currentVersion: check.currentVersion };
  }

  /** IndexWriter.CheckCommit, for a stream that might exist. */
  private checkCommit(stream: string, expected: Expected, eventIds: readonly string[]): CommitCheck {
    const current = this.lastEventNumber(stream);
    if (current === DELETED_STREAM) {
      if (eventIds.length > 0) return { decision: 'failure', currentVersion: current, softDeleted: false };
      if (expected === ExpectedVersion.Any || expected === ExpectedVersion.NoStream || expected === DELETED_STREAM) {
        return { decision: 'ok', currentVersion: current, softDeleted: false };
      }
      return { decision: 'failure', currentVersion: current, softDeleted: false };
    }

    if (expected === ExpectedVersion.StreamExists) {
      if (this.isSoftDeleted(stream)) return { decision: 'failure', currentVersion: current, softDeleted: true };
      if (current < 0n && this.lastEventNumber(metastreamOf(stream)) < 0n) {
        return { decision: 'failure', currentVersion: current, softDeleted: false };
      }
    }

    if (expected === ExpectedVersion.Any || expected === ExpectedVersion.StreamExists) {
      // Weak idempotency: only recently written ids are known.
      let first: bigint | null = null;
      let last: bigint | null = null;
      for (const id of eventIds) {
        const known = this.recentIds.get(id);
        if (known && known.stream === stream) {
          first ??= known.eventNumber;
          last = known.eventNumber;
          continue;
        }
        if (first !== null) return { decision: 'failure', currentVersion: current, softDeleted: null }; // corrupted idempotency
        return { decision: 'ok', currentVersion: current, softDeleted: this.isSoftDeleted(stream) };
      }
      if (last === null) return { decision: 'ok', currentVersion: current, softDeleted: this.isSoftDeleted(stream) };
      return { decision: 'idempotent', lastEventNumber: last, logPosition: this.eventAt(stream, last)?.position ?? -1n };
    }

    if (expected < current) {
      // Strong idempotency: the write names the event numbers its events must have.
      let eventNumber = expected;
      for (let i = 0; i < eventIds.length; i++) {
        const id = eventIds[i];
        eventNumber += 1n;
        const known = this.recentIds.get(id);
        if (known && known.stream === stream && known.eventNumber === eventNumber) continue;
        if (this.eventAt(stream, eventNumber)?.id === id) continue;
        if (i > 0) return { decision: 'failure', currentVersion: current, softDeleted: null }; // corrupted idempotency
        if (expected === ExpectedVersion.NoStream && this.isSoftDeleted(stream)) {
          return { decision: 'ok', currentVersion: current, softDeleted: true };
        }
        return { decision: 'failure', currentVersion: current, softDeleted: null };
      }
      if (eventIds.length === 0) {
        if (expected === ExpectedVersion.NoStream && this.isSoftDeleted(stream)) {
          return { decision: 'ok', currentVersion: current, softDeleted: true };
        }
        return { decision: 'failure', currentVersion: current, softDeleted: null };
      }
      return { decision: 'idempotent', lastEventNumber: eventNumber, logPosition: this.eventAt(stream, eventNumber)?.position ?? -1n };
    }

    if (expected > current) return { decision: 'failure', currentVersion: current, softDeleted: null };
    return { decision: 'ok', currentVersion: current, softDeleted: this.isSoftDeleted(stream) };
  }

  /**
   * Which stream a write brings back from soft deletion, decided before the write
   * (StorageWriterService: CommitCheck.IsSoftDeleted, StreamInfo.IsSoftDeletedMeta):
   * writing to a soft-deleted stream, or to the metastream of one, undeletes it.
   */
  private undeleteTarget(stream: string, check: Extract<CommitCheck, { decision: 'ok' }>): { stream: string; recreateFrom: bigint } | null {
    if (check.softDeleted) return { stream, recreateFrom: check.currentVersion + 1n };
    if (isMetastream(stream) && this.isSoftDeleted(originalStreamOf(stream))) {
      const original = originalStreamOf(stream);
      return { stream: original, recreateFrom: -1n }; // from the last event number once written
    }
    return null;
  }

  /**
   * The undelete itself, after the write: new metadata, the latest metadata with `$tb`
   * at the first new event number (StorageWriterService.SoftUndeleteStream).
   */
  private undelete(target: { stream: string; recreateFrom: bigint }): void {
    const recreateFrom = target.recreateFrom >= 0n ? target.recreateFrom : this.lastEventNumber(target.stream) + 1n;
    const metastream = metastreamOf(target.stream);
    const metaEvents = this.streams.get(metastream)?.events ?? [];
    const rawMeta = metaEvents[metaEvents.length - 1]?.data;
    const data = rawMeta ? undeletedMetadata(rawMeta, recreateFrom) : null;
    if (!data) return; // unparseable metadata: the server leaves the stream deleted
    this.commit(
      this.layOut([
        {
          kind: 'event',
          stream: metastream,
          revision: this.lastEventNumber(metastream) + 1n,
          id: randomUUID(),
          type: METADATA_EVENT_TYPE,
          isJson: true,
          data,
          metadata: Buffer.alloc(0),
          created: ticksNow(),
        },
      ]),
    );
  }

  /** Gives records their positions: consecutive, the whole transaction within one chunk. */
  private layOut(records: readonly Omit<LogRecord, 'position' | 'size'>[]): LogRecord[] {
    const sizes = records.map((r) => prepareRecordSize(r.stream, r.type, r.data.length, r.metadata.length));
    let position = transactionStart(
      this.writerPosition,
      sizes.reduce((a, b) => a + b, 0n),
    );
    return records.map((record, i) => {
      const laidOut = { ...record, position, size: sizes[i] };
      position += sizes[i];
      return laidOut;
    });
  }

  /** Makes a write durable (journal first), then visible, then tells the subscribers, in log order. */
  private commit(records: readonly LogRecord[]): void {
    this.journal?.append(records);
    this.apply(records, true);
    for (const record of records) for (const listener of [...this.listeners]) listener(record);
  }

  private apply(records: readonly LogRecord[], remember: boolean): void {
    for (const record of records) {
      this.records.push(record);
      this.writerPosition = record.position + record.size;
      if (record.kind === 'empty') continue;
      let index = this.streams.get(record.stream);
      if (!index) {
        index = { events: [], tombstone: null };
        this.streams.set(record.stream, index);
      }
      if (record.kind === 'tombstone') index.tombstone = record;
      else index.events.push(record);
      // IndexWriter.PreCommit: every data or delete prepare goes into the cache.
      if (remember) this.recentIds.put(record.id, { stream: record.stream, eventNumber: record.revision });
    }
  }
}

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
