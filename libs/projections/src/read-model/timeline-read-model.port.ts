import type { Position, RecordedEvent } from '@timeline/event-store';
import type { DeadLetter } from './dead-letters';
import type { EntryListQuery, EntryPage, SearchQuery } from './entry-queries';
import type { EntryView, TimelineView } from './entry-view';
import type { EntryChange } from './timeline.projection';

/** What applying a batch did. */
export interface ProjectionResult {
  /** The entry changes it made, in log order. */
  changes: EntryChange[];
  /** The events of the batch it could not apply and set aside, in log order. */
  deadLetters: DeadLetter[];
}

/** A rebuild in progress: see TimelineReadModel.startRebuild. */
export interface ReadModelRebuild {
  /** Like TimelineReadModel.project, for the next events of the log, in order. */
  project(events: RecordedEvent[]): ProjectionResult;
  /** Builds the query indexes; call it once the log is replayed, or when giving up. */
  finish(): void;
}

/**
 * The timeline read model: the projection of the log that the projector
 * writes and the HTTP services and the live gateway read. SqliteReadModel is
 * its adapter; read-model.contract.ts is its executable specification.
 *
 * The promises every adapter keeps:
 * - a batch is applied whole, with its checkpoint, or not at all; events at
 *   or before the checkpoint are ignored, so re-delivery is harmless;
 * - an event the projection cannot apply because of what it says (a poison
 *   event) is set aside as a dead letter, in the batch that moves the
 *   checkpoint past it; a failure of the storage itself throws, having
 *   changed nothing;
 * - a rebuild ends exactly where projecting the same log batch by batch
 *   ends, which `digest` proves.
 */
export interface TimelineReadModel {
  /** The position of the last event applied, or null before the first. */
  checkpoint(): Position | null;
  /** Applies a batch; returns the entry changes it made in log order, and the events it set aside. */
  project(events: RecordedEvent[]): ProjectionResult;
  /** Like project, the changes alone. */
  apply(events: RecordedEvent[]): EntryChange[];
  /** Empties the read model and returns what replays the log into it, from the start. */
  startRebuild(options?: { maxDeferredEntries?: number }): ReadModelRebuild;
  /** Empties every table, checkpoint and dead letters included. */
  reset(): void;

  /** How many events were set aside as dead letters; cheap enough for every health check. */
  deadLetterCount(): number;
  /** Dead letters in log order, strictly after `after`. */
  deadLetters(options?: { after?: Position; limit?: number }): DeadLetter[];

  timeline(slug: string): TimelineView | undefined;
  timelines(): TimelineView[];
  entry(entryId: string): EntryView | undefined;
  /** A timeline's entries; with `q`, those matching it, ranked by relevance (see SearchQuery). */
  entries(query: EntryListQuery): EntryPage;
  /**
   * Entries of every timeline matching `q` (title, summary, actors, sources'
   * titles, each kind's own text), best first, ties in recording order; a
   * correction is searched as corrected, a retracted entry only with
   * includeRetracted. An unreadable `q` throws InvalidSearchQueryError.
   */
  search(query: SearchQuery): EntryPage;
  /** The timeline's entries exactly as they stood once the log reached `position`. */
  entriesAsOf(query: EntryListQuery, position: Position): EntryPage;
  /** The timeline's last `limit` entries by recording order, newest first, retracted ones included: what a feed shows. */
  latestEntries(timeline: string, limit: number): EntryView[];
  /** The position of the timeline's last change recorded at or before `instant` (ISO-8601), or null. */
  positionAt(timeline: string, instant: string): Position | null;
  /** The position of the timeline's first change after `after`, or null. */
  nextChangePosition(timeline: string, after: Position | null): Position | null;
  /** Changes to one timeline strictly after `after`, in log order: what a resuming live client missed. */
  changesSince(timeline: string, after: Position | null, limit: number): EntryChange[];

  /** A hash of everything the read model holds: equal digests mean equal read models. */
  digest(): string;
  close(): void;
}

/** The token a dependency-injection container provides the read model under (the service's StoreModule chooses the adapter). */
export const TIMELINE_READ_MODEL = Symbol('TimelineReadModel');
