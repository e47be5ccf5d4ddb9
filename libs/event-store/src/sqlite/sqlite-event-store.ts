import type Database from 'better-sqlite3';
import { openSqlite } from './open-sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreUnavailableError } from '../event-store.errors';
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
import { toStoreError } from './sqlite-errors';
import { GroupCommit } from './sqlite-group-commit';
import { importInto } from './sqlite-import';
import { decodeSqlitePosition, encodeSqlitePosition, isSqlitePosition } from './sqlite-positions';
import { prepareStatements, SCHEMA, toRecorded, type EventRow, type EventStatements } from './sqlite-schema';
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

const MAX_PAGE = 10_000;

/** SQLite's own default ceiling on max_page_count, restored by limitSize(null). */
const NO_SIZE_LIMIT = 4294967294;

/**
 * The embedded event store: one SQLite file in WAL mode.
 *
 * Durability: synchronous=FULL makes every commit fsync the WAL, so an append
 * whose promise resolved survives kill -9 and power loss. To keep that from
 * capping throughput at one fsync per event, appends arriving in the same turn
 * of the event loop are written in one transaction (group commit, in
 * ./sqlite-group-commit.ts), each inside its own savepoint so that one
 * append's WrongExpectedVersion does not undo its neighbours.
 *
 * Ordering: SQLite admits one writer at a time (across processes too), so the
 * AUTOINCREMENT position is assigned in commit order and a reader can never
 * see position N+1 before N. That is what makes "read after my last position"
 * a gap-free subscription.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly statements: EventStatements;
  private readonly groupCommit: GroupCommit;
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
    // briefly; appends wait longer between attempts (see GroupCommit.flush).
    this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    this.db.exec(SCHEMA);
    this.statements = prepareStatements(this.db);
    this.groupCommit = new GroupCommit(this.db, this.statements, this.lockWaitMs, (wrote) => {
      this.commits++;
      if (wrote) this.wakeSubscriptions();
    });
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
    return this.groupCommit.append(stream, events, expected);
  }

  /** Restores exported events as they were, into an empty store (see importInto). Not part of the port. */
  importEvents(events: readonly RecordedEvent[]): void {
    importInto(this.db, this.statements, events, { lockWaitMs: this.lockWaitMs, busyTimeoutMs: this.busyTimeoutMs });
    this.commits++;
    this.wakeSubscriptions();
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
    this.groupCommit.flush(true); // acknowledge what was already accepted before closing the file
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.db.close();
  }

  private wakeSubscriptions(): void {
    for (const s of this.subscriptions) s.wake();
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

