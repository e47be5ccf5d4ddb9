import {
  applyChanges,
  ENTRY_EVENT_TYPES,
  KIND_OF_RECORDED_EVENT,
  type EntryEvent,
  type EntryRecorded,
  type TimelineEvent,
} from '@timeline/domain';
import type { RecordedEvent } from '@timeline/event-store';
import { detailsOf, type EntryView, type TimelineView } from './entry-view';

/** A change to one entry, as the live feed announces it. */
export interface EntryChange {
  position: string;
  timeline: string;
  type: 'entry.recorded' | 'entry.corrected' | 'entry.retracted';
  entry: EntryView;
}

/** The rows the projection reads and writes; SqliteReadModel implements it inside one transaction. */
export interface ProjectionTarget {
  timeline(slug: string): TimelineView | undefined;
  saveTimeline(view: TimelineView): void;
  entry(entryId: string): EntryView | undefined;
  /** Inserts or updates; an entry keeps the position it was first recorded at, which orders entries of one date. */
  saveEntry(view: EntryView): void;
}

type KnownEvent = TimelineEvent | EntryEvent;

/*
 * Why Object.assign and not `{ ...a, b, c }`: on Node 20's V8 (11.3) a spread
 * followed by more properties gives every new object a hidden class of its
 * own, ~2 µs per extra property; Object.assign({}, a, { b, c }) reuses them.
 * Here that was 20 µs of every recorded entry (bench/README.md, rebuild).
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
      target.saveTimeline(
        Object.assign({}, event.data, { entryCount: 0, retractedCount: 0, openedAt: at, updatedAt: at, position: recorded.position }),
      );
      return null;
    case 'AnnouncementRecorded':
    case 'SigningRecorded':
    case 'DeliveryRecorded': {
      const entry = recordedView(event, recorded);
      target.saveEntry(entry);
      touchTimeline(target, entry.timeline, recorded, +1, 0);
      return { position: recorded.position, timeline: entry.timeline, type: 'entry.recorded', entry };
    }
    case 'EntryCorrected': {
      const before = requireEntry(target, event.data.entryId, recorded);
      const correction = { revision: recorded.revision, reason: event.data.reason, fields: Object.keys(event.data.changes), correctedAt: at, correctedBy: by };
      const entry: EntryView = Object.assign(applyChanges(detailsOf(before), event.data.changes), metaAfter(before, recorded), {
        corrections: [...before.corrections, correction],
      });
      target.saveEntry(entry);
      touchTimeline(target, entry.timeline, recorded, 0, 0);
      return { position: recorded.position, timeline: entry.timeline, type: 'entry.corrected', entry };
    }
    case 'EntryRetracted': {
      const before = requireEntry(target, event.data.entryId, recorded);
      const entry: EntryView = Object.assign({}, before, metaAfter(before, recorded), {
        status: 'retracted' as const,
        retraction: { reason: event.data.reason, retractedAt: at, retractedBy: by },
      });
      target.saveEntry(entry);
      touchTimeline(target, entry.timeline, recorded, -1, +1);
      return { position: recorded.position, timeline: entry.timeline, type: 'entry.retracted', entry };
    }
    default:
      return unreachable(event);
  }
}

function recordedView(event: EntryRecorded, recorded: RecordedEvent): EntryView {
  const { entryId, timeline, ...fields } = event.data;
  return Object.assign(fields, {
    kind: KIND_OF_RECORDED_EVENT[event.type],
    entryId,
    timeline,
    revision: recorded.revision,
    status: 'active' as const,
    recordedAt: recorded.recordedAt,
    recordedBy: recorded.metadata.recordedBy,
    updatedAt: recorded.recordedAt,
    position: recorded.position,
    corrections: [],
  }) as EntryView;
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

function requireEntry(target: ProjectionTarget, entryId: string, recorded: RecordedEvent): EntryView {
  const entry = target.entry(entryId);
  if (!entry) throw new Error(`event at ${recorded.position} changes unknown entry ${entryId}`);
  return entry;
}

function unreachable(value: never): never {
  throw new Error(`unhandled event: ${JSON.stringify(value)}`);
}
