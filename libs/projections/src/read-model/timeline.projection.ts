import {
  applyChanges,
  ENTRY_EVENT_TYPES,
  KIND_OF_RECORDED_EVENT,
  type EntryEvent,
  type EntryRecorded,
  type TimelineEvent,
  type TimelineOpened,
  unreachable,
} from '@timeline/domain';
import type { Position, RecordedEvent } from '@timeline/event-store';
import type { LiveUpdate } from '@timeline/contracts';
import { detailsOf, type EntryView, type TimelineView } from './entry-view';

/** A change to one entry, as the live feed announces it: its `update` message (docs/asyncapi.yaml). */
export type EntryChange = LiveUpdate;

/**
 * An entry as its row stands: what the API serves, and the position of the
 * event that first recorded it, the tie-break among entries of one date.
 */
export interface EntryRecord {
  view: EntryView;
  recordedPosition: Position;
}

/**
 * The rows the projection reads and writes. Each save is the whole row as it
 * must now stand: what a row keeps from before is decided here, by the
 * projection, never by the store (see recordedView, openedView).
 */
export interface ProjectionTarget {
  timeline(slug: string): TimelineView | undefined;
  saveTimeline(view: TimelineView): void;
  entry(entryId: string): EntryRecord | undefined;
  saveEntry(entry: EntryRecord): void;
}

type KnownEvent = TimelineEvent | EntryEvent;

/*
 * Why Object.assign and not `{ ...a, b, c }` in the rows built here: on Node
 * 20's V8 (11.3) a spread followed by more properties gives every new object a
 * hidden class of its own, ~2 µs per extra property; Object.assign({}, a,
 * { b, c }) reuses them. Here that was 20 µs of every recorded entry in a
 * rebuild (bench/README.md). It is the projection's row building, the hot
 * path, that needs it; the domain's decide and evolve need not.
 */

/**
 * Applies one event to the read model. Returns the entry change it caused, if
 * any. Events of types this projection does not know (other applications'
 * events in a shared KurrentDB, future event types) change nothing.
 */
export function projectEvent(target: ProjectionTarget, recorded: RecordedEvent): EntryChange | null {
  if (recorded.type !== 'TimelineOpened' && !ENTRY_EVENT_TYPES.has(recorded.type)) return null;
  const event = { type: recorded.type, data: recorded.data } as KnownEvent;
  const by = recorded.metadata.recordedBy;
  const at = recorded.recordedAt;

  switch (event.type) {
    case 'TimelineOpened':
      target.saveTimeline(openedView(event, recorded, target.timeline(event.data.slug)));
      return null;
    case 'AnnouncementRecorded':
    case 'SigningRecorded':
    case 'DeliveryRecorded': {
      const saved = recordedView(event, recorded, target.entry(event.data.entryId));
      target.saveEntry(saved);
      const entry = saved.view;
      touchTimeline(target, entry.timeline, recorded, +1, 0);
      return { position: recorded.position, timeline: entry.timeline, type: 'entry.recorded', entry };
    }
    case 'EntryCorrected': {
      const before = requireEntry(target, event.data.entryId, recorded);
      const correction = { revision: recorded.revision, reason: event.data.reason, fields: Object.keys(event.data.changes), correctedAt: at, correctedBy: by };
      const entry: EntryView = Object.assign(applyChanges(detailsOf(before.view), event.data.changes), metaAfter(before.view, recorded), {
        corrections: [...before.view.corrections, correction],
      });
      target.saveEntry({ view: entry, recordedPosition: before.recordedPosition });
      touchTimeline(target, entry.timeline, recorded, 0, 0);
      return { position: recorded.position, timeline: entry.timeline, type: 'entry.corrected', entry };
    }
    case 'EntryRetracted': {
      const before = requireEntry(target, event.data.entryId, recorded);
      const entry: EntryView = Object.assign({}, before.view, metaAfter(before.view, recorded), {
        status: 'retracted' as const,
        retraction: { reason: event.data.reason, retractedAt: at, retractedBy: by },
      });
      target.saveEntry({ view: entry, recordedPosition: before.recordedPosition });
      touchTimeline(target, entry.timeline, recorded, -1, +1);
      return { position: recorded.position, timeline: entry.timeline, type: 'entry.retracted', entry };
    }
    default:
      return unreachable(event);
  }
}

/**
 * A timeline as (re)opened. It keeps the opened_at of its first opening: a
 * log that opens it again (another application's, or a damaged one) renames
 * it and restarts its counts, but cannot move when it began.
 */
function openedView(event: TimelineOpened, recorded: RecordedEvent, before: TimelineView | undefined): TimelineView {
  const at = recorded.recordedAt;
  return Object.assign({}, event.data, {
    entryCount: 0,
    retractedCount: 0,
    openedAt: before ? before.openedAt : at,
    updatedAt: at,
    position: recorded.position,
  });
}

/**
 * An entry as recorded. Recorded again (the same entry id in a damaged log),
 * it keeps its first timeline, kind and recorded position: where it is listed,
 * under which kind and in which order does not move with a repeated recording.
 */
function recordedView(event: EntryRecorded, recorded: RecordedEvent, before: EntryRecord | undefined): EntryRecord {
  const { entryId, timeline, ...fields } = event.data;
  const view = Object.assign(fields, {
    kind: before ? before.view.kind : KIND_OF_RECORDED_EVENT[event.type],
    entryId,
    timeline: before ? before.view.timeline : timeline,
    revision: recorded.revision,
    status: 'active' as const,
    recordedAt: recorded.recordedAt,
    recordedBy: recorded.metadata.recordedBy,
    updatedAt: recorded.recordedAt,
    position: recorded.position,
    corrections: [],
  }) as EntryView;
  return { view, recordedPosition: before ? before.recordedPosition : recorded.position };
}

function metaAfter(before: EntryView, recorded: RecordedEvent) {
  return {
    entryId: before.entryId,
    timeline: before.timeline,
    kind: before.kind,
    revision: recorded.revision,
    status: before.status,
    recordedAt: before.recordedAt,
    recordedBy: before.recordedBy,
    updatedAt: recorded.recordedAt,
    position: recorded.position,
    corrections: before.corrections,
  };
}

function touchTimeline(target: ProjectionTarget, slug: string, recorded: RecordedEvent, active: number, retracted: number) {
  const timeline = target.timeline(slug);
  // The command side refuses entries for unknown timelines, so this only trips on a damaged log.
  if (!timeline) throw new Error(`event at ${recorded.position} refers to unknown timeline '${slug}'`);
  target.saveTimeline(
    Object.assign({}, timeline, {
      entryCount: timeline.entryCount + active,
      retractedCount: timeline.retractedCount + retracted,
      updatedAt: recorded.recordedAt,
      position: recorded.position,
    }),
  );
}

function requireEntry(target: ProjectionTarget, entryId: string, recorded: RecordedEvent): EntryRecord {
  const entry = target.entry(entryId);
  if (!entry) throw new Error(`event at ${recorded.position} changes unknown entry ${entryId}`);
  return entry;
}
