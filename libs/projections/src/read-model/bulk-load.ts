import type { Position, RecordedEvent } from '@timeline/event-store';
import type Database from 'better-sqlite3';
import { getHeapStatistics } from 'node:v8';
import { BatchFold, newEntryRow, type EntryRow } from './batch-fold';
import type { EntryView, TimelineView } from './entry-view';
import type { EntryChange } from './timeline.projection';

/**
 * The rebuild's fast path: folds a whole batch in memory (BatchFold), then
 * writes each touched row once, the change log and the checkpoint, in one
 * transaction with prepared positional statements. Used only while replaying
 * into a read model that a rebuild has just emptied (SqliteReadModel.startRebuild).
 *
 * With `deferEntries` it goes further: since the read model started empty,
 * every entry is in memory, so the `entries` and `entry_actors` rows are not
 * written batch by batch (scattered updates of a table bigger than the page
 * cache were most of a large rebuild's time) but once, in entry order, by
 * materialize. Until then the change log holds every entry's last version,
 * and the `entries_deferred` marker says so: a read model opened with the
 * marker set derives the rows from it (SqliteReadModel).
 *
 * It ends exactly where one-by-one projection ends (the digest proves it),
 * or throws having written nothing; the caller then projects the batch the
 * exact way, which is also how poison events become dead letters.
 */
export class BulkLoad {
  private readonly fold: BatchFold;
  private readonly statements;
  private readonly write: (checkpoint: Position) => void;
  private readonly writeEntries: () => void;
  private deferred: boolean;
  private readonly maxDeferredEntries: number;

