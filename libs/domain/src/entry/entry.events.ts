import type {
  AnnouncementDetails,
  DeliveryDetails,
  EntryChanges,
  EntryKind,
  SigningDetails,
} from './entry.types';

type Recorded<D> = Omit<D, 'kind'> & { entryId: string; timeline: string };

export interface AnnouncementRecorded {
  type: 'AnnouncementRecorded';
  data: Recorded<AnnouncementDetails>;
}
export interface SigningRecorded {
  type: 'SigningRecorded';
  data: Recorded<SigningDetails>;
}
export interface DeliveryRecorded {
  type: 'DeliveryRecorded';
  data: Recorded<DeliveryDetails>;
}
export interface EntryCorrected {
  type: 'EntryCorrected';
  data: { entryId: string; timeline: string; changes: EntryChanges; reason: string };
}
export interface EntryRetracted {
  type: 'EntryRetracted';
  data: { entryId: string; timeline: string; reason: string };
}

export type EntryRecorded = AnnouncementRecorded | SigningRecorded | DeliveryRecorded;
export type EntryEvent = EntryRecorded | EntryCorrected | EntryRetracted;

export const RECORDED_EVENT_OF_KIND = {
  announcement: 'AnnouncementRecorded',
  signing: 'SigningRecorded',
  delivery: 'DeliveryRecorded',
} as const satisfies Record<EntryKind, EntryRecorded['type']>;

export const KIND_OF_RECORDED_EVENT: Record<EntryRecorded['type'], EntryKind> = {
  AnnouncementRecorded: 'announcement',
  SigningRecorded: 'signing',
  DeliveryRecorded: 'delivery',
};

export const ENTRY_EVENT_TYPES: ReadonlySet<string> = new Set<EntryEvent['type']>([
  'AnnouncementRecorded',
  'SigningRecorded',
  'DeliveryRecorded',
  'EntryCorrected',
  'EntryRetracted',
]);
