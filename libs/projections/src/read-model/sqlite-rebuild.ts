import type { Position, RecordedEvent } from '@timeline/event-store';
import type Database from 'better-sqlite3';
import { BulkLoad } from './bulk-load';
import { isInfrastructureFailure } from './dead-letters';
import type { ProjectionRows } from './projection-rows';
import { CREATE_QUERY_INDEXES, READ_MODEL_QUERY_INDEXES, REBUILD_PRAGMAS } from './read-model.schema';
import { InlineWriter, RebuildWriteError, WorkerWriter, type RebuildWriter } from './rebuild-writer';
import type { EntryChange } from './timeline.projection';
import type { ProjectionResult, ReadModelRebuild } from './timeline-read-model.port';

/** What a rebuild needs of the read model it replays into (SqliteReadModel, already reset). */
export interface RebuildHost {
  /** The events after the checkpoint. */
  unapplied(events: RecordedEvent[]): RecordedEvent[];
  /** The fast path applied a batch up to `position` (its writer may still be committing it). */
  checkpointMoved(position: Position): void;
  /** After a failed write: the checkpoint is what the database holds. */
  reloadCheckpoint(): void;
  /** The exact path: one transaction, savepoints and dead letters if need be. */
  project(events: RecordedEvent[]): ProjectionResult;
}

/**
 * A rebuild of the SQLite read model. Each batch is folded in memory
 * (BulkLoad) and written in one transaction with its checkpoint, exactly as
 * the exact path does; the entry rows are written once, at the end or when
 * more than `maxDeferredEntries` are held (by default about half the heap's
 * worth); so are the query indexes, at the end. A batch the fast path cannot
 * take as it is (a poison event, say) is handed to the exact path, so
 * results, dead letters and checkpoint are those of one-by-one projection.
 *
 * Both cores: each batch's writes (the change log, timelines, checkpoint)
 * are done by a worker thread (WorkerWriter), on its own connection, while
 * this thread reads and folds the next page. A read model in memory, which
 * another thread cannot open, is written on this thread (InlineWriter).
 *
 * A crash midway leaves a read model at its checkpoint, which the projector
 * resumes from: opening it derives the entry rows from the change log (see
 * entries_deferred) and builds the indexes.
 */
export class SqliteRebuild implements ReadModelRebuild {
  private readonly load: BulkLoad;
  private readonly writer: RebuildWriter;
  private readonly cacheSize: number;
  /** The writer failed: what the fold holds is ahead of the database. */
  private failed = false;
  private finished = false;

  constructor(
    private readonly db: Database.Database,
    private readonly rows: ProjectionRows,
    /** The read model's file, which the writer opens; ':memory:' writes on this thread. */
    file: string,
    private readonly host: RebuildHost,
    options: { maxDeferredEntries?: number; busyTimeoutMs?: number } = {},
  ) {
    this.cacheSize = db.pragma('cache_size', { simple: true }) as number;
    for (const pragma of REBUILD_PRAGMAS) db.pragma(pragma);
    // The query indexes are built once, at the end: much cheaper than keeping
    // them up to date row by row (in the writer's thread as well: measured,
    // that made it the bottleneck).
    for (const index of READ_MODEL_QUERY_INDEXES) db.exec(`DROP INDEX IF EXISTS ${index.name}`);
    this.writer = file === ':memory:' ? new InlineWriter(db, rows) : new WorkerWriter(file, options.busyTimeoutMs ?? 5000);
    this.load = new BulkLoad(db, rows, this.writer, { maxDeferredEntries: options.maxDeferredEntries });
  }

  project(events: RecordedEvent[]): ProjectionResult {
    if (this.failed) throw new RebuildWriteError('the rebuild already failed');
    const fresh = this.host.unapplied(events);
    if (fresh.length === 0) return { changes: [], deadLetters: [] };
    let changes: EntryChange[] | undefined;
    try {
      changes = this.load.apply(fresh);
      this.host.checkpointMoved(fresh[fresh.length - 1].position);
    } catch (error) {
      if (error instanceof RebuildWriteError) {
        this.failed = true;
        this.host.reloadCheckpoint();
        throw error;
      }
      if (isInfrastructureFailure(error, this.db.open)) throw error;
    }
    if (changes) {
      this.load.keepWithinMemory();
      return { changes, deadLetters: [] };
    }
    // The exact path reads and writes the entry rows: they must be there first.
    this.load.materialize();
    const result = this.host.project(fresh);
    this.load.forget();
    return result;
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    try {
      this.writer.close();
    } catch (error) {
      if (!(error instanceof RebuildWriteError)) throw error;
      this.failed = true;
      this.host.reloadCheckpoint();
    }
    // After a failed write the fold is ahead of the database: the entry rows come from what was committed.
    if (this.failed) this.rows.deriveDeferredEntries();
    else this.load.materialize();
    this.db.exec(CREATE_QUERY_INDEXES);
    this.db.pragma(`cache_size = ${this.cacheSize}`);
    this.db.pragma('synchronous = NORMAL');
    // Everything the rebuild wrote, in the file and synced, before it is reported done.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Stops without finishing, as a crash would, once what was written is committed: for closing the read model midway. */
  abandon(): void {
    if (this.finished) return;
    this.finished = true;
    this.writer.close();
  }
}
