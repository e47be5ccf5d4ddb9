/**
 * The wire types of the timeline service: what its HTTP API and its /live
 * feed send and accept, as JSON.
 *
 * They are written out here rather than imported from @timeline/domain or
 * @timeline/projections so that a front end can bundle this library without
 * the server's code or its path aliases. test/client.e2e-spec.ts checks at
 * compile time that the server's own types (EntryView, TimelineView, ErrorBody,
 * HealthReport, ...) are assignable to these, so the two cannot drift apart
 * silently.
 */

/**
 * A position in the global event log, e.g. "00000000000000000042". Opaque, but
 * zero-padded so positions compare in log order as plain strings.
 */
export type Position = string;

/** `YYYY`, `YYYY-MM` or `YYYY-MM-DD`: news often knows only the month. */
export type OccurredOn = string;

export type EntryKind = 'announcement' | 'signing' | 'delivery';
export type AnnouncementStage = 'reported' | 'announced' | 'confirmed';

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

export interface DeliveryItem {
  category: string;
  description: string;
  quantity?: number;
}

/** What every entry has, whatever its kind. */
export interface CommonFields {
  occurredOn: OccurredOn;
  title: string;
  summary?: string;
  /** Actor ids such as JP, UA, NATO, US. */
  actors: string[];
  sources: Source[];
  tags: string[];
  /** Ids of other entries this one follows up. */
  relatedTo: string[];
}

export interface AnnouncementFields {
  announcer: string;
  stage: AnnouncementStage;
  pledge?: Money;
}

export interface SigningFields {
  parties: string[];
  instrument: string;
  place?: string;
  termYears?: number;
}

