import type { EntryDetails } from '@timeline/domain';
import type { Entry, Timeline } from '@timeline/contracts';

/*
 * The rows the read model keeps are the API's answers as they go on the wire,
 * so their types are the wire's: @timeline/contracts, generated from the
 * answers' schemas (openapi/response-schemas.ts), which the client uses too.
 */

/** An entry as the API serves it: common and kind fields flat, narrowed on `kind`, plus its history in brief. */
export type EntryView = Entry;

/** A timeline as the API serves it. */
export type TimelineView = Timeline;

/** An entry's details: its view without what the read model added. */
export function detailsOf(view: EntryView): EntryDetails {
  const { entryId, timeline, revision, status, recordedAt, recordedBy, updatedAt, position, corrections, retraction, ...details } = view;
  return details;
}
