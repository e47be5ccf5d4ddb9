/**
 * The read model's tables. It can always be rebuilt from the log, which is why
 * it is a separate file with relaxed durability (see SqliteReadModel).
 */
export const READ_MODEL_SCHEMA = `
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
  CREATE INDEX IF NOT EXISTS entries_by_date ON entries (timeline, occurred_on, recorded_position);
  CREATE INDEX IF NOT EXISTS entries_by_kind ON entries (timeline, kind, occurred_on, recorded_position);
  CREATE TABLE IF NOT EXISTS entry_actors (
    entry_id TEXT NOT NULL,
    actor    TEXT NOT NULL,
    PRIMARY KEY (entry_id, actor)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS entry_actors_by_actor ON entry_actors (actor, entry_id);
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
  CREATE INDEX IF NOT EXISTS changes_by_timeline ON changes (timeline, position);
  CREATE INDEX IF NOT EXISTS changes_by_entry ON changes (entry_id, position);
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
`;

/**
 * Bumped whenever the tables change. A read model of another version is
 * dropped and rebuilt from the log on open: it is a cache, the log is the truth.
 */
export const READ_MODEL_VERSION = 4;

export const READ_MODEL_TABLES = ['checkpoint', 'timelines', 'entries', 'entry_actors', 'changes', 'dead_letters'] as const;
