import type Database from 'better-sqlite3';
import type { RecordedEvent } from '../event-store.port';
import { encodeSqlitePosition } from './sqlite-positions';

/**
 * The embedded store's one table and the statements every part of the store
 * runs on it (appends, the import, reads), prepared once per connection.
 */
export const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT    NOT NULL UNIQUE,
    stream      TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    UNIQUE (stream, revision)
  );
`;

export interface EventRow {
  position: number;
  event_id: string;
  stream: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
}

export type EventStatements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare(
      `INSERT INTO events (event_id, stream, revision, type, data, metadata, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    currentRevision: db.prepare(`SELECT MAX(revision) AS revision FROM events WHERE stream = ?`),
    byEventId: db.prepare(`SELECT stream, revision FROM events WHERE event_id = ?`),
    idsFrom: db.prepare(
      `SELECT event_id, revision, position FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
    ),
    readStream: db.prepare(
      `SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
    ),
    readAll: db.prepare(`SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?`),
    head: db.prepare(`SELECT MAX(position) AS position FROM events`),
  };
}

export function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    stream: row.stream,
    revision: row.revision,
    position: encodeSqlitePosition(row.position),
    type: row.type,
    data: JSON.parse(row.data) as Record<string, unknown>,
    metadata: JSON.parse(row.metadata) as RecordedEvent['metadata'],
    recordedAt: row.recorded_at,
  };
}
