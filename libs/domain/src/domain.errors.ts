/**
 * Typed domain errors. The HTTP and socket layers answer them from one table
 * keyed by `code` (apps/timeline-service/src/common/error-table.ts); nothing
 * else catches them.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
}

export class TimelineNotFoundError extends DomainError {
  readonly code = 'timeline_not_found';
  constructor(readonly slug: string) {
    super(`timeline '${slug}' does not exist`);
  }
}

export class TimelineAlreadyExistsError extends DomainError {
  readonly code = 'timeline_exists';
  constructor(readonly slug: string) {
    super(`timeline '${slug}' already exists`);
  }
}

export class EntryNotFoundError extends DomainError {
  readonly code = 'entry_not_found';
  constructor(readonly entryId: string) {
    super(`entry ${entryId} does not exist`);
  }
}

/**
 * A stream that cannot be folded: an event that needs an earlier one (a
 * correction or retraction with no recording before it). The log is damaged;
 * no request can mend that, so it is a server error, never a 404.
 */
export class CorruptLogError extends DomainError {
  readonly code = 'corrupt_log';
  constructor(readonly stream: string, readonly problem: string) {
    super(`the log is damaged: stream ${stream} cannot be folded: ${problem}`);
  }
}

/** The entryId is taken by a different entry: not a retry of the same request. */
export class EntryIdConflictError extends DomainError {
  readonly code = 'entry_id_conflict';
  constructor(readonly entryId: string) {
    super(`entryId ${entryId} is already used by a different entry`);
  }
}

export class EntryRetractedError extends DomainError {
  readonly code = 'entry_retracted';
  constructor(readonly entryId: string) {
    super(`entry ${entryId} is retracted and cannot change`);
  }
}

/** The writer's If-Match revision is not the entry's current revision. */
export class StaleRevisionError extends DomainError {
  readonly code = 'stale_revision';
  constructor(readonly entryId: string, readonly expected: number, readonly actual: number) {
    super(`entry ${entryId} is at revision ${actual}, not ${expected}: reload it and apply your change again`);
  }
}

/** A command that breaks a rule of the domain (field-level shape is checked at the edge). */
export class InvalidCommandError extends DomainError {
  readonly code = 'invalid';
  constructor(readonly field: string, readonly problem: string) {
    super(`${field} ${problem}`);
  }
}
