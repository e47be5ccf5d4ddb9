import { openSqlite, type RecordedEvent, type Position } from '@timeline/event-store';
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { deadLetterOf, isInfrastructureFailure, type DeadLetter } from './dead-letters';
import { listEntries, listEntriesAsOf, type EntryListQuery, type EntryPage } from './entry-queries';
import type { EntryView, TimelineView } from './entry-view';
import { BulkLoad } from './bulk-load';
import {
  ALL_READ_MODEL_TABLES,
  CREATE_QUERY_INDEXES,
  READ_MODEL_QUERY_INDEXES,
  READ_MODEL_SCHEMA,
  READ_MODEL_TABLES,
  READ_MODEL_VERSION,
} from './read-model.schema';
import { projectEvent, type EntryChange, type ProjectionTarget } from './timeline.projection';

interface TimelineRow {
  slug: string;
  title: string;
  description: string;
  entry_count: number;
  retracted_count: number;
  opened_at: string;
  updated_at: string;
  position: string;
}

export interface SqliteReadModelOptions {
  /**
   * How long a write waits for another connection's lock on the read model
   * file (a CLI rebuild, say) before failing with SQLITE_BUSY, which the
   * projector retries. Default 5000 ms.
   */
  busyTimeoutMs?: number;
}

interface DeadLetterRow {
  position: string;
  stream: string;
  type: string;
  revision: number;
  error: string;
  event: string;
  recorded_at: string;
}

/** A rebuild in progress: see SqliteReadModel.startRebuild. */
export interface ReadModelRebuild {
  /** Like SqliteReadModel.project, for the next events of the log, in order. */
  project(events: RecordedEvent[]): ProjectionResult;
  /** Builds the query indexes; call it once the log is replayed, or when giving up. */
  finish(): void;
}

/** What applying a batch did. */
export interface ProjectionResult {
  /** The entry changes it made, in log order. */
  changes: EntryChange[];
  /** The events of the batch it could not apply and set aside, in log order. */
  deadLetters: DeadLetter[];
}