export interface DeliveryFields {
  supplier: string;
  recipient: string;
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

// ---------------------------------------------------------------------------
// Views: what GET answers

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

/** What the service adds to an entry's details. */
export interface EntryMeta {
  entryId: string;
  /** The slug of its timeline. */
  timeline: string;
  kind: EntryKind;
  /** 0 when recorded, +1 per correction or retraction; `If-Match: "<revision>"` on writes. */
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

/** An entry as `GET /entries/:id`, entry pages and live updates show it. Narrow it on `kind`. */
export type Entry = EntryDetails & EntryMeta;

export interface Timeline {
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

/** `GET /timelines/:slug/entries`. */
export interface EntryPage {
  items: Entry[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
  /**
   * The read model's checkpoint when the page was read (null for an empty log):
   * subscribe to the live feed after it to continue this snapshot exactly. With
   * `asOf`, the position the moment resolved to (null before the first change).
   */
  position: Position | null;
  /** Echoed when the query had one. */
  asOf?: string;
}

export interface EntryQuery {
  kind?: EntryKind;
  actor?: string;
  /** Inclusive, at any precision. */
  from?: OccurredOn;
  /** Inclusive, at any precision: `to: '2024-06'` includes 30 June. */
  to?: OccurredOn;
  /** By occurredOn; default asc. */
  order?: 'asc' | 'desc';
  /** 1 to 500; default 50. */
  limit?: number;
  cursor?: string;
  includeRetracted?: boolean;
  /** The timeline as it stood then: an instant with its offset (2024-06-13T14:05:00Z) or a position. Needs the audit role. */
  asOf?: string;
}

// ---------------------------------------------------------------------------
// Commands: what POST and PATCH take and answer

export interface OpenTimeline {
  slug: string;
  title: string;
  description?: string;
}

export interface TimelineOpened {
  slug: string;
  position: Position;
}

type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
type NewDetails<D extends CommonFields> = Optional<D, 'sources' | 'tags' | 'relatedTo'>;

/**
 * A new entry: its details, `sources`, `tags` and `relatedTo` optional, and an
 * optional lowercase UUID chosen by the caller so that a retry is safe.
 */
export type NewEntry = (NewDetails<AnnouncementDetails> | NewDetails<SigningDetails> | NewDetails<DeliveryDetails>) & {
  entryId?: string;
};

type Fields<K extends EntryKind> = Omit<Extract<EntryDetails, { kind: K }>, 'kind'>;
/** A correction: the fields to change; null removes an optional field. The kind never changes. */
export type EntryChanges = {
  [K in EntryKind]: { [F in keyof Fields<K>]?: Fields<K>[F] | null };
}[EntryKind];

/** What recording, correcting and retracting answer. */
export interface EntryWritten {
  entryId: string;
  revision: number;
  position: Position;
}

// ---------------------------------------------------------------------------
// Audit and health

/** One event of an entry, `GET /entries/:id/history`. */
export interface HistoryItem {
  type: string;
  revision: number;
  position: Position;
  recordedAt: string;
  recordedBy: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** One event of the global log, `GET /events`. */
export interface LogItem {
  position: Position;
  id: string;
  stream: string;
  type: string;
  revision: number;
  recordedAt: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export interface LogPage {
  items: LogItem[];
  /** Pass as `after` for the next page; null when this page was the end of the log for now. */
  next: Position | null;
}

/** Knight Lab TimelineJS 3 JSON, `GET /timelines/:slug/export?format=timelinejs`. */
export interface TimelineJsDocument {
  title: { text: { headline: string; text: string } };
  events: Array<{
    start_date: { year: number; month?: number; day?: number };
    text: { headline: string; text: string };
    group: string;
    unique_id: string;
  }>;
}

export interface HealthProblem {
  /** store_unavailable | projection_stalled | dead_letters */
  code: string;
  message: string;
}

/** `GET /health`: 200 even when degraded; `status` and `problems` say what is wrong. */
export interface Health {
  status: 'ok' | 'degraded';
  checkpoint: Position | null;
  head: Position | null;
  lag: number | null;
  deadLetters: number;
  store: 'ok' | 'unavailable';
  problems: HealthProblem[];
}

// ---------------------------------------------------------------------------
// Errors

export interface FieldProblem {
  /** Path of the offending field, e.g. `items.0.description` or `changes.title`. */
  field: string;
  problems: string[];
}

/** Every error the HTTP API answers has this shape. */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  /** Stable, machine-readable: invalid, timeline_not_found, stale_revision, ... */
  code: string;
  message: string;
  errors?: FieldProblem[];
}

// ---------------------------------------------------------------------------
// The live feed (socket.io, namespace /live)

export type LiveUpdateType = 'entry.recorded' | 'entry.corrected' | 'entry.retracted';

/** server → client `update`: a change to one entry, the entry as `GET /entries/:id` shows it after the change. */
export interface LiveUpdate {
  timeline: string;
  position: Position;
  type: LiveUpdateType;
  entry: Entry;
}

/**
 * server → client `updates`: several consecutive updates of one timeline, in log
 * order: how a subscribe with `batch: true` gets what it missed (its replay), in
 * one or a few messages. Live changes still come as `update`.
 */
export interface LiveUpdates {
  timeline: string;
  updates: LiveUpdate[];
}

export type LiveErrorCode = 'invalid' | 'not_found' | 'resync_required' | 'rate_limited' | 'internal';

/** The ack of `subscribe` and `unsubscribe`. */
export type LiveAck =
  | { ok: true; position?: Position | null }
  | { ok: false; error: { code: LiveErrorCode | (string & {}); message: string } };

/** server → client `resync`: the server unsubscribed us (e.g. slow_consumer); reload and subscribe again. */
export interface ResyncEvent {
  timeline: string;
  reason: string;
}

/** server → client `shutdown`: the instance is going away; reconnect and resume. */
export interface ShutdownEvent {
  reason: string;
}

export interface SubscribeMessage {
  timeline: string;
  after?: Position;
  /** true: the missed changes come as `updates` messages (many updates each) instead of one `update` each. */
  batch?: boolean;
}

export interface UnsubscribeMessage {
  timeline: string;
}
