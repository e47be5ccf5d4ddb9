import type { Position, RecordedEvent } from '@timeline/event-store';
import type Database from 'better-sqlite3';
import { BulkLoad } from './bulk-load';
import { isInfrastructureFailure } from './dead-letters';
import type { ProjectionRows } from './projection-rows';
import { CREATE_QUERY_INDEXES, READ_MODEL_QUERY_INDEXES } from './read-model.schema';
import type { EntryChange } from './timeline.projection';
import type { ProjectionResult, ReadModelRebuild } from './timeline-read-model.port';

/** What a rebuild needs of the read model it replays into (SqliteReadModel, already reset). */
export interface RebuildHost {
  /** The events after the checkpoint. */
  unapplied(events: RecordedEvent[]): RecordedEvent[];
  /** The fast path committed a batch up to `position`. */
  checkpointMoved(position: Position): void;
  /** The exact path: one transaction, savepoints and dead letters if need be. */
  project(events: RecordedEvent[]): ProjectionResult;
}

/**
 * A rebuild of the SQLite read model: each batch is folded in memory
 * (BulkLoad); the entry rows are written once, at the end or when more than
 * `maxDeferredEntries` are held (by default about half the heap's worth); so
 * are the query indexes, at the end. One transaction per batch, checkpoint
 * included, exactly as the exact path does. A batch the fast path cannot take
 * as it is (a poison event, say) is handed to the exact path, so results,
 * dead letters and checkpoint are those of one-by-one projection.
 *
 * A crash midway leaves a read model at its checkpoint, which the projector
 * resumes from: opening it derives the entry rows from the change log (see
 * entries_deferred) and builds the indexes.
 */
export class SqliteRebuild implements ReadModelRebuild {
  private readonly load: BulkLoad;
  private readonly cacheSize: number;

  constructor(
    private readonly db: Database.Database,
    rows: ProjectionRows,
    private readonly host: RebuildHost,
    options: { maxDeferredEntries?: number } = {},
  ) {
    // Room for a whole batch's pages (the default is 2 MB): otherwise SQLite
    // spills them to the WAL before the commit, and writes them again after.
    this.cacheSize = db.pragma('cache_size', { simple: true }) as number;
    db.pragma('cache_size = -131072');
    // No fsync while replaying (~20% of the writes' time): a crash of the
    // process loses nothing committed; only a power loss could, and finish
    // makes the whole result durable before the rebuild is reported done.
    db.pragma('synchronous = OFF');
    for (const index of READ_MODEL_QUERY_INDEXES) db.exec(`DROP INDEX IF EXISTS ${index.name}`);
    this.load = new BulkLoad(db, rows, { deferEntries: true, maxDeferredEntries: options.maxDeferredEntries });
  }

  project(events: RecordedEvent[]): ProjectionResult {
    const fresh = this.host.unapplied(events);
    if (fresh.length === 0) return { changes: [], deadLetters: [] };
    let changes: EntryChange[] | undefined;
    try {
      changes = this.load.apply(fresh);
      this.host.checkpointMoved(fresh[fresh.length - 1].position);
    } catch (error) {
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
    this.load.materialize();
    this.db.exec(CREATE_QUERY_INDEXES);
    this.db.pragma(`cache_size = ${this.cacheSize}`);
    this.db.pragma('synchronous = NORMAL');
    // Everything the rebuild wrote, in the file and synced, before it is reported done.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
}