  constructor(
    db: Database.Database,
    timeline: (slug: string) => TimelineView | undefined,
    options: { deferEntries: boolean; maxDeferredEntries?: number },
  ) {
    this.deferred = options.deferEntries;
    this.maxDeferredEntries = options.maxDeferredEntries ?? defaultMaxDeferredEntries();
    this.statements = {
      entries: db.prepare(
        `SELECT entry_id, timeline, kind, recorded_position, body FROM entries WHERE entry_id IN (SELECT value FROM json_each(?))`,
      ),
      insertEntry: db.prepare(
        `INSERT INTO entries (entry_id, timeline, kind, occurred_on, recorded_position, status, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      // What the one-by-one upsert changes on conflict; the other columns keep their first values.
      updateEntry: db.prepare(`UPDATE entries SET occurred_on = ?, status = ?, body = ? WHERE entry_id = ?`),
      clearActors: db.prepare(`DELETE FROM entry_actors WHERE entry_id = ?`),
      addActor: db.prepare(`INSERT OR IGNORE INTO entry_actors (entry_id, actor) VALUES (?, ?)`),
      insertChange: db.prepare(
        `INSERT INTO changes (position, timeline, type, entry_id, kind, occurred_on, status, recorded_position, recorded_at, entry)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      saveTimeline: db.prepare(
        `INSERT INTO timelines (slug, title, description, entry_count, retracted_count, opened_at, updated_at, position)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (slug) DO UPDATE SET title = excluded.title, description = excluded.description,
           entry_count = excluded.entry_count, retracted_count = excluded.retracted_count,
           updated_at = excluded.updated_at, position = excluded.position`,
      ),
      saveCheckpoint: db.prepare(
        `INSERT INTO checkpoint (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position`,
      ),
      clearDeferred: db.prepare(`DELETE FROM entries_deferred`),
    };
    this.fold = new BatchFold({
      entries: (entryIds) => (this.statements.entries.all(JSON.stringify(entryIds)) as StoredEntry[]).map(toEntryRow),
      // Deferred, every entry since the reset is in memory: one not there does not exist.
      holdsEveryEntry: () => this.deferred,
      timeline,
    });
    this.write = db.transaction((checkpoint: Position) => this.writeFolded(checkpoint));
    this.writeEntries = db.transaction(() => {
      // In entry order: appends to the table's b-tree rather than inserts all over it.
      const rows = [...this.fold.rows()].sort((a, b) => (a.entryId < b.entryId ? -1 : 1));
      for (const row of rows) this.saveEntry(row);
      this.statements.clearDeferred.run();
    });
    // Set here and cleared by writeEntries: the one class that defers says so, and says when it stops.
    if (this.deferred) db.prepare(`INSERT OR IGNORE INTO entries_deferred (id) VALUES (1)`).run();
  }

  /**
   * Applies the events (all after the checkpoint) and moves the checkpoint to
   * the last, in one transaction; returns the entry changes in log order.
   * Throws, with nothing written and the fold as it was, if any event needs
   * the exact path or the database fails.
   */
  apply(events: RecordedEvent[]): EntryChange[] {
    try {
      this.fold.fold(events);
      this.write(events[events.length - 1].position);
    } catch (error) {
      this.fold.discard();
      throw error;
    }
    const changes = this.fold.changes.map((c) => c.change);
    this.fold.flushed(!this.deferred);
    return changes;
  }

  /** Memory is bounded: past the cap, writes the deferred rows out (materialize) and goes on batch by batch. */
  keepWithinMemory(): void {
    if (this.deferred && this.fold.size > this.maxDeferredEntries) this.materialize();
  }

  /**
   * Writes the deferred entry rows, and clears the marker, in one transaction;
   * from then on each batch writes its own rows. Call it before anything
   * else reads or writes `entries`, and at the end. Does nothing if not deferred.
   */
  materialize(): void {
    if (!this.deferred) return;
    this.writeEntries();
    this.deferred = false;
    for (const row of this.fold.rows()) row.stored = true;
    this.fold.flushed(); // no longer holding every entry: past its cache's size, the fold lets them go
  }

  /** Forgets what is held in memory: for after the rows were written another way (the exact path). Materialize first. */
  forget(): void {
    this.fold.forget();
  }

  /** Each touched row once, then the change log, timelines and checkpoint; inside `write`'s transaction. */
  private writeFolded(checkpoint: Position): void {
    const s = this.statements;
    if (!this.deferred) for (const row of this.fold.dirtyEntries) this.saveEntry(row);
    for (const { change, row, body, recordedAt } of this.fold.changes) {
      const entry = change.entry;
      s.insertChange.run(change.position, change.timeline, change.type, entry.entryId, entry.kind, entry.occurredOn, entry.status, row.recordedPosition, recordedAt, body);
    }
    for (const t of this.fold.changedTimelines()) {
      s.saveTimeline.run(t.slug, t.title, t.description, t.entryCount, t.retractedCount, t.openedAt, t.updatedAt, t.position);
    }
    s.saveCheckpoint.run(checkpoint);
  }

  private saveEntry(row: EntryRow): void {
    const s = this.statements;
    if (row.stored) {
      s.updateEntry.run(row.occurredOn, row.status, row.body, row.entryId);
      s.clearActors.run(row.entryId);
    } else {
      // Not in the table yet: no actors to clear.
      s.insertEntry.run(row.entryId, row.timeline, row.kind, row.occurredOn, row.recordedPosition, row.status, row.body);
    }
    for (const actor of row.actors) s.addActor.run(row.entryId, actor);
  }
}

/**
 * How many entries a deferred load may hold: under half the heap, counting
 * 2 KB per entry. Measured: ~1.1 KB (its JSON, its row and the map's share;
 * 640 MB for 600,000 entries); ~1.8 KB when rows also kept their views.
 * About 1,000,000 entries with Node's default heap here (4.3 GB).
 */
function defaultMaxDeferredEntries(): number {
  return Math.floor(getHeapStatistics().heap_size_limit / 4000);
}

interface StoredEntry {
  entry_id: string;
  timeline: string;
  kind: string;
  recorded_position: string;
  body: string;
}

function toEntryRow(r: StoredEntry): EntryRow {
  return newEntryRow(JSON.parse(r.body) as EntryView, r.body, { timeline: r.timeline, kind: r.kind, recordedPosition: r.recorded_position, stored: true });
}
