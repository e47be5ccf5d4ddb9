import type { Position, RecordedEvent } from '@timeline/event-store';
import type Database from 'better-sqlite3';
import { getHeapStatistics } from 'node:v8';
import { BatchFold, NeedsExactPath } from './batch-fold';
import { changeRow, type ProjectionRows } from './projection-rows';
import type { RebuildWriter, RowBatch } from './rebuild-writer';
import type { EntryChange } from './timeline.projection';

/**
 * The rebuild's fast path: folds a whole batch in memory (BatchFold), then
 * writes each touched row once, the change log and the checkpoint, in one
 * transaction, with the same statements as the exact path (ProjectionRows).
 * Used only while replaying into a read model that a rebuild has just emptied
 * (SqliteRebuild).
 *
 * Since the read model started empty, every entry is in memory (up to
 * `maxDeferredEntries`), so the `entries` and `entry_actors` rows are not
 * written batch by batch (scattered updates of a table bigger than the page
 * cache were most of a large rebuild's time; in a writer thread as well,
 * where they made that thread the bottleneck) but once, in entry order, by
 * materialize. Until then the change log holds every entry's last version,
 * and the `entries_deferred` marker says so: a read model opened with the
 * marker set derives the rows from it (ProjectionRows.deriveDeferredEntries).
 *
 * It ends exactly where one-by-one projection ends (the digest proves it),
 * or throws having written nothing; the caller then projects the batch the
 * exact way, which is also how poison events become dead letters.
 */
export class BulkLoad {
  private readonly fold: BatchFold;
  private readonly writeEntries: () => void;
  /** Every entry since the reset is in memory, its row not yet written. */
  private deferred = true;
  private readonly maxDeferredEntries: number;

  constructor(
    db: Database.Database,
    private readonly rows: ProjectionRows,
    private readonly writer: RebuildWriter,
    options: { maxDeferredEntries?: number } = {},
  ) {
    this.maxDeferredEntries = options.maxDeferredEntries ?? defaultMaxDeferredEntries();
    this.fold = new BatchFold({
      entries: (entryIds) => rows.entries(entryIds),
      // Deferred, every entry since the reset is in memory: one not there does not exist.
      holdsEveryEntry: () => this.deferred,
      timeline: (slug) => rows.timeline(slug),
      couldRefuseTimeline: (view) => rows.couldRefuseTimeline(view),
      couldRefuseEntry: (row) => rows.couldRefuseEntry(row),
    });
    const clearDeferred = db.prepare(`DELETE FROM entries_deferred`);
    this.writeEntries = db.transaction(() => {
      // In entry order: appends to the table's b-tree rather than inserts all over it.
      const held = [...this.fold.entries()].sort((a, b) => (a.entryId < b.entryId ? -1 : 1));
      for (const entry of held) if (entry.row) rows.saveEntry(entry.row, !entry.stored);
      clearDeferred.run();
    });
    // Set here and cleared by writeEntries: the one class that defers says so, and says when it stops.
    db.prepare(`INSERT OR IGNORE INTO entries_deferred (id) VALUES (1)`).run();
  }

  /**
   * Applies the events (all after the checkpoint) and moves the checkpoint to
   * the last, in one transaction; returns the entry changes in log order.
   * Throws, with nothing written and the fold as it was, if any event needs
   * the exact path or the database fails.
   */
  apply(events: RecordedEvent[]): EntryChange[] {
    // Not deferred, the fold reads entry rows from the database: every batch written must be there.
    if (!this.deferred) this.writer.drain();
    try {
      this.fold.fold(events);
      this.writer.write(this.folded(events[events.length - 1].position));
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
   * Waits for the writer, then writes the deferred entry rows and clears the
   * marker, in one transaction; from then on each batch writes its own rows.
   * Call it before anything else reads or writes `entries`, and at the end.
   */
  materialize(): void {
    this.writer.drain();
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

  /**
   * What the folded batch writes: each touched row once (unless deferred),
   * the change log, timelines and checkpoint. Each change row is checked
   * here, as the fold checks the others, so that the writer (perhaps in
   * another thread, see WorkerWriter) is never the one to find an event's fault.
   */
  private folded(checkpoint: Position): RowBatch {
    const entries: RowBatch['entries'] = [];
    // A held entry whose row is null was loaded and not changed: its row is stored as it stands.
    if (!this.deferred) for (const entry of this.fold.dirtyEntries) if (entry.row) entries.push({ row: entry.row, fresh: !entry.stored });
    const changes = this.fold.changes.map(({ change, recordedPosition, body, recordedAt }) => changeRow(change, recordedPosition, recordedAt, body));
    for (const row of changes) if (this.rows.couldRefuseChange(row)) throw new NeedsExactPath(`change-log row SQLite could refuse (${row.position})`);
    return { entries, changes, timelines: this.fold.changedTimelines(), checkpoint };
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
