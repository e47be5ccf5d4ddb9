/**
 * The wire types of the timeline service: what its HTTP API and its /live
 * feed send and accept, as JSON. Their one home: the server declares its
 * answers with them (libs/projections, the services, the error filter) and
 * @timeline/client hands them to its users, unchanged.
 *
 * No shape is written out here: every one is generated (./wire.generated.ts,
 * by libs/contracts/generate-wire-types.ts) from the service's OpenAPI
 * document, whose request schemas are the DTOs' validators and whose answers
 * are openapi/response-schemas.ts, and from docs/asyncapi.yaml. This file names
 * them and composes what JSON Schema cannot say the way TypeScript does: an
 * entry's fields narrowed on its `kind`, and the arrays every recorded entry
 * carries. test/client-types.e2e-spec.ts fails when the generated file is stale.
 */
import type * as Wire from './wire.generated';

/** The generated interface as a plain object type, which (unlike an interface) a JSON object can be cast to. */
type Plain<T> = { [K in keyof T]: T[K] };

/**
 * A position in the global event log, e.g. "00000000000000000042". Opaque, but
 * zero-padded so positions compare in log order as plain strings.
 */
export type Position = Wire.LivePosition;

/** `YYYY`, `YYYY-MM` or `YYYY-MM-DD`: news often knows only the month. */
export type OccurredOn = Wire.LiveOccurredOn;

export type EntryKind = Wire.EntryMeta['kind'];
export type AnnouncementStage = Wire.AnnouncementFieldsDto['stage'];
export type Money = Wire.MoneyDto;
export type Source = Wire.SourceDto;
export type DeliveryItem = Wire.DeliveryItemDto;

type FieldsOf = { announcement: Wire.AnnouncementFieldsDto; signing: Wire.SigningFieldsDto; delivery: Wire.DeliveryFieldsDto };
/** What every entry has, whatever its kind: the fields the three kinds share. */
type CommonKey = keyof Wire.AnnouncementFieldsDto & keyof Wire.SigningFieldsDto & keyof Wire.DeliveryFieldsDto;
/** Optional when recording; a recorded entry always has them (empty when none were given). */
type DefaultedKey = 'sources' | 'tags' | 'relatedTo';

export type CommonFields = Omit<Pick<Wire.AnnouncementFieldsDto, CommonKey>, DefaultedKey> & Required<Pick<Wire.AnnouncementFieldsDto, DefaultedKey>>;
export type AnnouncementFields = Omit<Wire.AnnouncementFieldsDto, CommonKey>;
export type SigningFields = Omit<Wire.SigningFieldsDto, CommonKey>;
export type DeliveryFields = Omit<Wire.DeliveryFieldsDto, CommonKey>;

type Details<K extends EntryKind> = { kind: K } & Omit<FieldsOf[K], DefaultedKey> & Required<Pick<FieldsOf[K], DefaultedKey>>;
export type AnnouncementDetails = Details<'announcement'>;
export type SigningDetails = Details<'signing'>;
export type DeliveryDetails = Details<'delivery'>;
/** Everything an editor records about one development. */
export type EntryDetails = AnnouncementDetails | SigningDetails | DeliveryDetails;

// ---------------------------------------------------------------------------
// Views: what GET answers

export type CorrectionNote = Wire.CorrectionNote;
export type RetractionNote = Wire.RetractionNote;
/** What the service adds to an entry's details. */
export type EntryMeta = Wire.EntryMeta;

/** An entry as `GET /entries/:id`, entry pages and live updates show it. Narrow it on `kind`. */
export type Entry = EntryDetails & EntryMeta;

export type Timeline = Wire.Timeline;

/** `GET /timelines/:slug/entries`. */
export type EntryPage = Omit<Wire.EntryPage, 'items'> & { items: Entry[] };

/**
 * The query of `GET /timelines/:slug/entries`, as the client takes it: as the
 * service's query parameters say, but `includeRetracted` a boolean.
 */
export type EntryQuery = { [K in Exclude<keyof Wire.ListEntriesQuery, 'includeRetracted'>]?: Exclude<Wire.ListEntriesQuery[K], null> } & { includeRetracted?: boolean };

