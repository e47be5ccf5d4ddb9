import type Database from 'better-sqlite3';
import type { RecordedEvent } from '../event-store.port';
import { toStoreError } from './sqlite-errors';
import type { EventStatements } from './sqlite-schema';

/**
 * Restores exported events as they were: same ids, streams, revisions,
 * content and recordedAt, in the given (log) order. Only into an empty
 * store, where the positions come out as they were numbered originally.
 * Not part of the port: KurrentDB keeps its own clock, so there an import is
 * a plain append and recordedAt changes.
 *
 * A command-line import may block while another process holds the write
 * lock, so it waits `lockWaitMs` inside SQLite, then puts the connection's
 * usual `busyTimeoutMs` back.
 */
export function importInto(
  db: Database.Database,
  statements: EventStatements,
  events: readonly RecordedEvent[],
  timeouts: { lockWaitMs: number; busyTimeoutMs: number },
): void {
  const { position } = statements.head.get() as { position: number | null };
  if (position !== null) throw new Error('import needs an empty event store');
  db.pragma(`busy_timeout = ${timeouts.lockWaitMs}`);
  try {
    db.transaction(() => {
      for (const e of events) {
        statements.insert.run(e.id, e.stream, e.revision, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), e.recordedAt);
      }
    }).immediate();
  } catch (error) {
    throw toStoreError(error, 'write');
  } finally {
    db.pragma(`busy_timeout = ${timeouts.busyTimeoutMs}`);
  }
}
