import type { RecordedEvent } from '@timeline/event-store';
import type { EntryView, TimelineView } from './entry-view';
import { projectEvent, type EntryChange, type ProjectionTarget } from './timeline.projection';

/**
 * An entry as its `entries` row stands. `timeline`, `kind` and
 * `recordedPosition` are the columns an upsert never changes once the row
 * exists (see SqliteReadModel saveEntry), so they are fixed at first insert.
 */
export interface EntryRow {
  readonly entryId: string;
  /**
   * The entry as an object while a batch works on it; between batches only
   * its JSON (`body`) is held, and the view is parsed again if a later event
   * touches the entry (see BatchFold.flushed).
   */
  view: EntryView | null;
  /** JSON of the view, serialized once: the row's body and the change log's copy. */
  body: string;
  /** The columns of `entries` and `entry_actors` that follow the view, kept so that writing the row needs no parse. */
  occurredOn: string;
  status: string;
  actors: readonly string[];
  timeline: string;
  kind: string;
  recordedPosition: string;
  /** The row exists in the database (loaded from it, or written by an earlier flush). */
  stored: boolean;
}

/** A change to write, with the columns the change log copies from the entry row. */
export interface FoldedChange {
  change: EntryChange;
  row: EntryRow;
  body: string;
  recordedAt: string;
}

/** What the fold reads from the database when a row is not in memory. */
export interface RowSource {
  /** The rows of these entries that exist, in any order. */
  entries(entryIds: string[]): EntryRow[];
  /**
   * True while every entry that exists is held in memory (a deferred load,
   * see BulkLoad): then there is nothing to look up, and nothing is let go.
   */
  holdsEveryEntry(): boolean;
  timeline(slug: string): TimelineView | undefined;
}

/** How many entry rows a fold keeps between batches, unless it holds every entry. */
const CACHED_ENTRIES = 20_000;

/**
 * Thrown when an event, or a row it would write, might not be applied the way
 * one-by-one projection applies it (a poison event, a value SQLite could
 * refuse). The batch is then projected the slow, exact way instead.
 */
export class NeedsExactPath extends Error {}

/**
 * Folds a batch of events in memory with the projection's own projectEvent,
 * so that each row is written once per batch rather than once per event: the
 * rebuild's fast path (see BulkLoad). Rows touched are kept until flushed;
 * rows flushed stay cached (up to CACHED_ENTRIES, or all of them while the
 * source says it holds every entry) for the next batches.
 *
 * It must end exactly where one-by-one projection ends, so it mimics what the
 * SQL upserts keep (an entry's first timeline, kind and recording position; a
 * timeline's first opened_at) and refuses (NeedsExactPath) anything whose
 * outcome could depend on SQLite: every version of a row must hold values the
 * tables accept, since one-by-one projection writes every version.
 */
export class BatchFold implements ProjectionTarget {
  private readonly entryRows = new Map<string, EntryRow>();
  /** What the current batch changed in entryRows, to undo it if the batch fails: the row as it was before, or null for a row it created. */
  private readonly undo = new Map<string, RowVersion | null>();
  private readonly timelineRows = new Map<string, TimelineView>();
  readonly dirtyEntries = new Set<EntryRow>();
  private readonly dirtyTimelines = new Set<string>();
  readonly changes: FoldedChange[] = [];
  private current: RecordedEvent | null = null;

  constructor(private readonly source: RowSource) {}

  /** How many entry rows it holds. */
  get size(): number {
    return this.entryRows.size;
  }

  /** Folds the events in order; throws NeedsExactPath (or the projection's error) with the fold left dirty: call discard. */
  fold(events: RecordedEvent[]): void {
    this.preload(events);
    for (const event of events) {
      this.current = event;
      const change = projectEvent(this, event);
      if (change) {
        if (typeof event.recordedAt !== 'string') throw new NeedsExactPath('change without a recording time');
        const row = this.entryRows.get(change.entry.entryId)!;
        this.changes.push({ change, row, body: row.body, recordedAt: event.recordedAt });
      }
    }
    this.current = null;
  }

  /**
   * After a successful write: keep the rows for the next batches. `stored`
   * says whether the write included the entry rows (a deferred load writes
   * them only at the end, see BulkLoad).
   *
   * The rows keep their JSON, not their views. A view is a graph of a dozen
   * objects, a string is one, and every young-generation GC copies the new
   * ones it finds alive: at pages of 1,000, a 1,000,000-event rebuild spent
   * ~4 s in those GCs instead of ~6, ~10% less in all, and held half the
   * memory. Parsing again the views a later event touches costs less.
   */
  flushed(stored = true): void {
    for (const row of this.dirtyEntries) {
      if (stored) row.stored = true;
      row.view = null;
    }
    this.dirtyEntries.clear();
    this.dirtyTimelines.clear();
    this.changes.length = 0;
    this.undo.clear();
    if (!this.source.holdsEveryEntry() && this.entryRows.size > CACHED_ENTRIES) this.entryRows.clear();
  }

  /**
   * After a failed fold or write: puts every row back as it was before the
   * batch, which is what the database (whose transaction rolled back) holds.
   * Timelines are read again from the database.
   */
  discard(): void {
    for (const [entryId, before] of this.undo) {
      if (before === null) {
        this.entryRows.delete(entryId);
        continue;
      }
      Object.assign(this.entryRows.get(entryId)!, before);
    }
    this.undo.clear();
    this.timelineRows.clear();
    this.dirtyEntries.clear();
    this.dirtyTimelines.clear();
    this.changes.length = 0;
    this.current = null;
  }

