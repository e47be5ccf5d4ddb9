import type { EventStore } from './event-store.port';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

export interface EventStoreChoice {
  /** When set, KurrentDB; otherwise the embedded store in `sqliteFile`. */
  connectionString?: string | null;
  sqliteFile: string;
  /** Embedded store: how often to look for events appended by other processes. */
  pollIntervalMs?: number;
}

/** Picks the adapter. KurrentDB's gRPC client is loaded only when it is used. */
export function openEventStore(choice: EventStoreChoice): EventStore {
  if (choice.connectionString) {
    // require, not import: keeps gRPC out of every start-up that does not need it.
    const { KurrentDbEventStore } = require('./kurrentdb/kurrentdb-event-store') as typeof import('./kurrentdb/kurrentdb-event-store');
    return KurrentDbEventStore.fromConnectionString(choice.connectionString);
  }
  return new SqliteEventStore(choice.sqliteFile, { pollIntervalMs: choice.pollIntervalMs });
}
