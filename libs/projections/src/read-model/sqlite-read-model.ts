import { openSqlite, type RecordedEvent, type Position } from '@timeline/event-store';
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DeadLetterTable } from './dead-letter-table';
import { deadLetterOf, isInfrastructureFailure, type DeadLetter } from './dead-letters';
import { searchEntries } from './entry-search';
import { latestEntries, listEntries, listEntriesAsOf, type EntryListQuery, type EntryPage, type SearchQuery } from './entry-queries';
import type { EntryView, TimelineView } from './entry-view';
import { entryRow, ProjectionRows, toTimelineView, type TimelineRow } from './projection-rows';
import { DROP_SEARCH_INDEX_SQL, SEARCH_INDEX_SQL, searchIndexByEntry } from './search-index';
import { ALL_READ_MODEL_TABLES, CREATE_QUERY_INDEXES, READ_MODEL_SCHEMA, READ_MODEL_TABLES, READ_MODEL_VERSION } from './read-model.schema';
import { SqliteRebuild } from './sqlite-rebuild';
import { projectEvent, type EntryChange, type ProjectionTarget } from './timeline.projection';
import type { ProjectionResult, ReadModelRebuild, TimelineReadModel } from './timeline-read-model.port';

export interface SqliteReadModelOptions {
  /**
   * How long a write waits for another connection's lock on the read model
   * file (a CLI rebuild, say) before failing with SQLITE_BUSY, which the
   * projector retries. Default 5000 ms.
   */
  busyTimeoutMs?: number;
}

/**
 * The timeline read model in SQLite: the TimelineReadModel port's adapter.
 *
 * Every batch of events and the checkpoint are written in one transaction, so
 * a crash leaves the read model at a checkpoint it fully reflects: no event is
 * applied twice, none skipped. Events at or before the checkpoint are ignored,
 * which makes re-delivery harmless.
 *
 * An event the projection cannot apply (a poison event: unknown entry, data
 * of the wrong shape) does not stop it: it is recorded in `dead_letters`, with
 * the error, in the same transaction that moves the checkpoint past it, and
 * the rest of the batch is applied as usual. A failure of the database itself
 * (disk full, I/O error, locked) is not the event's fault: the batch is rolled
 * back whole and the error thrown, to be retried later.
 *
 * synchronous=NORMAL (not FULL): after a power loss the read model may lose its
 * last transactions, but it loses them together with their checkpoint and
 * simply re-applies them from the log. The log itself is what must be durable.
 */
export class SqliteReadModel implements TimelineReadModel {
  private readonly db: Database.Database;
  private readonly busyTimeoutMs: number;
  private readonly rows: ProjectionRows;
  private readonly letters: DeadLetterTable;
  private readonly statements;
  private cachedCheckpoint: Position | null;
  /** The rebuild in progress, if any: closing the read model stops it. */
  private rebuild: SqliteRebuild | null = null;