  /** Forgets every row: after the database was written some other way, it is the truth again. */
  forget(): void {
    this.discard();
    this.entryRows.clear();
  }

  /** Every row held, in no particular order. */
  rows(): IterableIterator<EntryRow> {
    return this.entryRows.values();
  }

  timeline(slug: string): TimelineView | undefined {
    if (typeof slug !== 'string') throw new NeedsExactPath('timeline slug is not a string');
    let view = this.timelineRows.get(slug);
    if (view === undefined) {
      view = this.source.timeline(slug);
      if (view) this.timelineRows.set(slug, view);
    }
    return view;
  }

  saveTimeline(view: TimelineView): void {
    if (!isTimelineRow(view)) throw new NeedsExactPath('timeline row SQLite could refuse');
    // The upsert keeps the first opened_at, and the next read returns the row.
    const before = this.timeline(view.slug);
    this.timelineRows.set(view.slug, before && before.openedAt !== view.openedAt ? { ...view, openedAt: before.openedAt } : view);
    this.dirtyTimelines.add(view.slug);
  }

  /** The timelines changed since the last flush, as they now stand. */
  changedTimelines(): TimelineView[] {
    return [...this.dirtyTimelines].map((slug) => this.timelineRows.get(slug)!);
  }

  entry(entryId: string): EntryView | undefined {
    if (typeof entryId !== 'string') throw new NeedsExactPath('entry id is not a string');
    // preload fetched every stored entry of the batch: a miss means there is none.
    const row = this.entryRows.get(entryId);
    if (row === undefined) return undefined;
    // The exact path reads the view from the same JSON, so both paths fold the same thing.
    return (row.view ??= JSON.parse(row.body) as EntryView);
  }

  saveEntry(view: EntryView): void {
    if (!isEntryRow(view)) throw new NeedsExactPath(`entry row SQLite could refuse (event at ${this.current?.position})`);
    const body = JSON.stringify(view);
    const row = this.entryRows.get(view.entryId);
    if (!this.undo.has(view.entryId)) this.undo.set(view.entryId, row ? versionOf(row) : null);
    if (row) {
      Object.assign(row, rowVersion(view, body));
      this.dirtyEntries.add(row);
      return;
    }
    const fresh = newEntryRow(view, body, { timeline: view.timeline, kind: view.kind, recordedPosition: view.position, stored: false });
    this.entryRows.set(view.entryId, fresh);
    this.dirtyEntries.add(fresh);
  }

  /** Loads, in one query, the stored rows of every entry the batch mentions that is not cached. */
  private preload(events: RecordedEvent[]): void {
    // Not just a query saved: a lookup per event in a map of every entry was ~1 µs.
    if (this.source.holdsEveryEntry()) return;
    const missing = new Set<string>();
    for (const event of events) {
      const entryId = (event.data as { entryId?: unknown } | null)?.entryId;
      if (typeof entryId === 'string' && !this.entryRows.has(entryId)) missing.add(entryId);
    }
    if (missing.size === 0) return;
    for (const row of this.source.entries([...missing])) this.entryRows.set(row.entryId, row);
  }
}

/** What saveEntry changes in a row, and discard puts back. */
type RowVersion = Pick<EntryRow, 'view' | 'body' | 'occurredOn' | 'status' | 'actors'>;

/** A row's fields that follow its view: the view, its JSON and the columns taken from it. */
function rowVersion(view: EntryView, body: string): RowVersion {
  return { view, body, occurredOn: view.occurredOn, status: view.status, actors: view.actors };
}

function versionOf(row: EntryRow): RowVersion {
  return { view: row.view, body: row.body, occurredOn: row.occurredOn, status: row.status, actors: row.actors };
}

/** A row for `view`; `fixed` holds the columns an upsert never changes (see EntryRow). */
export function newEntryRow(view: EntryView, body: string, fixed: Pick<EntryRow, 'timeline' | 'kind' | 'recordedPosition' | 'stored'>): EntryRow {
  const { timeline, kind, recordedPosition, stored } = fixed;
  return { entryId: view.entryId, view, body, occurredOn: view.occurredOn, status: view.status, actors: view.actors, timeline, kind, recordedPosition, stored };
}

/** Values that bind and satisfy NOT NULL in `timelines`, as one-by-one projection would write them. */
function isTimelineRow(view: TimelineView): boolean {
  return (
    typeof view.slug === 'string' &&
    typeof view.title === 'string' &&
    typeof view.description === 'string' &&
    typeof view.entryCount === 'number' &&
    typeof view.retractedCount === 'number' &&
    typeof view.openedAt === 'string' &&
    typeof view.updatedAt === 'string' &&
    typeof view.position === 'string'
  );
}

/** Values that bind and satisfy NOT NULL in `entries`, `entry_actors` and `changes`. */
function isEntryRow(view: EntryView): boolean {
  if (
    typeof view.entryId !== 'string' ||
    typeof view.timeline !== 'string' ||
    typeof view.kind !== 'string' ||
    typeof view.occurredOn !== 'string' ||
    typeof view.status !== 'string' ||
    typeof view.position !== 'string' ||
    !Array.isArray(view.actors)
  ) {
    return false;
  }
  for (const actor of view.actors) if (typeof actor !== 'string') return false;
  return true;
}
