export * from './event-store.port';
export * from './event-store.errors';
export { expectedRevisionHolds } from './expected-revision';
export { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite/sqlite-event-store';
export { isSqlitePosition } from './sqlite/sqlite-positions';
export { openSqlite } from './sqlite/open-sqlite';
export { openEventStore, type EventStoreChoice } from './open-event-store';