  constructor(readonly file: string, options: SqliteReadModelOptions = {}) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.db = openSqlite(file, { timeout: this.busyTimeoutMs });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.migrate();
    this.rows = new ProjectionRows(this.db);
    // A rebuild that stopped before writing the entry rows (SqliteRebuild) left its marker.
    this.rows.deriveDeferredEntries();
    this.letters = new DeadLetterTable(this.db);
    const db = this.db;
    this.statements = {
      checkpoint: db.prepare(`SELECT position FROM checkpoint WHERE id = 1`),
      timelines: db.prepare(`SELECT * FROM timelines ORDER BY slug`),
      lastChangeAt: db.prepare(`SELECT MAX(position) AS position FROM changes WHERE timeline = ? AND recorded_at <= ?`),
      changesSince: db.prepare(
        `SELECT position, timeline, type, entry FROM changes WHERE timeline = ? AND position > ? ORDER BY position LIMIT ?`,
      ),
      nextChangePosition: db.prepare(`SELECT MIN(position) AS position FROM changes WHERE timeline = ? AND position > ?`),
    };
    this.cachedCheckpoint = this.readCheckpoint();
  }

  checkpoint(): Position | null {
    return this.cachedCheckpoint;
  }

  apply(events: RecordedEvent[]): EntryChange[] {
    return this.project(events).changes;
  }

  /** Applies a batch in one transaction, dead letters and checkpoint included. Throws (having changed nothing) only when the database fails. */
  project(events: RecordedEvent[]): ProjectionResult {
    const fresh = this.unapplied(events);
    if (fresh.length === 0) return { changes: [], deadLetters: [] };
    try {
      // The common case, and the one replays are made of: no savepoints.
      return this.applyInOneTransaction(fresh, false);
    } catch (error) {
      if (isInfrastructureFailure(error, this.db.open)) throw error;
    }
    // A poison event in the batch. Apply it again with a savepoint around each
    // event, so that the one that fails is undone alone and set aside. An event
    // is dead-lettered only if it fails again here: what failed once by chance
    // is applied.
    return this.applyInOneTransaction(fresh, true);
  }

  /** Empties the read model and returns what replays the log into it (SqliteRebuild). */
  /** `inThread` writes on this thread, as a read model in memory must (see SqliteRebuild). */
  startRebuild(options: { maxDeferredEntries?: number; inThread?: boolean } = {}): ReadModelRebuild {
    this.reset();
    this.rebuild = new SqliteRebuild(
      this.db,
      this.rows,
      options.inThread ? ':memory:' : this.file,
      {
        unapplied: (events) => this.unapplied(events),
        checkpointMoved: (position) => (this.cachedCheckpoint = position),
        reloadCheckpoint: () => (this.cachedCheckpoint = this.readCheckpoint()),
        project: (events) => this.project(events),
      },
      { maxDeferredEntries: options.maxDeferredEntries, busyTimeoutMs: this.busyTimeoutMs },
    );
    return this.rebuild;
  }

  reset(): void {
    this.abandonRebuild();
    this.db.transaction(() => {
      // Without the index's triggers, emptying the entries costs nothing per row.
      this.db.exec(DROP_SEARCH_INDEX_SQL);
      for (const table of ALL_READ_MODEL_TABLES) this.db.exec(`DELETE FROM ${table}`);
      this.db.exec(SEARCH_INDEX_SQL);
    })();
    this.cachedCheckpoint = null;
    this.letters.emptied();
  }

  /** Kept in memory: cheap enough for every health check. */
  deadLetterCount(): number {
    return this.letters.count();
  }

  deadLetters(options: { after?: Position; limit?: number } = {}): DeadLetter[] {
    return this.letters.list(options);
  }

  timeline(slug: string): TimelineView | undefined {
    return this.rows.timeline(slug);
  }

  timelines(): TimelineView[] {
    return (this.statements.timelines.all() as TimelineRow[]).map(toTimelineView);
  }

  entry(entryId: string): EntryView | undefined {
    return this.rows.entry(entryId)?.view;
  }

  entries(query: EntryListQuery): EntryPage {
    return query.q === undefined ? listEntries(this.db, query) : searchEntries(this.db, { ...query, q: query.q });
  }

  search(query: SearchQuery): EntryPage {
    return searchEntries(this.db, query);
  }

  entriesAsOf(query: EntryListQuery, position: Position): EntryPage {
    return listEntriesAsOf(this.db, query, position);
  }

  latestEntries(timeline: string, limit: number): EntryView[] {
    return latestEntries(this.db, timeline, limit);
  }

  positionAt(timeline: string, instant: string): Position | null {
    return (this.statements.lastChangeAt.get(timeline, instant) as { position: string | null }).position;
  }

  /** From the index alone, no row read or parsed. */
  nextChangePosition(timeline: string, after: Position | null): Position | null {
    return (this.statements.nextChangePosition.get(timeline, after ?? '') as { position: Position | null }).position;
  }

  changesSince(timeline: string, after: Position | null, limit: number): EntryChange[] {
    const rows = this.statements.changesSince.all(timeline, after ?? '', limit) as Array<{
      position: string;
      timeline: string;
      type: EntryChange['type'];
      entry: string;
    }>;
    return rows.map((r) => ({ position: r.position, timeline: r.timeline, type: r.type, entry: JSON.parse(r.entry) as EntryView }));
  }

  /**
   * SHA-256 over every table in a fixed order, and every token of the search
   * index by entry: equal digests mean equal read models, which is how a
   * rebuild proves it reproduced the original.
   */
  digest(): string {
    const hash = createHash('sha256');
    const update = (name: string, rows: Iterable<unknown>) => {
      hash.update(`\u0000${name}\u0000`);
      for (const row of rows) {
        hash.update(JSON.stringify(row));
        hash.update('\n');
      }
    };
    for (const table of READ_MODEL_TABLES) update(table, this.db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).iterate());
    update('entries_fts', searchIndexByEntry(this.db));
    return hash.digest('hex');
  }

  close(): void {
    try {
      this.abandonRebuild();
    } finally {
      this.db.close();
    }
  }

  /** A rebuild not finished stops here, with what it wrote committed, as if the process had died. */
  private abandonRebuild(): void {
    const rebuild = this.rebuild;
    this.rebuild = null;
    rebuild?.abandon();
  }

  private readCheckpoint(): Position | null {
    return (this.statements.checkpoint.get() as { position: string } | undefined)?.position ?? null;
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version !== READ_MODEL_VERSION) {
      this.db.transaction(() => {
        this.db.exec(DROP_SEARCH_INDEX_SQL);
        for (const table of ALL_READ_MODEL_TABLES) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
        this.db.exec(READ_MODEL_SCHEMA);
        this.db.pragma(`user_version = ${READ_MODEL_VERSION}`);
      })();
    }
    // Missing only if a rebuild stopped before building them (see SqliteRebuild).
    this.db.exec(CREATE_QUERY_INDEXES);
  }

  /** The events after the checkpoint: re-delivered ones are ignored. */
  private unapplied(events: RecordedEvent[]): RecordedEvent[] {
    const checkpoint = this.cachedCheckpoint;
    return checkpoint === null ? events : events.filter((e) => e.position > checkpoint);
  }

  /**
   * The batch and its checkpoint in one transaction. With `isolate`, each event
   * runs in its own savepoint: one that throws a poison error is rolled back
   * alone and recorded as a dead letter; an infrastructure error still aborts
   * the whole transaction.
   */
  private applyInOneTransaction(fresh: RecordedEvent[], isolate: boolean): ProjectionResult {
    const changes: EntryChange[] = [];
    const deadLetters: DeadLetter[] = [];
    const applyIsolated = this.db.transaction((event: RecordedEvent) => this.applyOne(event));
    this.db.transaction(() => {
      for (const event of fresh) {
        if (!isolate) {
          const change = this.applyOne(event);
          if (change) changes.push(change);
          continue;
        }
        try {
          const change = applyIsolated(event);
          if (change) changes.push(change);
        } catch (error) {
          if (isInfrastructureFailure(error, this.db.open)) throw error;
          const letter = deadLetterOf(event, error);
          this.letters.save(letter);
          deadLetters.push(letter);
        }
      }
      this.rows.saveCheckpoint(fresh[fresh.length - 1].position);
    })();
    this.cachedCheckpoint = fresh[fresh.length - 1].position;
    this.letters.saved(deadLetters.length);
    return { changes, deadLetters };
  }

  /** Projects one event and logs its entry change; inside the caller's transaction. */
  private applyOne(event: RecordedEvent): EntryChange | null {
    this.saved = null;
    const change = projectEvent(this.target, event);
    if (!change) return null;
    const saved = this.saved as { recordedPosition: Position; body: string } | null;
    if (!saved) throw new Error(`the change at ${change.position} saved no entry`);
    this.rows.saveChange(change, saved.recordedPosition, event.recordedAt, saved.body);
    return change;
  }

  /** The entry row the event being applied saved: the change log copies its recorded position and JSON (serialized once). */
  private saved: { recordedPosition: Position; body: string } | null = null;

  private readonly target: ProjectionTarget = {
    timeline: (slug) => this.rows.timeline(slug),
    saveTimeline: (view) => this.rows.saveTimeline(view),
    entry: (entryId) => this.rows.entry(entryId),
    saveEntry: (entry) => {
      const body = JSON.stringify(entry.view);
      this.rows.saveEntry(entryRow(entry, body));
      this.saved = { recordedPosition: entry.recordedPosition, body };
    },
  };
}
