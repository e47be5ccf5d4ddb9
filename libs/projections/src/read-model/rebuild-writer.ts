import type { Position } from '@timeline/event-store';
import type Database from 'better-sqlite3';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { TimelineView } from './entry-view';
import type { ChangeRow, EntryRow, ProjectionRows } from './projection-rows';

/** What one folded batch writes, in one transaction: entry rows (unless deferred), the change log, timelines, the checkpoint. */
export interface RowBatch {
  entries: Array<{ row: EntryRow; fresh: boolean }>;
  changes: ChangeRow[];
  timelines: TimelineView[];
  checkpoint: Position;
}

/** A batch the worker could not write: the database failed, and the rebuild stops (it is never an event's fault, see WorkerWriter). */
export class RebuildWriteError extends Error {
  override readonly name = 'RebuildWriteError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Writes the rebuild's batches (see BulkLoad). */
export interface RebuildWriter {
  /** Writes the batch, now or later; a failure may surface here or at a later call. */
  write(batch: RowBatch): void;
  /** Returns once every batch written so far is committed; throws if one failed. */
  drain(): void;
  /** Drains and lets go of what it holds. */
  close(): void;
}

/** Writes one batch's rows with ProjectionRows, in one transaction: on whichever connection `rows` belongs to. */
export function writeBatch(db: Database.Database, rows: ProjectionRows): (batch: RowBatch) => void {
  return db.transaction((batch: RowBatch) => {
    for (const { row, fresh } of batch.entries) rows.saveEntry(row, fresh);
    for (const change of batch.changes) rows.saveChangeRow(change);
    for (const timeline of batch.timelines) rows.saveTimeline(timeline);
    rows.saveCheckpoint(batch.checkpoint);
  });
}

/** On the read model's own connection, before returning: failures throw from write, with nothing written. */
export class InlineWriter implements RebuildWriter {
  readonly write: (batch: RowBatch) => void;
  constructor(db: Database.Database, rows: ProjectionRows) {
    this.write = writeBatch(db, rows);
  }
  drain(): void {}
  close(): void {}
}

/** Batches posted and not yet committed, at most: enough to keep both threads busy, few enough to bound memory. */
const IN_FLIGHT = 2;

/**
 * Writes in a worker thread, on its own connection to the same file, while
 * the main thread reads and folds the next pages: the rebuild's SQLite work
 * (inserts, commits) on the second core. Still one transaction per batch
 * with its checkpoint, committed in order, so a crash leaves the read model
 * at a checkpoint it fully reflects, as the inline writer does.
 *
 * Synchronous to its caller: `drain` blocks on a shared counter (Atomics.wait)
 * and reads the worker's report with receiveMessageOnPort, so the port's
 * methods stay synchronous. The caller checks each row before posting it
 * (ProjectionRows.couldRefuse*), so a failure here is the database's, never
 * an event's: it is thrown, not dead-lettered.
 */
export class WorkerWriter implements RebuildWriter {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  /** [0]: batches committed; [1]: 1 once the worker failed. */
  private readonly shared = new Int32Array(new SharedArrayBuffer(8));
  private posted = 0;
  private failure: RebuildWriteError | null = null;
  private closed = false;

  constructor(file: string, busyTimeoutMs: number) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const script = __filename.replace(/rebuild-writer\.(ts|js)$/, 'rebuild-writer.worker.$1');
    // From the sources (tests, benchmarks), the worker compiles TypeScript as its parent does.
    const execArgv = script.endsWith('.ts') ? ['-r', '@swc-node/register'] : [];
    this.worker = new Worker(script, { workerData: { file, busyTimeoutMs, shared: this.shared, port: port2 }, transferList: [port2], execArgv });
    this.worker.unref();
    this.worker.on('error', (error: unknown) => (this.failure ??= new RebuildWriteError(`the rebuild's writer failed: ${error instanceof Error ? error.message : String(error)}`)));
    const deadline = Date.now() + 60_000;
    while (this.readReport() !== 'ready') {
      this.check();
      if (Date.now() > deadline) throw new RebuildWriteError(`the rebuild's writer did not start`);
      Atomics.wait(this.shared, 1, 0, 20);
    }
  }

  write(batch: RowBatch): void {
    this.check();
    this.port.postMessage(batch);
    this.posted += 1;
    this.waitUntilCommitted(this.posted - IN_FLIGHT);
  }

  drain(): void {
    this.waitUntilCommitted(this.posted);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.drain();
    } finally {
      this.port.close();
      void this.worker.terminate();
    }
  }

  private waitUntilCommitted(count: number): void {
    for (;;) {
      this.check();
      const committed = Atomics.load(this.shared, 0);
      if (committed >= count) return;
      Atomics.wait(this.shared, 0, committed, 1000);
    }
  }

  /** Throws the worker's failure, if it reported one. */
  private check(): void {
    if (Atomics.load(this.shared, 1) === 1) this.readReport();
    if (this.failure) throw this.failure;
  }

  private readReport(): string | null {
    const received = receiveMessageOnPort(this.port) as { message: { ready?: true; error?: { name: string; message: string; code?: string } } } | undefined;
    if (!received) return null;
    const { ready, error } = received.message;
    if (error) this.failure ??= new RebuildWriteError(`${error.name}: ${error.message}`, error.code);
    return ready ? 'ready' : null;
  }
}
