import type { Position } from '@timeline/event-store';
import type Database from 'better-sqlite3';
import type { EntryView, TimelineView } from './entry-view';
import type { EntryChange, EntryRecord } from './timeline.projection';

/*
 * The SQL of the projection's rows, and the only place it is written: the
 * exact path (SqliteReadModel) and the rebuild's bulk load (BulkLoad) both run
 * these statements. Every save writes the whole row the projection built
 * (what a row keeps from before, the projection decided: timeline.projection.ts),
 * so a save is a plain upsert and no statement knows a rule of its own.
 */

const TIMELINE_COLUMNS = ['slug', 'title', 'description', 'entry_count', 'retracted_count', 'opened_at', 'updated_at', 'position'] as const;
const ENTRY_COLUMNS = ['entry_id', 'timeline', 'kind', 'occurred_on', 'recorded_position', 'status', 'body'] as const;
const ACTOR_COLUMNS = ['entry_id', 'actor'] as const;
const CHANGE_COLUMNS = [
  'position',
  'timeline',
  'type',
  'entry_id',
  'kind',
  'occurred_on',
  'status',
  'recorded_position',
  'recorded_at',
  'entry',
] as const;

/*
 * Rows are bound by column name (named parameters), not by place: a value
 * of the wrong type then fails the way the event's content makes it fail
 * ("can only bind..."), which a dead letter records, instead of shifting the
 * parameters after it.
 */
type Row<Columns extends readonly string[]> = Record<Columns[number], unknown>;

/** A `timelines` row. */
function timelineRow(t: TimelineView): Row<typeof TIMELINE_COLUMNS> {
  return {
    slug: t.slug,
    title: t.title,
    description: t.description,
    entry_count: t.entryCount,
    retracted_count: t.retractedCount,
    opened_at: t.openedAt,
    updated_at: t.updatedAt,
    position: t.position,
  };
}

/**
 * An entry's `entries` row (its values by column) and its actors,
 * as both paths write them: what a rebuild holds between batches instead of
 * the view, so that writing the row needs no parse.
 */
export interface EntryRow {
  readonly columns: Row<typeof ENTRY_COLUMNS>;
  readonly actors: unknown;
}

/** The row of an entry as the projection saved it; `body` is the view's JSON, serialized once by the caller. */
export function entryRow(entry: EntryRecord, body: string): EntryRow {
  const v = entry.view;
  return {
    columns: { entry_id: v.entryId, timeline: v.timeline, kind: v.kind, occurred_on: v.occurredOn, recorded_position: entry.recordedPosition, status: v.status, body },
    actors: v.actors,
  };
}

/**
 * The change log's row for a change: the entry's row as it stands after it
 * (same timeline, kind, date, status and recorded position), so that an
 * entry's newest change is its row (see deriveEntriesFromChanges).
 */
export type ChangeRow = Row<typeof CHANGE_COLUMNS>;

export function changeRow(change: EntryChange, recordedPosition: Position, recordedAt: string, body: string): ChangeRow {
  const v = change.entry;
  return {
    position: change.position,
    timeline: v.timeline,
    type: change.type,
    entry_id: v.entryId,
    kind: v.kind,
    occurred_on: v.occurredOn,
    status: v.status,
    recorded_position: recordedPosition,
    recorded_at: recordedAt,
    entry: body,
  };
}

