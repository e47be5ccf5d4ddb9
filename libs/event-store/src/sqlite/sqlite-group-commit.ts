import type Database from 'better-sqlite3';
import { DuplicateEventIdError, WrongExpectedVersionError } from '../event-store.errors';
import type { AppendResult, ExpectedRevision, NewEvent } from '../event-store.port';
import { expectedRevisionHolds } from '../expected-revision';
import { isBusy, isRequestError, isUniqueViolation, toStoreError } from './sqlite-errors';
import { encodeSqlitePosition } from './sqlite-positions';
import type { EventStatements } from './sqlite-schema';

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

/** Pause between two attempts to get a write lock another connection holds. */
const LOCK_RETRY_MS = 25;

/**
 * Group commit: synchronous=FULL makes every commit fsync the WAL, so appends
 * arriving in the same turn of the event loop are written in one transaction,
 * each inside its own savepoint so that one append's WrongExpectedVersion does
 * not undo its neighbours. Also where an append waits, off the event loop, for
 * a write lock another process holds.
 */
export class GroupCommit {
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  /** Appends that found the write lock taken, and the timer that tries them again. */
  private waitingForLock: PendingAppend[] = [];
  private lockRetry: NodeJS.Timeout | null = null;
  private readonly writeBatch: ReturnType<GroupCommit['makeWriteBatch']>;

  constructor(
    private readonly db: Database.Database,
    private readonly statements: EventStatements,
    private readonly lockWaitMs: number,
    /** After each committed transaction; `wrote` is false when every append in it was refused. */
    private readonly committed: (wrote: boolean) => void,
  ) {
    this.writeBatch = this.makeWriteBatch();
  }

  append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
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
   * `final` (on close): no waiting for the lock, answer every append now.
   */
  flush(final = false): void {
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
    this.committed(outcomes.some((o) => o.ok));
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
}
