import type { TimelineJsDocument } from '@timeline/contracts';
import { precisionOf } from '@timeline/domain';
import type { EntryView, TimelineView } from '../read-model/entry-view';
import { escapeHtml as escape } from './html';

/*
 * Knight Lab TimelineJS 3 JSON: https://timeline.knightlab.com/docs/json-format.html
 * The document's type is the API's answer (@timeline/contracts), as its schema in
 * openapi/response-schemas.ts states it.
 */
export type { TimelineJsDocument };
export type TimelineJsEvent = TimelineJsDocument['events'][number];

/** The unique_id of the stand-in event of a timeline without entries (never an entryId: those are UUIDs). */
export const OPENING_EVENT_ID = 'opened';

/**
 * A timeline as TimelineJS embeds it: one event per entry, dated at the
 * entry's own precision (a month-only date stays a month), grouped by kind.
 * TimelineJS renders `text` as HTML, so every value is escaped.
 *
 * A timeline without entries gets one event, its opening: TimelineJS refuses a
 * document whose `events` is empty ("Timeline configuration has no events",
 * TimelineConfig.validate() in @knight-lab/timelinejs 3.9), even with a title
 * slide, and that is just when a newsroom first embeds it. The event goes with
 * the first entry, so it never stretches a real timeline's date axis.
 */
export function toTimelineJs(timeline: TimelineView, entries: readonly EntryView[]): TimelineJsDocument {
  return {
    title: { text: { headline: escape(timeline.title), text: escape(timeline.description) } },
    events: entries.length === 0 ? [openingEvent(timeline)] : entries.map(entryEvent),
  };
}

function entryEvent(entry: EntryView): TimelineJsEvent {
  return {
    start_date: startDate(entry.occurredOn),
    text: { headline: escape(entry.title), text: body(entry) },
    group: entry.kind,
    unique_id: entry.entryId,
  };
}

function openingEvent(timeline: TimelineView): TimelineJsEvent {
  // openedAt is an ISO instant: its UTC day.
  return {
    start_date: startDate(timeline.openedAt.slice(0, 10)),
    text: { headline: 'Timeline opened', text: '<p>Nothing recorded yet.</p>' },
    unique_id: OPENING_EVENT_ID,
  };
}

function startDate(occurredOn: string): TimelineJsEvent['start_date'] {
  const [year, month, day] = occurredOn.split('-').map(Number);
  const precision = precisionOf(occurredOn);
  if (precision === 'year') return { year };
  if (precision === 'month') return { year, month };
  return { year, month, day };
}

function body(entry: EntryView): string {
  const parts: string[] = [];
  if (entry.summary) parts.push(`<p>${escape(entry.summary)}</p>`);
  if (entry.sources.length > 0) parts.push(`<p>Sources: ${entry.sources.map((s) => escape(s.title)).join('; ')}</p>`);
  return parts.join('');
}
