import type { Position, RecordedEvent } from '@timeline/event-store';

/** An event the projection could not apply, set aside so that the projector goes on. */
export interface DeadLetter {
  position: Position;
  stream: string;
  type: string;
  revision: number;
  /** Why it could not be applied: the error's name, SQLite code if any, and message. */
  error: string;
  /** The event exactly as the store delivered it. */
  event: RecordedEvent;
  /** When the store recorded the event (not when it failed: rebuilds must reproduce the row). */
  recordedAt: string;
}

/**
 * SQLite result codes that an event's *content* can cause, the same way on
 * every run: a value that breaks a constraint (e.g. NOT NULL for a missing
 * title), a datatype mismatch, a value too big. Any other SQLite code (FULL,
 * IOERR, BUSY, LOCKED, READONLY, CANTOPEN, NOMEM, CORRUPT, a missing table...)
 * is about the database, not the event.
 */
const CONTENT_SQLITE_CODES = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)(_|$)/;

/**
 * Whether applying an event failed because of the read model's database
 * (disk full, I/O error, locked, closed...), which must be retried later and
 * never dead-lettered; as opposed to a poison event, whose content the
 * projection cannot apply and never will (a deterministic error thrown by
 * projectEvent, or a constraint its data breaks).
 *
 * When unsure, an SQLite error counts as infrastructure: retrying an event
 * forever is visible (health, logs) and harmless, setting a good event aside
 * is neither.
 */
export function isInfrastructureFailure(error: unknown, databaseOpen: boolean): boolean {
  if (!databaseOpen) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return !CONTENT_SQLITE_CODES.test(code);
  return false;
}

const MAX_ERROR_LENGTH = 2000;

/** The error as a dead letter records it; the same error gives the same text on every run. */
export function describeFailure(error: unknown): string {
  let text: string;
  // Duck-typed, not instanceof: errors raised by a native module may come from another realm's Error.
  const { name, message, code } = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown; code?: unknown };
  if (typeof message === 'string') {
    text = `${typeof name === 'string' ? name : 'Error'}${typeof code === 'string' ? ` (${code})` : ''}: ${message}`;
  } else {
    text = `thrown: ${safeString(error)}`;
  }
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}

/** The dead letter for an event that could not be applied. */
export function deadLetterOf(event: RecordedEvent, error: unknown): DeadLetter {
  return {
    position: event.position,
    stream: event.stream,
    type: event.type,
    revision: event.revision,
    error: describeFailure(error),
    event,
    recordedAt: event.recordedAt,
  };
}