/**
 * The timeline read model in SQLite.
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
export class SqliteReadModel {
  private readonly db: Database.Database;
  private readonly statements;
  private cachedCheckpoint: Position | null;
  private cachedDeadLetterCount: number;

  constructor(readonly file: string, options: SqliteReadModelOptions = {}) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = openSqlite(file, { timeout: options.busyTimeoutMs ?? 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.migrate();
    const db = this.db;
    this.statements = {
      checkpoint: db.prepare(`SELECT position FROM checkpoint WHERE id = 1`),
      saveCheckpoint: db.prepare(
        `INSERT INTO checkpoint (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position`,
      ),
      timeline: db.prepare(`SELECT * FROM timelines WHERE slug = ?`),
      timelines: db.prepare(`SELECT * FROM timelines ORDER BY slug`),
      saveTimeline: db.prepare(
        `INSERT INTO timelines (slug, title, description, entry_count, retracted_count, opened_at, updated_at, position)
         VALUES (@slug, @title, @description, @entryCount, @retractedCount, @openedAt, @updatedAt, @position)
         ON CONFLICT (slug) DO UPDATE SET title = excluded.title, description = excluded.description,
           entry_count = excluded.entry_count, retracted_count = excluded.retracted_count,
           updated_at = excluded.updated_at, position = excluded.position`,
      ),
      entry: db.prepare(`SELECT body FROM entries WHERE entry_id = ?`),
      saveEntry: db.prepare(
        `INSERT INTO entries (entry_id, timeline, kind, occurred_on, recorded_position, status, body)
         VALUES (@entryId, @timeline, @kind, @occurredOn, @position, @status, @body)
         ON CONFLICT (entry_id) DO UPDATE SET occurred_on = excluded.occurred_on, status = excluded.status, body = excluded.body`,
      ),
      clearActors: db.prepare(`DELETE FROM entry_actors WHERE entry_id = ?`),
      addActor: db.prepare(`INSERT OR IGNORE INTO entry_actors (entry_id, actor) VALUES (?, ?)`),
      saveChange: db.prepare(
        `INSERT INTO changes (position, timeline, type, entry_id, kind, occurred_on, status, recorded_position, recorded_at, entry)
         VALUES (@position, @timeline, @type, @entryId, @kind, @occurredOn, @status,
           (SELECT recorded_position FROM entries WHERE entry_id = @entryId), @recordedAt, @entry)`,
      ),
      lastChangeAt: db.prepare(`SELECT MAX(position) AS position FROM changes WHERE timeline = ? AND recorded_at <= ?`),
      changesSince: db.prepare(
        `SELECT position, timeline, type, entry FROM changes WHERE timeline = ? AND position > ? ORDER BY position LIMIT ?`,
      ),
      nextChangePosition: db.prepare(`SELECT MIN(position) AS position FROM changes WHERE timeline = ? AND position > ?`),
      saveDeadLetter: db.prepare(
        `INSERT INTO dead_letters (position, stream, type, revision, error, event, recorded_at)
         VALUES (@position, @stream, @type, @revision, @error, @event, @recordedAt)`,
      ),
      deadLetterCount: db.prepare(`SELECT COUNT(*) AS count FROM dead_letters`),
      deadLetters: db.prepare(`SELECT * FROM dead_letters WHERE position > ? ORDER BY position LIMIT ?`),
    };
    this.cachedCheckpoint = this.readCheckpoint();
    this.cachedDeadLetterCount = this.readDeadLetterCount();
  }

  /** The position of the last event applied, or null before the first. */
  checkpoint(): Position | null {
    return this.cachedCheckpoint;
  }

  /**
   * Applies a batch in one transaction, dead letters and checkpoint included;
   * returns the entry changes it made, in log order. Throws (having changed
   * nothing) only when the database fails.
   */
  apply(events: RecordedEvent[]): EntryChange[] {
    return this.project(events).changes;
  }

  /** Like apply, and also says which events were set aside as dead letters. */
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

  /**
   * Empties the read model and returns what replays the log into it: each
   * batch is folded in memory (BulkLoad); the entry rows are written once,
   * at the end or when more than `maxDeferredEntries` are held (by default
   * about half the heap's worth); so are the query indexes, at the end. One
   * transaction per batch, checkpoint included, exactly as project does. A batch the fast path
   * cannot take as it is (a poison event, say) is handed to project, so
   * results, dead letters and checkpoint are those of one-by-one projection.
   *
   * A crash midway leaves a read model at its checkpoint, which the projector
   * resumes from: opening it derives the entry rows from the change log (see
   * entries_deferred) and builds the indexes.
   */
  startRebuild(options: { maxDeferredEntries?: number } = {}): ReadModelRebuild {
    this.reset();
    // Room for a whole batch's pages (the default is 2 MB): otherwise SQLite
    // spills them to the WAL before the commit, and writes them again after.
    const cacheSize = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma('cache_size = -131072');
    // No fsync while replaying (~20% of the writes' time): a crash of the
    // process loses nothing committed; only a power loss could, and finish
    // makes the whole result durable before the rebuild is reported done.
    this.db.pragma('synchronous = OFF');
    for (const index of READ_MODEL_QUERY_INDEXES) this.db.exec(`DROP INDEX IF EXISTS ${index.name}`);
    const load = new BulkLoad(this.db, (slug) => this.timeline(slug), { deferEntries: true, maxDeferredEntries: options.maxDeferredEntries });
    return {
      project: (events) => {
        const fresh = this.unapplied(events);
        if (fresh.length === 0) return { changes: [], deadLetters: [] };
        let changes: EntryChange[] | undefined;
        try {
          changes = load.apply(fresh);
          this.cachedCheckpoint = fresh[fresh.length - 1].position;
        } catch (error) {
          if (isInfrastructureFailure(error, this.db.open)) throw error;
        }
        if (changes) {
          load.keepWithinMemory();
          return { changes, deadLetters: [] };
        }
        // The exact path reads and writes the entry rows: they must be there first.
        load.materialize();
        const result = this.project(fresh);
        load.forget();
        return result;
      },
      finish: () => {
        load.materialize();
        this.db.exec(CREATE_QUERY_INDEXES);
        this.db.pragma(`cache_size = ${cacheSize}`);
        this.db.pragma('synchronous = NORMAL');
        // Everything the rebuild wrote, in the file and synced, before it is reported done.
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      },
    };
  }

  /** Empties every table, checkpoint and dead letters included: the first step of a rebuild. */
  reset(): void {
    this.db.transaction(() => {
      for (const table of ALL_READ_MODEL_TABLES) this.db.exec(`DELETE FROM ${table}`);
    })();
    this.cachedCheckpoint = null;
    this.cachedDeadLetterCount = 0;
  }

  /** How many events were set aside as dead letters (kept in memory: cheap enough for every health check). */
  deadLetterCount(): number {
    return this.cachedDeadLetterCount;
  }

  /** Dead letters in log order, strictly after `after`. */
  deadLetters(options: { after?: Position; limit?: number } = {}): DeadLetter[] {
    const rows = this.statements.deadLetters.all(options.after ?? '', Math.min(Math.max(options.limit ?? 100, 1), 1000)) as DeadLetterRow[];
    return rows.map((r) => ({
      position: r.position,
      stream: r.stream,
      type: r.type,
      revision: r.revision,
      error: r.error,
      event: JSON.parse(r.event) as RecordedEvent,
      recordedAt: r.recorded_at,
    }));
  }

  timeline(slug: string): TimelineView | undefined {
    const row = this.statements.timeline.get(slug) as TimelineRow | undefined;
    return row && toTimelineView(row);
  }

  timelines(): TimelineView[] {
    return (this.statements.timelines.all() as TimelineRow[]).map(toTimelineView);
  }

  entry(entryId: string): EntryView | undefined {
    const row = this.statements.entry.get(entryId) as { body: string } | undefined;
    return row && (JSON.parse(row.body) as EntryView);
  }

  entries(query: EntryListQuery): EntryPage {
    return listEntries(this.db, query);
  }

  /** The timeline's entries exactly as they stood once the log reached `position`. */
  entriesAsOf(query: EntryListQuery, position: Position): EntryPage {
    return listEntriesAsOf(this.db, query, position);
  }

  /** The position of the timeline's last change recorded at or before `instant` (ISO-8601), or null. */
  positionAt(timeline: string, instant: string): Position | null {
    return (this.statements.lastChangeAt.get(timeline, instant) as { position: string | null }).position;
  }

  /** The position of the timeline's first change after `after`, or null: from the index alone, no row read or parsed. */
  nextChangePosition(timeline: string, after: Position | null): Position | null {
    return (this.statements.nextChangePosition.get(timeline, after ?? '') as { position: Position | null }).position;
  }

  /** Changes to one timeline strictly after `after`, in log order: what a resuming live client missed. */
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
   * SHA-256 over every table in a fixed order: equal digests mean equal read
   * models, which is how a rebuild proves it reproduced the original.
   */
  digest(): string {
    const hash = createHash('sha256');
    for (const table of READ_MODEL_TABLES) {
      hash.update(`\u0000${table}\u0000`);
      for (const row of this.db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).iterate()) {
        hash.update(JSON.stringify(row));
        hash.update('\n');
      }
    }
    return hash.digest('hex');
  }

  close(): void {
    this.db.close();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version !== READ_MODEL_VERSION) {
      this.db.transaction(() => {
        for (const table of ALL_READ_MODEL_TABLES) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
        this.db.exec(READ_MODEL_SCHEMA);
        this.db.pragma(`user_version = ${READ_MODEL_VERSION}`);
      })();
    }
    // Missing only if a rebuild stopped before building them (see startRebuild).
    this.db.exec(CREATE_QUERY_INDEXES);
    this.deriveDeferredEntries();
  }

  /**
   * A rebuild that stopped before writing the entry rows (startRebuild) left
   * the marker set: derive them from the change log. Each entry's newest
   * change has its row as it stands; its first change (at recorded_position)
   * has the timeline and kind that the row keeps from its first recording.
   */
  private deriveDeferredEntries(): void {
    if (this.db.prepare(`SELECT id FROM entries_deferred`).get() === undefined) return;
    this.db.transaction(() => {
      this.db.exec(`
        DELETE FROM entries;
        DELETE FROM entry_actors;
        INSERT INTO entries (entry_id, timeline, kind, occurred_on, recorded_position, status, body)
          SELECT newest.entry_id, COALESCE(first.timeline, newest.timeline), COALESCE(first.kind, newest.kind),
                 newest.occurred_on, newest.recorded_position, newest.status, newest.entry
          FROM (SELECT MAX(position) AS position FROM changes GROUP BY entry_id) AS last
          JOIN changes AS newest ON newest.position = last.position
          LEFT JOIN changes AS first ON first.position = newest.recorded_position
          ORDER BY newest.entry_id;
        INSERT OR IGNORE INTO entry_actors (entry_id, actor)
          SELECT entries.entry_id, actor.value FROM entries, json_each(entries.body, '$.actors') AS actor;
        DELETE FROM entries_deferred;
      `);
    })();
  }

  /** The events after the checkpoint: re-delivered ones are ignored. */
  private unapplied(events: RecordedEvent[]): RecordedEvent[] {
    const checkpoint = this.cachedCheckpoint;
    return checkpoint === null ? events : events.filter((e) => e.position > checkpoint);
  }

  private readCheckpoint(): Position | null {
    const row = this.statements.checkpoint.get() as { position: string } | undefined;
    return row?.position ?? null;
  }

  private readDeadLetterCount(): number {
    return (this.statements.deadLetterCount.get() as { count: number }).count;
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
          this.statements.saveDeadLetter.run({ ...letter, event: JSON.stringify(event) });
          deadLetters.push(letter);
        }
      }
      this.statements.saveCheckpoint.run(fresh[fresh.length - 1].position);
    })();
    this.cachedCheckpoint = fresh[fresh.length - 1].position;
    this.cachedDeadLetterCount += deadLetters.length;
    return { changes, deadLetters };
  }

  /** Projects one event and logs its entry change; inside the caller's transaction. */
  private applyOne(event: RecordedEvent): EntryChange | null {
    const change = projectEvent(this.target, event);
    if (!change) return null;
    this.statements.saveChange.run({
      position: change.position,
      timeline: change.timeline,
      type: change.type,
      entryId: change.entry.entryId,
      kind: change.entry.kind,
      occurredOn: change.entry.occurredOn,
      status: change.entry.status,
      recordedAt: event.recordedAt,
      entry: this.serialized.get(change.entry) ?? JSON.stringify(change.entry),
    });
    return change;
  }

  /** Each entry version is serialized once, for its row and for the change log alike. */
  private readonly serialized = new WeakMap<EntryView, string>();

  private readonly target: ProjectionTarget = {
    timeline: (slug) => this.timeline(slug),
    saveTimeline: (view) => this.statements.saveTimeline.run(view),
    entry: (entryId) => this.entry(entryId),
    saveEntry: (view) => {
      const body = JSON.stringify(view);
      this.serialized.set(view, body);
      this.statements.saveEntry.run({
        entryId: view.entryId,
        timeline: view.timeline,
        kind: view.kind,
        occurredOn: view.occurredOn,
        position: view.position,
        status: view.status,
        body,
      });
      this.statements.clearActors.run(view.entryId);
      for (const actor of view.actors) this.statements.addActor.run(view.entryId, actor);
    },
  };
}

function toTimelineView(row: TimelineRow): TimelineView {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    entryCount: row.entry_count,
    retractedCount: row.retracted_count,
    openedAt: row.opened_at,
    updatedAt: row.updated_at,
    position: row.position,
  };
}
