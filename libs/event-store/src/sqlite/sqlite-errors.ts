import { DuplicateEventIdError, StoreUnavailableError, WrongExpectedVersionError } from '../event-store.errors';

/**
 * What a SQLite failure means to a caller: the request's fault (it fails that
 * append alone), the database's (StoreUnavailableError, for every append in
 * the transaction), or another connection's write lock (wait and try again).
 */

/** SQLite error codes that mean "the store cannot take writes now", not "your request is wrong". */
const UNAVAILABLE_CODES = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|LOCKED|NOTADB|CORRUPT|PERM)/;

/** What each of those means, in words an editor or an operator can act on. */
const UNAVAILABLE_REASONS: Array<[RegExp, string]> = [
  [/^SQLITE_FULL/, 'the disk is full'],
  [/^SQLITE_READONLY/, 'its file cannot be written (read-only)'],
  [/^SQLITE_(BUSY|LOCKED)/, 'another connection holds its write lock'],
  [/^SQLITE_IOERR/, 'the disk reported an I/O error'],
  [/^SQLITE_(CANTOPEN|PERM)/, 'its file cannot be opened'],
  [/^SQLITE_(NOTADB|CORRUPT)/, 'its file is damaged'],
];

export function isRequestError(error: unknown): boolean {
  return error instanceof WrongExpectedVersionError || error instanceof DuplicateEventIdError;
}

export function isUniqueViolation(error: unknown, column: string): boolean {
  return error instanceof Error && (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && error.message.includes(column);
}

export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

/**
 * A failure of the database becomes StoreUnavailableError, with a message that
 * names the store and says what is wrong (the 503 a command answers carries
 * it); any other error keeps its meaning.
 */
export function toStoreError(error: unknown, operation: 'read' | 'write', detail?: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) {
    const reason = UNAVAILABLE_REASONS.find(([pattern]) => pattern.test(code))?.[1] ?? 'SQLite failed';
    const what = operation === 'write' ? 'cannot take writes' : 'cannot be read';
    const extra = detail ? `; ${detail}` : '';
    return new StoreUnavailableError(`the embedded event store ${what}: ${reason} (${code}: ${(error as Error).message}${extra})`, error);
  }
  return error;
}
