import type { OccurredOn } from '../occurred-on';

export const ENTRY_KINDS = ['announcement', 'signing', 'delivery'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

export const ANNOUNCEMENT_STAGES = ['reported', 'announced', 'confirmed'] as const;
export type AnnouncementStage = (typeof ANNOUNCEMENT_STAGES)[number];

/** An actor id such as JP, UA, NATO, US. */
export type ActorId = string;

export interface Money {
  amount: number;
  /** ISO 4217, e.g. USD, JPY, EUR. */
  currency: string;
}

export interface Source {
  title: string;
  publisher?: string;
  url?: string;
  publishedOn?: OccurredOn;
}

/** What every entry has, whatever its kind. */
export interface CommonFields {
  occurredOn: OccurredOn;
  title: string;
  summary?: string;
  actors: ActorId[];
  sources: Source[];
  tags: string[];
  /** Other entries this one follows up, e.g. a delivery fulfilling an announcement. */
  relatedTo: string[];
}

export interface AnnouncementFields {
  announcer: ActorId;
  stage: AnnouncementStage;
  pledge?: Money;
}

export interface SigningFields {
  parties: ActorId[];
  instrument: string;
  place?: string;
  termYears?: number;
}

export interface DeliveryItem {
  category: string;
  description: string;
  quantity?: number;
}

export interface DeliveryFields {
  supplier: ActorId;
  recipient: ActorId;
  items: DeliveryItem[];
  value?: Money;
  /** How it was funded or routed, e.g. PURL, NATO CAP. */
  channel?: string;
}

export type AnnouncementDetails = { kind: 'announcement' } & CommonFields & AnnouncementFields;
export type SigningDetails = { kind: 'signing' } & CommonFields & SigningFields;
export type DeliveryDetails = { kind: 'delivery' } & CommonFields & DeliveryFields;

/** Everything an editor records about one development. */
export type EntryDetails = AnnouncementDetails | SigningDetails | DeliveryDetails;

type Fields<K extends EntryKind> = Omit<Extract<EntryDetails, { kind: K }>, 'kind'>;

/**
 * A correction: the fields to change. null removes an optional field (a
 * pledge that turned out not to exist). The kind of an entry never changes.
 */
export type EntryChanges = {
  [K in EntryKind]: { [F in keyof Fields<K>]?: Fields<K>[F] | null };
}[EntryKind];

/** Fields that a correction may remove with null. */
export const OPTIONAL_FIELDS: ReadonlySet<string> = new Set([
  'summary',
  'pledge',
  'place',
  'termYears',
  'value',
  'channel',
]);
