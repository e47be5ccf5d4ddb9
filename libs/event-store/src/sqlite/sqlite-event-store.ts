import type Database from 'better-sqlite3';
import { openSqlite } from './open-sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuplicateEventIdError, StoreUnavailableError, WrongExpectedVersionError } from '../event-store.errors';
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
import { expectedRevisionHolds } from '../expected-revision';
import { decodeSqlitePosition, encodeSqlitePosition, isSqlitePosition } from './sqlite-positions';
import { SqliteSubscription } from './sqlite-subscription';

export interface SqliteEventStoreOptions {
  /**
   * How often an idle subscription looks for events appended by *other*
   * processes sharing the file. Appends made through this instance wake
   * subscribers at once.
   */
  pollIntervalMs?: number;
  /**
   * How long one attempt to write may block, inside SQLite, waiting for
   * another connection's write lock (busy_timeout). better-sqlite3 is
   * synchronous: this is time the whole process stands still, so it is kept
   * short and the waiting is done between attempts instead (lockWaitMs).
   * Default 20 ms.
   */
  busyTimeoutMs?: number;
  /**
   * How long an append waits, in all, for a write lock that another process
   * (a second instance, the CLI) holds, before failing with
   * StoreUnavailableError. The event loop keeps serving meanwhile. Default 5000 ms.
   */
  lockWaitMs?: number;
}

interface EventRow {
  position: number;
  event_id: string;
  stream: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
}

type Outcome = { ok: true; result: AppendResult } | { ok: false; error: unknown };

interface PendingAppend {
  stream: string;
  events: NewEvent[];
  expected: ExpectedRevision;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
  /** Until when it may wait for another connection's write lock (epoch ms). */
  lockDeadline: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT    NOT NULL UNIQUE,
    stream      TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    UNIQUE (stream, revision)
  );