const insert = (table: string, columns: readonly string[]) =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`;

const upsert = (table: string, columns: readonly string[], key: string) =>
  `${insert(table, columns)} ON CONFLICT (${key}) DO UPDATE SET ${columns.filter((c) => c !== key).map((c) => `${c} = excluded.${c}`).join(', ')}`;

/** A stored entry as the fast path loads it: the row's JSON and its recorded position. */
export interface StoredEntry {
  entryId: string;
  recordedPosition: Position;
  body: string;
}

/** The projection's rows in one read model database: read, written, and checked against the schema. */
export class ProjectionRows {
  private readonly s;
  /** Per table, which of its columns (in the order above) are NOT NULL, read from the schema itself. */
  private readonly required: { timelines: boolean[]; entries: boolean[]; entry_actors: boolean[]; changes: boolean[] };

  constructor(private readonly db: Database.Database) {
    this.s = {
      timeline: db.prepare(`SELECT * FROM timelines WHERE slug = ?`),
      saveTimeline: db.prepare(upsert('timelines', TIMELINE_COLUMNS, 'slug')),
      entry: db.prepare(`SELECT recorded_position, body FROM entries WHERE entry_id = ?`),
      entries: db.prepare(
        `SELECT entry_id AS entryId, recorded_position AS recordedPosition, body FROM entries WHERE entry_id IN (SELECT value FROM json_each(?))`,
      ),
      saveEntry: db.prepare(upsert('entries', ENTRY_COLUMNS, 'entry_id')),
      clearActors: db.prepare(`DELETE FROM entry_actors WHERE entry_id = ?`),
      addActor: db.prepare(`INSERT OR IGNORE INTO entry_actors (${ACTOR_COLUMNS.join(', ')}) VALUES (?, ?)`),
      saveChange: db.prepare(insert('changes', CHANGE_COLUMNS)),
      saveCheckpoint: db.prepare(`INSERT INTO checkpoint (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position`),
    };
    this.required = {
      timelines: requiredColumns(db, 'timelines', TIMELINE_COLUMNS),
      entries: requiredColumns(db, 'entries', ENTRY_COLUMNS),
      entry_actors: requiredColumns(db, 'entry_actors', ACTOR_COLUMNS),
      changes: requiredColumns(db, 'changes', CHANGE_COLUMNS),
    };
  }

  timeline(slug: string): TimelineView | undefined {
    const row = this.s.timeline.get(slug) as TimelineRow | undefined;
    return row && toTimelineView(row);
  }

  saveTimeline(view: TimelineView): void {
    this.s.saveTimeline.run(timelineRow(view));
  }

  entry(entryId: string): EntryRecord | undefined {
    const row = this.s.entry.get(entryId) as { recorded_position: string; body: string } | undefined;
    return row && { view: JSON.parse(row.body) as EntryView, recordedPosition: row.recorded_position };
  }

  /** The stored rows of these entries that exist, in any order: one query for a whole batch. */
  entries(entryIds: string[]): StoredEntry[] {
    return this.s.entries.all(JSON.stringify(entryIds)) as StoredEntry[];
  }

  /** The entry's row and its actors. `fresh`: the row is known not to exist yet, so it has no actors to clear. */
  saveEntry(row: EntryRow, fresh = false): void {
    const entryId = row.columns.entry_id;
    this.s.saveEntry.run(row.columns);
    if (!fresh) this.s.clearActors.run(entryId);
    for (const actor of row.actors as Iterable<unknown>) this.s.addActor.run(entryId, actor);
  }

  saveChange(change: EntryChange, recordedPosition: Position, recordedAt: string, body: string): void {
    this.saveChangeRow(changeRow(change, recordedPosition, recordedAt, body));
  }

  saveChangeRow(row: ChangeRow): void {
    this.s.saveChange.run(row);
  }

  saveCheckpoint(position: Position): void {
    this.s.saveCheckpoint.run(position);
  }

  /**
   * Whether SQLite could refuse this timeline row, judged by the schema's NOT
   * NULL columns and what binds: for a fold that writes only a row's last
   * version, to hand over to the exact path any batch in which one-by-one
   * projection would have failed on an earlier one. Errs towards refusing.
   */
  couldRefuseTimeline(view: TimelineView): boolean {
    return !fits(timelineRow(view), TIMELINE_COLUMNS, this.required.timelines);
  }

  /** Like couldRefuseTimeline, for a change-log row. */
  couldRefuseChange(row: ChangeRow): boolean {
    return !fits(row, CHANGE_COLUMNS, this.required.changes);
  }

  /** Like couldRefuseTimeline, for an entry's row and its actors. */
  couldRefuseEntry(row: EntryRow): boolean {
    if (!Array.isArray(row.actors)) return true;
    for (const actor of row.actors as unknown[]) if (!fits({ entry_id: row.columns.entry_id, actor }, ACTOR_COLUMNS, this.required.entry_actors)) return true;
    return !fits(row.columns, ENTRY_COLUMNS, this.required.entries);
  }

  /**
   * Writes every entry's row from its newest change if a rebuild stopped
   * before writing the rows it held in memory (the entries_deferred marker is
   * set): the change log holds each entry's row as it stood after each change.
   */
  deriveDeferredEntries(): void {
    if (this.db.prepare(`SELECT id FROM entries_deferred`).get() === undefined) return;
    const columns = ENTRY_COLUMNS.join(', ');
    const fromChange = ENTRY_COLUMNS.map((c) => (c === 'body' ? 'entry' : c)).join(', ');
    const derive = `
      DELETE FROM entries;
      DELETE FROM entry_actors;
      INSERT INTO entries (${columns})
        SELECT ${fromChange} FROM changes
        WHERE position IN (SELECT MAX(position) FROM changes GROUP BY entry_id)
        ORDER BY entry_id;
      INSERT OR IGNORE INTO entry_actors (${ACTOR_COLUMNS.join(', ')})
        SELECT entries.entry_id, actor.value FROM entries, json_each(entries.body, '$.actors') AS actor;
      DELETE FROM entries_deferred;
    `;
    this.db.transaction(() => this.db.exec(derive))();
  }
}

export interface TimelineRow {
  slug: string;
  title: string;
  description: string;
  entry_count: number;
  retracted_count: number;
  opened_at: string;
  updated_at: string;
  position: string;
}

export function toTimelineView(row: TimelineRow): TimelineView {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    entryCount: row.entry_count,
    retractedCount: row.retracted_count,
    openedAt: row.opened_at,
    updatedAt: row.updated_at,
    position: row.position,
  };
}

function requiredColumns(db: Database.Database, table: string, columns: readonly string[]): boolean[] {
  const info = db.pragma(`table_info(${table})`) as Array<{ name: string; notnull: number; pk: number }>;
  return columns.map((name) => {
    const column = info.find((c) => c.name === name);
    if (!column) throw new Error(`the read model's ${table} table has no column ${name}`);
    return column.notnull === 1 || column.pk > 0;
  });
}

/**
 * Whether these values bind and satisfy NOT NULL. Only what surely fits
 * passes: strings, finite numbers, bigints, and null where allowed
 * (better-sqlite3 binds undefined as null, and would spread an array).
 */
function fits(row: Record<string, unknown>, columns: readonly string[], required: readonly boolean[]): boolean {
  for (let i = 0; i < columns.length; i++) {
    const value = row[columns[i]];
    if (value === null || value === undefined) {
      if (required[i]) return false;
      continue;
    }
    const type = typeof value;
    if (type === 'string' || type === 'bigint') continue;
    if (type === 'number' && Number.isFinite(value)) continue;
    return false;
  }
  return true;
}