/** The query of `GET /search`, as the client takes it: `q` required, the rest as in EntryQuery. */
export type SearchQuery = { q: string } & { [K in Exclude<keyof Wire.SearchEntriesQuery, 'includeRetracted' | 'q'>]?: Exclude<Wire.SearchEntriesQuery[K], null> } & {
  includeRetracted?: boolean;
};

// ---------------------------------------------------------------------------
// Commands: what POST and PATCH take and answer

export type OpenTimeline = Wire.OpenTimelineDto;
export type TimelineOpened = Wire.TimelineOpened;

/**
 * A new entry: its details, `sources`, `tags` and `relatedTo` optional, and an
 * optional lowercase UUID chosen by the caller so that a retry is safe.
 */
export type NewEntry = Plain<Wire.RecordAnnouncementDto> | Plain<Wire.RecordSigningDto> | Plain<Wire.RecordDeliveryDto>;

/** A correction: the fields to change; null removes an optional field. The kind never changes. */
export type EntryChanges = Wire.AnnouncementChangesDto | Wire.SigningChangesDto | Wire.DeliveryChangesDto;

/** What recording, correcting and retracting answer. */
export type EntryWritten = Wire.EntryWritten;

// ---------------------------------------------------------------------------
// Audit and health

/** One event of an entry, `GET /entries/:id/history`. */
export type HistoryItem = Wire.HistoryItem;
/** One event of the global log, `GET /events`. */
export type LogItem = Wire.LogItem;
export type LogPage = Wire.EventsPage;
/** Knight Lab TimelineJS 3 JSON, `GET /timelines/:slug/export?format=timelinejs`. */
export type TimelineJsDocument = Wire.TimelineJsDocument;
export type HealthProblem = Wire.HealthProblem;
/** `GET /health`: 200 even when degraded; `status` and `problems` say what is wrong. */
export type Health = Wire.HealthReport;

// ---------------------------------------------------------------------------
// Errors

export type FieldProblem = Wire.FieldProblem;
/** Every error the HTTP API answers has this shape. */
export type ApiErrorBody = Wire.ErrorBody;

// ---------------------------------------------------------------------------
// The live feed (socket.io, namespace /live)

export type LiveUpdateType = Wire.LiveUpdatePayload['type'];

/** server → client `update`: a change to one entry, the entry as `GET /entries/:id` shows it after the change. */
export type LiveUpdate = Omit<Wire.LiveUpdatePayload, 'entry'> & { entry: Entry };

/**
 * server → client `updates`: several consecutive updates of one timeline, in log
 * order: how a subscribe with `batch: true` gets what it missed (its replay), in
 * one or a few messages. Live changes still come as `update`.
 */
export type LiveUpdates = Omit<Wire.LiveUpdatesPayload, 'updates'> & { updates: LiveUpdate[] };

export type LiveErrorCode = Wire.LiveAckError['error']['code'];

type Accepted = Exclude<Wire.LiveSubscribeAck, Wire.LiveAckError>;
/** The ack of `subscribe` (with the position live delivery continues after) and `unsubscribe` (without). */
export type LiveAck =
  | (Omit<Accepted, 'position'> & Partial<Pick<Accepted, 'position'>>)
  // A refusal's code may be one this client does not know yet.
  | (Omit<Wire.LiveAckError, 'error'> & { error: Omit<Wire.LiveAckError['error'], 'code'> & { code: LiveErrorCode | (string & {}) } });

/** server → client `resync`: the server unsubscribed us (e.g. slow_consumer); reload and subscribe again. */
// LiveFeed reports a resume the server refused (resync_required) the same way, hence any reason.
export type ResyncEvent = Omit<Wire.LiveResyncPayload, 'reason'> & { reason: Wire.LiveResyncPayload['reason'] | (string & {}) };
/** server → client `shutdown`: the instance is going away; reconnect and resume. */
export type ShutdownEvent = Wire.LiveShutdownPayload;
export type SubscribeMessage = Wire.LiveSubscribePayload;
export type UnsubscribeMessage = Wire.LiveUnsubscribePayload;