`;

const MAX_PAGE = 10_000;

/** SQLite error codes that mean "the store cannot take writes now", not "your request is wrong". */
const UNAVAILABLE_CODES = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|LOCKED|NOTADB|CORRUPT|PERM)/;

/** What each of those means, in words an editor or an operator can act on. */
const UNAVAILABLE_REASONS: Array<[RegExp, string]> = [
  [/^SQLITE_FULL/, 'the disk is full'],
  [/^SQLITE_READONLY/, 'its file cannot be written (read-only)'],
  [/^SQLITE_(BUSY|LOCKED)/, 'another connection holds its write lock'],
  [/^SQLITE_IOERR/, 'the disk reported an I/O error'],
  [/^SQLITE_(CANTOPEN|PERM)/, 'its file cannot be opened'],
  [/^SQLITE_(NOTADB|CORRUPT)/, 'its file is damaged'],
];

/** Pause between two attempts to get a write lock another connection holds. */
const LOCK_RETRY_MS = 25;
/** SQLite's own default ceiling on max_page_count, restored by limitSize(null). */
const NO_SIZE_LIMIT = 4294967294;

/**
 * The embedded event store: one SQLite file in WAL mode.
 *
 * Durability: synchronous=FULL makes every commit fsync the WAL, so an append
 * whose promise resolved survives kill -9 and power loss. To keep that from
 * capping throughput at one fsync per event, appends arriving in the same turn
 * of the event loop are written in one transaction (group commit), each inside
 * its own savepoint so that one append's WrongExpectedVersion does not undo its
 * neighbours.
 *
 * Ordering: SQLite admits one writer at a time (across processes too), so the
 * AUTOINCREMENT position is assigned in commit order and a reader can never
 * see position N+1 before N. That is what makes "read after my last position"
 * a gap-free subscription.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly statements: ReturnType<SqliteEventStore['prepare']>;
  private readonly writeBatch: ReturnType<SqliteEventStore['makeWriteBatch']>;
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  /** Appends that found the write lock taken, and the timer that tries them again. */
  private waitingForLock: PendingAppend[] = [];
  private lockRetry: NodeJS.Timeout | null = null;
  private readonly lockWaitMs: number;
  private readonly busyTimeoutMs: number;
  private readonly subscriptions = new Set<SqliteSubscription>();
  private readonly pollIntervalMs: number;
  private closed = false;
  /** Transactions committed: with group commit, far fewer than appends. */
  commits = 0;

  constructor(readonly file: string, options: SqliteEventStoreOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.lockWaitMs = options.lockWaitMs ?? 5000;
    this.busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 20));
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    // Opening (WAL recovery) may wait for another process the usual 5 s, once.
    this.db = openSqlite(file, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // Other processes (a second instance, the CLI) may hold the write lock. A
    // busy SQLite call blocks the event loop, so each attempt waits only
    // briefly; appends wait longer between attempts (see flush).
    this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    this.db.exec(SCHEMA);
    this.statements = this.prepare();
    this.writeBatch = this.makeWriteBatch();
  }

  private prepare() {
    const db = this.db;
    return {
      insert: db.prepare(
        `INSERT INTO events (event_id, stream, revision, type, data, metadata, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      currentRevision: db.prepare(`SELECT MAX(revision) AS revision FROM events WHERE stream = ?`),
      byEventId: db.prepare(`SELECT stream, revision FROM events WHERE event_id = ?`),
      idsFrom: db.prepare(
        `SELECT event_id, revision, position FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
      ),
      readStream: db.prepare(
        `SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
      ),
      readAll: db.prepare(`SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?`),
      head: db.prepare(`SELECT MAX(position) AS position FROM events`),
    };
  }

  /** The settings durability rests on, for tests and health reports. */
  durability(): { journalMode: string; synchronous: number } {
    return {
      journalMode: this.db.pragma('journal_mode', { simple: true }) as string,
      synchronous: this.db.pragma('synchronous', { simple: true }) as number,
    };
  }

  append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the event store is closed'));
    if (events.length === 0) return Promise.reject(new RangeError('append needs at least one event'));
    return new Promise((resolve, reject) => {
      this.pending.push({ stream, events, expected, resolve, reject, lockDeadline: Date.now() + this.lockWaitMs });
      if (!this.flushScheduled && this.lockRetry === null) {
        this.flushScheduled = true;
        // setImmediate, not a microtask: lets every request that arrived in this
        // I/O phase join the batch before we pay for the fsync.
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Writes every waiting append in one transaction. BEGIN IMMEDIATE takes the
   * write lock first, so a lock held by another process shows at once, as
   * SQLITE_BUSY, with nothing written yet: the appends then wait (off the
   * event loop) and try again, up to their lockDeadline. Any other failure of
   * the database (disk full, read-only, I/O error) rolls the whole
   * transaction back and fails every append in it with StoreUnavailableError:
   * nothing is half-written, and the next append simply tries again.
   */
  private flush(final = false): void {
    this.flushScheduled = false;
    if (this.lockRetry !== null) {
      clearTimeout(this.lockRetry);
      this.lockRetry = null;
    }
    const batch = [...this.waitingForLock, ...this.pending];
    this.waitingForLock = [];
    this.pending = [];
    if (batch.length === 0) return;
    const recordedAt = new Date().toISOString();
    const outcomes: Outcome[] = [];
    try {
      this.writeBatch.immediate(batch, recordedAt, outcomes);
      this.commits++;
    } catch (error) {
      if (!final && isBusy(error)) {
        const now = Date.now();
        const waiting = batch.filter((p) => p.lockDeadline > now);
        const failure = toStoreError(error, 'write', `gave up after waiting ${this.lockWaitMs} ms`);
        for (const p of batch) if (p.lockDeadline <= now) p.reject(failure);
        if (waiting.length > 0) {
          this.waitingForLock = waiting;
          this.lockRetry = setTimeout(() => this.flush(), LOCK_RETRY_MS);
        }
        return;
      }
      const failure = toStoreError(error, 'write');
      for (const p of batch) p.reject(failure);
      return;
    }
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) p.resolve(outcome.result);
      else p.reject(outcome.error);
    });
    if (outcomes.some((o) => o.ok)) for (const s of this.subscriptions) s.wake();
  }

  /** One transaction for the whole batch; made once (in the constructor), it is on the hot path. */
  private makeWriteBatch() {
    const appendInSavepoint = this.db.transaction((p: PendingAppend, recordedAt: string) => this.appendNow(p, recordedAt));
    return this.db.transaction((batch: PendingAppend[], recordedAt: string, outcomes: Outcome[]) => {
      for (const p of batch) {
        try {
          // A single event is written by one INSERT, which SQLite undoes by itself if
          // it fails; only several events need a savepoint to fail together.
          const result = p.events.length === 1 ? this.appendNow(p, recordedAt) : appendInSavepoint(p, recordedAt);
          outcomes.push({ ok: true, result });
        } catch (error) {
          if (!isRequestError(error)) throw error;
          outcomes.push({ ok: false, error });
        }
      }
    });
  }

  /** Throwing undoes this append only (a savepoint, or a single failed INSERT). */
  private appendNow({ stream, events, expected }: PendingAppend, recordedAt: string): AppendResult {
    const s = this.statements;
    const row = s.currentRevision.get(stream) as { revision: number | null };
    const current = row.revision ?? 'no-stream';

    const earlier = s.byEventId.get(events[0].id) as { stream: string; revision: number } | undefined;
    if (earlier) return this.replayedAppend(stream, events, expected, current, earlier);

    if (!expectedRevisionHolds(expected, current)) throw new WrongExpectedVersionError(stream, expected, current);
    let revision = current === 'no-stream' ? -1 : current;
    let position = 0;
    for (const e of events) {
      revision += 1;
      try {
        const info = s.insert.run(e.id, stream, revision, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), recordedAt);
        position = Number(info.lastInsertRowid);
      } catch (error) {
        if (isUniqueViolation(error, 'event_id')) throw new DuplicateEventIdError(e.id, stream);
        throw error;
      }
    }
    return { revision, position: encodeSqlitePosition(position) };
  }

  /**
   * The first event id is already in the log. If the whole batch sits there in
   * order, at the revision the caller expected, this is a retry of an append
   * that succeeded: answer as the original did. Anything else is a conflict.
   */
  private replayedAppend(
    stream: string,
    events: NewEvent[],
    expected: ExpectedRevision,
    current: number | 'no-stream',
    earlier: { stream: string; revision: number },
  ): AppendResult {
    const rows = this.statements.idsFrom.all(stream, earlier.revision, events.length) as Array<{
      event_id: string;
      revision: number;
      position: number;
    }>;
    const sameBatch =
      earlier.stream === stream && rows.length === events.length && rows.every((r, i) => r.event_id === events[i].id);
    const before = earlier.revision === 0 ? 'no-stream' : earlier.revision - 1;
    if (sameBatch && expectedRevisionHolds(expected, before)) {
      const last = rows[rows.length - 1];
      return { revision: last.revision, position: encodeSqlitePosition(last.position) };
    }
    if (!expectedRevisionHolds(expected, current)) throw new WrongExpectedVersionError(stream, expected, current);
    throw new DuplicateEventIdError(events[0].id, stream);
  }

  /**
   * Restores exported events as they were: same ids, streams, revisions,
   * content and recordedAt, in the given (log) order. Only into an empty
   * store, where the positions come out as they were numbered originally.
   * Not part of the port: KurrentDB keeps its own clock, so there an import is
   * a plain append and recordedAt changes.
   */
  importEvents(events: readonly RecordedEvent[]): void {
    const { position } = this.statements.head.get() as { position: number | null };
    if (position !== null) throw new Error('import needs an empty event store');
    // A command-line import may block while another process holds the lock.
    this.db.pragma(`busy_timeout = ${this.lockWaitMs}`);
    try {
      this.db
        .transaction(() => {
          for (const e of events) {
            this.statements.insert.run(e.id, e.stream, e.revision, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), e.recordedAt);
          }
        })
        .immediate();
    } catch (error) {
      throw toStoreError(error, 'write');
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
    this.commits++;
    for (const s of this.subscriptions) s.wake();
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const rows = this.guard(
      () => this.statements.readStream.all(stream, options.fromRevision ?? 0, options.maxCount ?? -1) as EventRow[],
    );
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.readAllSync(options.after, options.limit ?? 1000);
  }

  /** Synchronous page read, shared by readAll and subscriptions. */
  readAllSync(after: Position | undefined, limit: number): RecordedEvent[] {
    const from = after === undefined ? 0 : decodeSqlitePosition(after);
    const rows = this.guard(() => this.statements.readAll.all(from, Math.min(Math.max(limit, 1), MAX_PAGE)) as EventRow[]);
    return rows.map(toRecorded);
  }

  subscribeToAll(options: SubscribeOptions = {}): EventSubscription {
    if (options.after !== undefined) decodeSqlitePosition(options.after); // reject a malformed position now, not later
    const subscription = new SqliteSubscription(
      (after) => this.readAllSync(after, 500),
      options.after,
      this.pollIntervalMs,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<Position | null> {
    const row = this.guard(() => this.statements.head.get() as { position: number | null });
    return row.position === null ? null : encodeSqlitePosition(row.position);
  }

  isPosition(value: string): boolean {
    return isSqlitePosition(value);
  }

  /**
   * FOR TESTS ONLY: simulates a full disk. Caps the file at `maxPages` pages
   * (PRAGMA max_page_count), so that any write needing a new page fails with
   * SQLITE_FULL, exactly as when the disk has no room left; `null` lifts the
   * cap. SQLite never caps below the current size, so limitSize(1) means "no
   * room to grow from here". Returns the cap in force. An event bigger than a
   * page always needs new (overflow) pages; a small one may still fit in the
   * free space of the last page, as it would on a real full disk.
   */
  limitSize(maxPages: number | null): number {
    // (0 would only read the setting, hence at least 1.)
    const pages = maxPages === null ? NO_SIZE_LIMIT : Math.max(1, Math.floor(maxPages));
    return this.db.pragma(`max_page_count = ${pages}`, { simple: true }) as number;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush(true); // acknowledge what was already accepted before closing the file
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.db.close();
  }

  private guard<T>(read: () => T): T {
    if (this.closed) throw new StoreUnavailableError('the event store is closed');
    try {
      return read();
    } catch (error) {
      throw toStoreError(error, 'read');
    }
  }
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    stream: row.stream,
    revision: row.revision,
    position: encodeSqlitePosition(row.position),
    type: row.type,
    data: JSON.parse(row.data) as Record<string, unknown>,
    metadata: JSON.parse(row.metadata) as RecordedEvent['metadata'],
    recordedAt: row.recorded_at,
  };
}

function isRequestError(error: unknown): boolean {
  return error instanceof WrongExpectedVersionError || error instanceof DuplicateEventIdError;
}

function isUniqueViolation(error: unknown, column: string): boolean {
  return error instanceof Error && (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && error.message.includes(column);
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

/**
 * A failure of the database becomes StoreUnavailableError, with a message that
 * names the store and says what is wrong (the 503 a command answers carries
 * it); any other error keeps its meaning.
 */
function toStoreError(error: unknown, operation: 'read' | 'write', detail?: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) {
    const reason = UNAVAILABLE_REASONS.find(([pattern]) => pattern.test(code))?.[1] ?? 'SQLite failed';
    const what = operation === 'write' ? 'cannot take writes' : 'cannot be read';
    const extra = detail ? `; ${detail}` : '';
    return new StoreUnavailableError(`the embedded event store ${what}: ${reason} (${code}: ${(error as Error).message}${extra})`, error);
  }
  return error;
}
