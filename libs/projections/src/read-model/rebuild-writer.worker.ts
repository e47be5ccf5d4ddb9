/**
 * The worker thread of WorkerWriter (rebuild-writer.ts): opens its own
 * connection to the read model's file and writes each batch it is sent with
 * the same statements as the main thread (ProjectionRows), one transaction
 * per batch; counts each commit in the shared array, and reports a failure
 * there and on the port. Its imports are relative, not by alias: it loads
 * as its own entry point, and quickly (not the event store's whole library).
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { openSqlite } from '../../../event-store/src/sqlite/open-sqlite';
import { ProjectionRows } from './projection-rows';
import { REBUILD_PRAGMAS } from './read-model.schema';
import { writeBatch, type RowBatch } from './rebuild-writer';

const { file, busyTimeoutMs, shared, port } = workerData as { file: string; busyTimeoutMs: number; shared: Int32Array; port: MessagePort };

function fail(error: unknown): void {
  const { name, message, code } = (error ?? {}) as { name?: string; message?: string; code?: string };
  port.postMessage({ error: { name: name ?? 'Error', message: message ?? String(error), code } });
  Atomics.store(shared, 1, 1);
  Atomics.notify(shared, 0);
  Atomics.notify(shared, 1);
}

try {
  const db = openSqlite(file, { timeout: busyTimeoutMs });
  for (const pragma of REBUILD_PRAGMAS) db.pragma(pragma);
  const write = writeBatch(db, new ProjectionRows(db));
  let failed = false;
  port.on('message', (batch: RowBatch) => {
    if (failed) return;
    try {
      write(batch);
      Atomics.add(shared, 0, 1);
      Atomics.notify(shared, 0);
    } catch (error) {
      failed = true;
      db.close();
      fail(error);
    }
  });
  port.on('close', () => {
    if (db.open) db.close();
  });
  port.postMessage({ ready: true });
  Atomics.notify(shared, 1);
} catch (error) {
  fail(error);
}
