import {
  ANY,
  CancelledError,
  DeadlineExceededError,
  NO_STREAM,
  NotLeaderError,
  STREAM_EXISTS,
  TimeoutError,
  UnavailableError,
} from '@kurrent/kurrentdb-client';
import type { AppendStreamState, CurrentStreamState } from '@kurrent/kurrentdb-client';
import { ForeignEventError, StoreUnavailableError, WrongExpectedVersionError } from '../event-store.errors';
import type { EventMetadata, ExpectedRevision, Position, RecordedEvent } from '../event-store.port';
import { encodeKurrentDbPosition, type KurrentDbLogPosition } from './kurrentdb-positions';

/** Translations between the client's types and errors and the port's. */

const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10_000;
const U64_MAX = (1n << 64n) - 1n;

/** The fields we use of the client's recorded events (stream reads and $all reads alike). */
export interface ClientRecord {
  id: string;
  streamId: string;
  revision: bigint;
  type: string;
  created: Date | number;
  data: unknown;
  metadata: unknown;
  position?: KurrentDbLogPosition;
}

export function toStreamState(expected: ExpectedRevision): AppendStreamState {
  switch (expected) {
    case 'no-stream':
      return NO_STREAM;
    case 'stream-exists':
      return STREAM_EXISTS;
    case 'any':
      return ANY;
    default:
      return BigInt(expected);
  }
}

/** The client says 'no_stream', or a negative revision (-1 no stream, -5/-6 deleted), for a stream without events. */
export function toActual(state: CurrentStreamState): number | 'no-stream' {
  return typeof state === 'bigint' && state >= 0n ? Number(state) : 'no-stream';
}

/**
 * The metadata key that carries an event's recordedAt: the appending service's
 * clock, to the millisecond. KurrentDB's own `created` is not used for our
 * events because the client gives it in whole seconds on reads (its native
 * reader divides the ticks) and to the millisecond on subscriptions, so the
 * same event would have two times. The key is the store's, not the writer's:
 * it is added on append and taken out again on read, and the hash chain never
 * covers it. (Several instances writing to one KurrentDB: times follow each
 * instance's clock; positions, not times, order the log.)
 */
export const RECORDED_AT = '$recordedAt';

export function withRecordedAt(metadata: EventMetadata, recordedAt: string): Record<string, unknown> {
  return Object.assign({}, metadata, { [RECORDED_AT]: recordedAt });
}

export function toRecorded(event: ClientRecord, encoded?: Position): RecordedEvent {
  const position = encoded ?? encodePosition(event);
  const revision = Number(event.revision);
  const { [RECORDED_AT]: stamped, ...metadata } = ourMetadata(event, revision);
  return {
    id: event.id,
    stream: event.streamId,
    revision,
    position,
    type: event.type,
    data: asRecord(event.data),
    metadata: metadata as EventMetadata,
    // Events appended before recordedAt travelled in the metadata have only the server's time.
    recordedAt: typeof stamped === 'string' && !Number.isNaN(Date.parse(stamped)) ? stamped : toIsoString(event.created),
  };
}

/** The metadata as this service writes it (EventMetadata); anything else is refused by name, not passed off as ours. */
function ourMetadata(event: ClientRecord, revision: number): Record<string, unknown> {
  const metadata = event.metadata;
  const problem =
    typeof metadata !== 'object' || metadata === null || Array.isArray(metadata) || metadata instanceof Uint8Array
      ? 'its metadata is not a JSON object'
      : typeof (metadata as Record<string, unknown>).recordedBy !== 'string' ||
          typeof (metadata as Record<string, unknown>).correlationId !== 'string' ||
          typeof (metadata as Record<string, unknown>).schemaVersion !== 'number'
        ? 'its metadata lacks recordedBy, correlationId or schemaVersion'
        : null;
  if (problem) throw new ForeignEventError(event.streamId, revision, problem);
  return metadata as Record<string, unknown>;
}

function encodePosition(event: ClientRecord): Position {
  const p = event.position;
  // Servers before 22.6 send no position on stream reads; the server writes u64 max for "unknown".
  if (!p || p.commit === U64_MAX || p.prepare === U64_MAX) {
    throw new Error(`KurrentDB sent no log position for ${event.streamId}@${event.revision} (server older than 22.6?)`);
  }
  return encodeKurrentDbPosition(p);
}

/** JSON events arrive parsed; anything else (binary data, a JSON array or string) has no fields to offer. */
function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
    ? (value as Record<string, unknown>)
    : {};
}

const MAX_DATE_MS = 8.64e15;
const TICKS_PER_MS = 10_000;

/** The client types `created` as a Date; older code paths carried a number (ms, or .NET ticks of 100ns). */
function toIsoString(created: Date | number): string {
  const date =
    created instanceof Date ? created : new Date(Math.abs(created) > MAX_DATE_MS ? Math.floor(created / TICKS_PER_MS) : created);
  // The client itself falls back to the epoch when the server omits the timestamp.
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}

export function isSystem(event: { type: string; streamId: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIMIT;
  return Math.min(Math.max(Math.floor(limit), 1), MAX_LIMIT);
}

/** Connection-level failures become StoreUnavailableError; everything else keeps its meaning. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || error instanceof WrongExpectedVersionError) return error;
  const unavailable =
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof NotLeaderError ||
    error instanceof CancelledError ||
    // Raw gRPC status CANCELLED (1), DEADLINE_EXCEEDED (4) or UNAVAILABLE (14) that the client did not
    // wrap: seen through the emulator, a new client's first ServerFeatures call cancelled as the server went away.
    (error instanceof Error && [1, 4, 14].includes((error as { code?: unknown }).code as number)) ||
    // Cluster discovery gives up with a plain Error.
    (error instanceof Error && error.message.startsWith('Failed to discover'));
  if (!unavailable) return error;
  const message = error instanceof Error && error.message ? error.message : String(error);
  return new StoreUnavailableError(`KurrentDB is unavailable: ${message}`, error);
}
