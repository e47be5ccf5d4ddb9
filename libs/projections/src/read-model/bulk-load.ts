import type { Position, RecordedEvent } from '@timeline/event-store';
import type Database from 'better-sqlite3';
import { getHeapStatistics } from 'node:v8';
import { BatchFold, type HeldEntry } from './batch-fold';
import type { ProjectionRows } from './projection-rows';
import type { EntryChange } from './timeline.projection';

/**
 * The rebuild's fast path: folds a whole batch in memory (BatchFold), then
 * writes each touched row once, the change log and the checkpoint, in one
 * transaction, with the same statements as the exact path (ProjectionRows).
 * Used only while replaying into a read model that a rebuild has just emptied
 * (SqliteRebuild).
 *
 * With `deferEntries` it goes further: since the read model started empty,
 * every entry is in memory, so the `entries` and `entry_actors` rows are not
 * written batch by batch (scattered updates of a table bigger than the page
 * cache were most of a large rebuild's time) but once, in entry order, by
 * materialize. Until then the change log holds every entry's last version,
 * and the `entries_deferred` marker says so: a read model opened with the
 * marker set derives the rows from it (ProjectionRows.deriveEntriesFromChanges).
 *
 * It ends exactly where one-by-one projection ends (the digest proves it),
 * or throws having written nothing; the caller then projects the batch the
 * exact way, which is also how poison events become dead letters.
 */
export class BulkLoad {
  private readonly fold: BatchFold;
  private readonly write: (checkpoint: Position) => void;
  private readonly writeEntries: () => void;
  private deferred: boolean;
  private readonly maxDeferredEntries: number;

  constructor(
    db: Database.Database,
    private readonly rows: ProjectionRows,
    options: { deferEntries: boolean; maxDeferredEntries?: number },
  ) {
    this.deferred = options.deferEntries;
    this.maxDeferredEntries = options.maxDeferredEntries ?? defaultMaxDeferredEntries();
    this.fold = new BatchFold({
      entries: (entryIds) => rows.entries(entryIds),
      // Deferred, every entry since the reset is in memory: one not there does not exist.
      holdsEveryEntry: () => this.deferred,
      timeline: (slug) => rows.timeline(slug),
      couldRefuseTimeline: (view) => rows.couldRefuseTimeline(view),
      couldRefuseEntry: (row) => rows.couldRefuseEntry(row),
    });
    this.write = db.transaction((checkpoint: Position) => this.writeFolded(checkpoint));
    const clearDeferred = db.prepare(`DELETE FROM entries_deferred`);
    this.writeEntries = db.transaction(() => {
      // In entry order: appends to the table's b-tree rather than inserts all over it.
      const held = [...this.fold.entries()].sort((a, b) => (a.entryId < b.entryId ? -1 : 1));
      for (const entry of held) this.saveEntry(entry);
      clearDeferred.run();
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
    for (const entry of this.fold.entries()) entry.stored = true;
    this.fold.flushed(); // no longer holding every entry: past its cache's size, the fold lets them go
  }

  /** Forgets what is held in memory: for after the rows were written another way (the exact path). Materialize first. */
  forget(): void {
    this.fold.forget();
  }

  /** Each touched row once, then the change log, timelines and checkpoint; inside `write`'s transaction. */
  private writeFolded(checkpoint: Position): void {
    if (!this.deferred) for (const entry of this.fold.dirtyEntries) this.saveEntry(entry);
    for (const { change, recordedPosition, body, recordedAt } of this.fold.changes) this.rows.saveChange(change, recordedPosition, recordedAt, body);
    for (const timeline of this.fold.changedTimelines()) this.rows.saveTimeline(timeline);
    this.rows.saveCheckpoint(checkpoint);
  }

  private saveEntry(entry: HeldEntry): void {
    // A held entry whose row is null was loaded and not changed: its row is stored as it stands.
    if (entry.row) this.rows.saveEntry(entry.row, !entry.stored);
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
