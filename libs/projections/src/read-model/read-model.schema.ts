import { SEARCH_INDEX_SQL } from './search-index';

/**
 * The read model's tables. It can always be rebuilt from the log, which is why
 * it is a separate file with relaxed durability (see SqliteReadModel).
 */
export const READ_MODEL_TABLES_SQL = `
  CREATE TABLE IF NOT EXISTS checkpoint (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS timelines (
    slug            TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    entry_count     INTEGER NOT NULL DEFAULT 0,
    retracted_count INTEGER NOT NULL DEFAULT 0,
    opened_at       TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    position        TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS entries (
    entry_id          TEXT PRIMARY KEY,
    timeline          TEXT NOT NULL,
    kind              TEXT NOT NULL,
    occurred_on       TEXT NOT NULL,
    -- position of the recording event: the tie-break "in recording order"
    recorded_position TEXT NOT NULL,
    status            TEXT NOT NULL,
    body              TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS entry_actors (
    entry_id TEXT NOT NULL,
    actor    TEXT NOT NULL,
    PRIMARY KEY (entry_id, actor)
  ) WITHOUT ROWID;
  -- Every entry change in log order, with the entry as it stood after it,
  -- written with the projection. Live clients that come back are replayed from
  -- here, and as-of queries read each entry's version at a past position.
  CREATE TABLE IF NOT EXISTS changes (
    position          TEXT PRIMARY KEY,
    timeline          TEXT NOT NULL,
    type              TEXT NOT NULL,
    entry_id          TEXT NOT NULL,
    kind              TEXT NOT NULL,
    occurred_on       TEXT NOT NULL,
    status            TEXT NOT NULL,
    recorded_position TEXT NOT NULL,
    recorded_at       TEXT NOT NULL,
    entry             TEXT NOT NULL
  ) WITHOUT ROWID;
  -- Events the projection could not apply (a "poison" event: its content, not
  -- the database, was the problem), set aside with the error instead of
  -- stopping the projector. Written in the transaction that moves the
  -- checkpoint past them, so each is recorded exactly once. Nothing here
  -- depends on the run (no wall-clock time; recorded_at is the store's time
  -- for the event), so a rebuild re-creates the same rows and the table is
  -- part of the digest.
  CREATE TABLE IF NOT EXISTS dead_letters (
    position    TEXT PRIMARY KEY,
    stream      TEXT NOT NULL,
    type        TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    error       TEXT NOT NULL,
    event       TEXT NOT NULL,
    recorded_at TEXT NOT NULL
  ) WITHOUT ROWID;
  -- Set while a rebuild holds the entries in memory and writes them only at
  -- the end (BulkLoad): the change log then has every entry's last version,
  -- and a read model opened with this row derives the entries from it.
  CREATE TABLE IF NOT EXISTS entries_deferred (
    id INTEGER PRIMARY KEY CHECK (id = 1)
  );
`;

/**
 * The indexes that serve queries only; the projection itself looks rows up by
 * primary key. A rebuild drops them and builds each once at the end, which is
 * much cheaper than keeping them up to date row by row. They are created
 * (IF NOT EXISTS) every time the read model is opened, so a rebuild that died
 * before building them leaves nothing slow behind for long.
 */
export const READ_MODEL_QUERY_INDEXES: ReadonlyArray<{ name: string; on: string }> = [
  { name: 'entries_by_date', on: 'entries (timeline, occurred_on, recorded_position)' },
  { name: 'entries_by_kind', on: 'entries (timeline, kind, occurred_on, recorded_position)' },
  { name: 'entry_actors_by_actor', on: 'entry_actors (actor, entry_id)' },
  { name: 'changes_by_timeline', on: 'changes (timeline, position)' },
  { name: 'changes_by_entry', on: 'changes (entry_id, position)' },
];

export const CREATE_QUERY_INDEXES = READ_MODEL_QUERY_INDEXES.map((i) => `CREATE INDEX IF NOT EXISTS ${i.name} ON ${i.on};`).join('\n');

export const READ_MODEL_SCHEMA = `${READ_MODEL_TABLES_SQL}\n${SEARCH_INDEX_SQL}\n${CREATE_QUERY_INDEXES}`;

/**
 * How a rebuild's connections write (see SqliteRebuild). A cache with room
 * for a whole batch's pages (the default is 2 MB): otherwise SQLite spills
 * them to the WAL before the commit, and writes them again after. No fsync
 * while replaying (~20% of the writes' time): a crash of the process loses
 * nothing committed; only a power loss could, and the rebuild's end makes the
 * whole result durable before it is reported done.
 */
export const REBUILD_PRAGMAS = ['cache_size = -131072', 'synchronous = OFF'] as const;

/**
 * Bumped whenever the tables change. A read model of another version is
 * dropped and rebuilt from the log on open: it is a cache, the log is the truth.
 */
export const READ_MODEL_VERSION = 6;

/** The tables that hold the projection: what a reset empties and the digest covers (with the search index, see search-index.ts). */
export const READ_MODEL_TABLES = ['checkpoint', 'timelines', 'entries', 'entry_actors', 'changes', 'dead_letters'] as const;

/** Every table, the marker of an unfinished rebuild included: what a migration drops. */
export const ALL_READ_MODEL_TABLES = [...READ_MODEL_TABLES, 'entries_deferred'] as const;
