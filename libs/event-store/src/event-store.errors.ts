import type { ExpectedRevision } from './event-store.port';

/** The stream was not at the revision the writer expected. */
export class WrongExpectedVersionError extends Error {
  override readonly name = 'WrongExpectedVersionError';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** The stream's current revision, or 'no-stream'. */
    readonly actual: number | 'no-stream',
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

/** The store cannot be reached or written (server down, disk full, file unwritable). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /** The service answers it with this code (503): apps/timeline-service/src/common/error-table.ts. */
  readonly code = 'store_unavailable';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

/** An event id was reused for a different event (not an idempotent retry). */
export class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
  constructor(readonly eventId: string, readonly stream: string) {
    super(`event id ${eventId} was already used for a different event (appending to ${stream})`);
  }
}

/** The stream was deleted (KurrentDB: tombstoned or soft-deleted and not written again); the embedded store never deletes one. */
export class StreamDeletedError extends Error {
  override readonly name = 'StreamDeletedError';
  constructor(readonly stream: string) {
    super(`stream ${stream} was deleted`);
  }
}

/** An event in the store that this application did not write: its metadata is not EventMetadata. */
export class ForeignEventError extends Error {
  override readonly name = 'ForeignEventError';
  constructor(readonly stream: string, readonly revision: number, problem: string) {
    super(`event ${stream}@${revision}: ${problem}; it was not written by this service`);
  }
}
