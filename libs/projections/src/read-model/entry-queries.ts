import { endOfOccurredOn, type EntryKind } from '@timeline/domain';
import type Database from 'better-sqlite3';
import type { EntryView } from './entry-view';

export interface EntryListQuery {
  timeline: string;
  kind?: EntryKind;
  actor?: string;
  /** Inclusive, at any precision. */
  from?: string;
  /** Inclusive, at any precision: to=2024-06 includes 2024-06-30. */
  to?: string;
  order: 'asc' | 'desc';
  limit: number;
  cursor?: string;
  includeRetracted: boolean;
}

export interface EntryPage {
  items: EntryView[];
  nextCursor: string | null;
}

/** A cursor that cannot be decoded; the edge turns it into a 400 naming the field. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  readonly field = 'cursor';
  constructor() {
    super('cursor must be the nextCursor of a previous page');
  }
}

/**
 * Keyset pagination on (occurred_on, recorded_position): stable under
 * concurrent writes, and O(limit) however deep the page.
 */
export function listEntries(db: Database.Database, query: EntryListQuery): EntryPage {
  const where = ['e.timeline = @timeline'];
  const params: Record<string, unknown> = { timeline: query.timeline, limit: query.limit + 1 };
  if (query.kind) {
    where.push('e.kind = @kind');
    params.kind = query.kind;
  }
  if (!query.includeRetracted) where.push(`e.status = 'active'`);
  if (query.from) {
    where.push('e.occurred_on >= @from');
    params.from = query.from;
  }
  if (query.to) {
    where.push('e.occurred_on < @to');
    params.to = endOfOccurredOn(query.to);
  }
  if (query.actor) {
    where.push('EXISTS (SELECT 1 FROM entry_actors a WHERE a.entry_id = e.entry_id AND a.actor = @actor)');
    params.actor = query.actor;
  }
  const direction = query.order === 'desc' ? 'DESC' : 'ASC';
  if (query.cursor) {
    const [occurredOn, recordedPosition] = decodeCursor(query.cursor);
    where.push(`(e.occurred_on, e.recorded_position) ${query.order === 'desc' ? '<' : '>'} (@cOccurredOn, @cPosition)`);
    params.cOccurredOn = occurredOn;
    params.cPosition = recordedPosition;
  }
  const rows = db
    .prepare(
      `SELECT e.body, e.occurred_on, e.recorded_position FROM entries e
       WHERE ${where.join(' AND ')}
       ORDER BY e.occurred_on ${direction}, e.recorded_position ${direction}
       LIMIT @limit`,
    )
    .all(params) as Array<{ body: string; occurred_on: string; recorded_position: string }>;

  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map((r) => JSON.parse(r.body) as EntryView),
    nextCursor: more && last ? encodeCursor(last.occurred_on, last.recorded_position) : null,
  };
}

function encodeCursor(occurredOn: string, recordedPosition: string): string {
  return Buffer.from(JSON.stringify([occurredOn, recordedPosition])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) {
      return value as [string, string];
    }
  } catch {
    // fall through: any undecodable cursor is the client's error, not ours
  }
  throw new InvalidCursorError();
}
