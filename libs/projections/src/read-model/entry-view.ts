import type { EntryDetails, EntryKind } from '@timeline/domain';
import type { Position } from '@timeline/event-store';

export interface CorrectionNote {
  revision: number;
  reason: string;
  fields: string[];
  correctedAt: string;
  correctedBy: string;
}

export interface RetractionNote {
  reason: string;
  retractedAt: string;
  retractedBy: string;
}

/** What the read model adds to an entry's details. */
export interface EntryMeta {
  entryId: string;
  timeline: string;
  kind: EntryKind;
  revision: number;
  status: 'active' | 'retracted';
  recordedAt: string;
  recordedBy: string;
  updatedAt: string;
  /** Position of the last event applied to this entry. */
  position: Position;
  corrections: CorrectionNote[];
  retraction?: RetractionNote;
}

/** An entry as the API serves it: common and kind fields flat, plus its history in brief. */
export type EntryView = EntryDetails & EntryMeta;

/** An entry's details: its view without what the read model added. */
export function detailsOf(view: EntryView): EntryDetails {
  const { entryId, timeline, revision, status, recordedAt, recordedBy, updatedAt, position, corrections, retraction, ...details } = view;
  return details;
}

export interface TimelineView {
  slug: string;
  title: string;
  description: string;
  /** Entries that are not retracted. */
  entryCount: number;
  retractedCount: number;
  openedAt: string;
  updatedAt: string;
  /** Position of the last event that changed this timeline or one of its entries. */
  position: Position;
}
