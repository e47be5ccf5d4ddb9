import type { Position, RecordedEvent } from '@timeline/event-store';
import type { EntryView, TimelineView } from './entry-view';
import { entryRow, type EntryRow, type StoredEntry } from './projection-rows';
import { projectEvent, type EntryChange, type EntryRecord, type ProjectionTarget } from './timeline.projection';

/** An entry the fold holds: as its row stands after the events folded so far. */
export interface HeldEntry {
  readonly entryId: string;
  /**
   * The entry as an object while a batch works on it; between batches only
   * its JSON (`body`) is held, and the view is parsed again if a later event
   * touches the entry (see BatchFold.flushed).
   */
  view: EntryView | null;
  /** JSON of the view, serialized once: the row's body and the change log's copy. */
  body: string;
  recordedPosition: Position;
  /** The row to write, as the projection last saved it; null for one loaded from the database and not changed since. */
  row: EntryRow | null;
  /** The row exists in the database (loaded from it, or written by an earlier flush). */
  stored: boolean;
}

/** A change to write, with what the change log copies from the entry's row. */
export interface FoldedChange {
  change: EntryChange;
  recordedPosition: Position;
  body: string;
  recordedAt: string;
}

/** What the fold reads from the database when a row is not in memory, and what it asks of the schema. */
export interface RowSource {
  /** The rows of these entries that exist, in any order. */
  entries(entryIds: string[]): StoredEntry[];
  /**
   * True while every entry that exists is held in memory (a deferred load,
   * see BulkLoad): then there is nothing to look up, and nothing is let go.
   */
  holdsEveryEntry(): boolean;
  timeline(slug: string): TimelineView | undefined;
  /** Whether SQLite could refuse the row (ProjectionRows): a version the fold would not write must still be one it could. */
  couldRefuseTimeline(view: TimelineView): boolean;
  couldRefuseEntry(row: EntryRow): boolean;
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
 * It holds each row exactly as the projection saved it: what a row keeps
 * from before, the projection decided. What it must add is a check: one-by-one
 * projection writes every version of a row, the fold only the last of a batch
 * (or, deferred, of the whole rebuild), so a version SQLite could refuse sends
 * the batch to the exact path (NeedsExactPath) to fail there the same way.
 */
export class BatchFold implements ProjectionTarget {
  private readonly held = new Map<string, HeldEntry>();
  /** What the current batch changed in `held`, to undo it if the batch fails: the entry as it was before, or null for one it created. */
  private readonly undo = new Map<string, HeldVersion | null>();
  private readonly timelineRows = new Map<string, TimelineView>();
  readonly dirtyEntries = new Set<HeldEntry>();
  private readonly dirtyTimelines = new Set<string>();
  readonly changes: FoldedChange[] = [];
  private current: RecordedEvent | null = null;

  constructor(private readonly source: RowSource) {}

  /** How many entries it holds. */
  get size(): number {
    return this.held.size;
  }

  /** Folds the events in order; throws NeedsExactPath (or the projection's error) with the fold left dirty: call discard. */
  fold(events: RecordedEvent[]): void {
    this.preload(events);
    for (const event of events) {
      this.current = event;
      const change = projectEvent(this, event);
      if (change) {
        if (typeof event.recordedAt !== 'string') throw new NeedsExactPath('change without a recording time');
        const held = this.held.get(change.entry.entryId)!;
        this.changes.push({ change, recordedPosition: held.recordedPosition, body: held.body, recordedAt: event.recordedAt });
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
    for (const held of this.dirtyEntries) {
      if (stored) held.stored = true;
      held.view = null;
    }
    this.dirtyEntries.clear();
    this.dirtyTimelines.clear();
    this.changes.length = 0;
    this.undo.clear();
    if (!this.source.holdsEveryEntry() && this.held.size > CACHED_ENTRIES) this.held.clear();
  }

  /**
   * After a failed fold or write: puts every row back as it was before the
   * batch, which is what the database (whose transaction rolled back) holds.
   * Timelines are read again from the database.
   */
  discard(): void {
    for (const [entryId, before] of this.undo) {
      if (before === null) {
        this.held.delete(entryId);
        continue;
      }
      Object.assign(this.held.get(entryId)!, before);
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
    this.held.clear();
  }

  /** Every entry held, in no particular order. */
  entries(): IterableIterator<HeldEntry> {
    return this.held.values();
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
    if (this.source.couldRefuseTimeline(view)) throw new NeedsExactPath(`timeline row SQLite could refuse (event at ${this.current?.position})`);
    this.timelineRows.set(view.slug, view);
    this.dirtyTimelines.add(view.slug);
  }

  /** The timelines changed since the last flush, as they now stand. */
  changedTimelines(): TimelineView[] {
    return [...this.dirtyTimelines].map((slug) => this.timelineRows.get(slug)!);
  }

  entry(entryId: string): EntryRecord | undefined {
    if (typeof entryId !== 'string') throw new NeedsExactPath('entry id is not a string');
    // preload fetched every stored entry of the batch: a miss means there is none.
    const held = this.held.get(entryId);
    if (held === undefined) return undefined;
    // The exact path reads the view from the same JSON, so both paths fold the same thing.
    return { view: (held.view ??= JSON.parse(held.body) as EntryView), recordedPosition: held.recordedPosition };
  }

  saveEntry(entry: EntryRecord): void {
    const body = JSON.stringify(entry.view);
    const row = entryRow(entry, body);
    if (this.source.couldRefuseEntry(row)) throw new NeedsExactPath(`entry row SQLite could refuse (event at ${this.current?.position})`);
    const entryId = entry.view.entryId;
    const held = this.held.get(entryId);
    if (!this.undo.has(entryId)) this.undo.set(entryId, held ? versionOf(held) : null);
    const version: HeldVersion = { view: entry.view, body, recordedPosition: entry.recordedPosition, row };
    if (held) {
      Object.assign(held, version);
      this.dirtyEntries.add(held);
      return;
    }
    const fresh: HeldEntry = { entryId, view: version.view, body, recordedPosition: version.recordedPosition, row, stored: false };
    this.held.set(entryId, fresh);
    this.dirtyEntries.add(fresh);
  }

  /** Loads, in one query, the stored rows of every entry the batch mentions that is not cached. */
  private preload(events: RecordedEvent[]): void {
    // Not just a query saved: a lookup per event in a map of every entry was ~1 µs.
    if (this.source.holdsEveryEntry()) return;
    const missing = new Set<string>();
    for (const event of events) {
      const entryId = (event.data as { entryId?: unknown } | null)?.entryId;
      if (typeof entryId === 'string' && !this.held.has(entryId)) missing.add(entryId);
    }
    if (missing.size === 0) return;
    for (const stored of this.source.entries([...missing])) {
      this.held.set(stored.entryId, { entryId: stored.entryId, view: null, body: stored.body, recordedPosition: stored.recordedPosition, row: null, stored: true });
    }
  }
}

/** What saveEntry changes in a held entry, and discard puts back. */
type HeldVersion = Pick<HeldEntry, 'view' | 'body' | 'recordedPosition' | 'row'>;

function versionOf(held: HeldEntry): HeldVersion {
  return { view: held.view, body: held.body, recordedPosition: held.recordedPosition, row: held.row };
}
