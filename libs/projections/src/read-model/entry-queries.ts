import { endOfOccurredOn, type EntryKind } from '@timeline/domain';
import type Database from 'better-sqlite3';
import type { EntryPage as AnsweredPage } from '@timeline/contracts';
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
  /** Words to search for (see toFtsQuery): the page is then ranked by relevance, `order` aside. */
  q?: string;
}

/** A search: a listing's filters, ranked by relevance; across timelines unless `timeline` is given. */
export interface SearchQuery extends Omit<EntryListQuery, 'timeline' | 'order' | 'q'> {
  q: string;
  timeline?: string;
}

/** A page as the read model finds it: the API's page (@timeline/contracts) before the service adds its position. */
export type EntryPage = Pick<AnsweredPage, 'items' | 'nextCursor'>;

/** A cursor that cannot be decoded; the edge turns it into a 400 naming the field. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  readonly code = 'invalid';
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
  return page(db, query, { from: 'entries e', body: 'e.body', actors: 'entry_actors' }, {});
}

/**
 * The same query over the change log: each entry's last version at or before
 * `position`. Entries recorded later are absent; corrections and retractions
 * recorded later are not applied.
 */
export function listEntriesAsOf(db: Database.Database, query: EntryListQuery, position: string): EntryPage {
  const versions = `(SELECT c.* FROM changes c
      JOIN (SELECT entry_id, MAX(position) AS position FROM changes
            WHERE timeline = @timeline AND position <= @asOf GROUP BY entry_id) latest
      ON c.entry_id = latest.entry_id AND c.position = latest.position) e`;
  return page(db, query, { from: versions, body: 'e.entry', actors: 'json' }, { asOf: position });
}

export interface Source {
  from: string;
  body: string;
  /** Where an entry's actors are: the entry_actors table, or the version's own JSON. */
  actors: 'entry_actors' | 'json';
}

function page(db: Database.Database, query: EntryListQuery, source: Source, extra: Record<string, unknown>): EntryPage {
  const params: Record<string, unknown> = { ...extra, limit: query.limit + 1 };
  const where = filters(query, params, source.actors, source.body);
  const direction = query.order === 'desc' ? 'DESC' : 'ASC';
  if (query.cursor) {
    const [occurredOn, recordedPosition] = decodeCursor(query.cursor, 'string');
    where.push(`(e.occurred_on, e.recorded_position) ${query.order === 'desc' ? '<' : '>'} (@cOccurredOn, @cPosition)`);
    params.cOccurredOn = occurredOn;
    params.cPosition = recordedPosition;
  }
  const rows = db
    .prepare(
      `SELECT ${source.body} AS body, e.occurred_on, e.recorded_position FROM ${source.from}
       WHERE ${where.join(' AND ')}
       ORDER BY e.occurred_on ${direction}, e.recorded_position ${direction}
       LIMIT @limit`,
    )
    .all(params) as Array<{ body: string; occurred_on: string; recorded_position: string }>;
  return pageOf(rows, query.limit, (last) => encodeCursor(last.occurred_on, last.recorded_position));
}

/** The listing's filters on `e`, their values added to `params`. */
export function filters(
  query: Omit<SearchQuery, 'q'>,
  params: Record<string, unknown>,
  actors: Source['actors'],
  body: string,
): string[] {
  const where: string[] = [];
  if (query.timeline !== undefined) {
    where.push('e.timeline = @timeline');
    params.timeline = query.timeline;
  }
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
    where.push(
      actors === 'entry_actors'
        ? 'EXISTS (SELECT 1 FROM entry_actors a WHERE a.entry_id = e.entry_id AND a.actor = @actor)'
        : `EXISTS (SELECT 1 FROM json_each(${body}, '$.actors') a WHERE a.value = @actor)`,
    );
    params.actor = query.actor;
  }
  return where;
}

/** The first `limit` rows (one more was asked for, to know whether there is a next page). */
export function pageOf<R extends { body: string }>(rows: R[], limit: number, cursorAfter: (last: R) => string): EntryPage {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map((r) => JSON.parse(r.body) as EntryView),
    nextCursor: more && last ? cursorAfter(last) : null,
  };
}

/** A listing's cursor is [occurredOn, recordedPosition]; a search's, [rank, recordedPosition]. */
export function encodeCursor(key: string | number, recordedPosition: string): string {
  return Buffer.from(JSON.stringify([key, recordedPosition])).toString('base64url');
}

export function decodeCursor<K extends 'string' | 'number'>(cursor: string, key: K): [K extends 'string' ? string : number, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === key && typeof value[1] === 'string') {
      return value as [K extends 'string' ? string : number, string];
    }
  } catch {
    // fall through: any undecodable cursor is the client's error, not ours
  }
  throw new InvalidCursorError();
}

/**
 * The timeline's last `limit` entries in the order they were recorded, newest
 * first, retracted ones included (a feed marks them rather than drop them).
 * Walks the change log's (timeline, position) index backwards, so it reads
 * about `limit` rows however long the timeline is.
 */
export function latestEntries(db: Database.Database, timeline: string, limit: number): EntryView[] {
  const rows = db
    .prepare(
      `SELECT e.body AS body FROM changes c JOIN entries e ON e.entry_id = c.entry_id
       -- the entry's own first recording only, even in a damaged log that records it twice
       WHERE c.timeline = ? AND c.type = 'entry.recorded' AND e.recorded_position = c.position
       ORDER BY c.position DESC LIMIT ?`,
    )
    .all(timeline, limit) as Array<{ body: string }>;
  return rows.map((r) => JSON.parse(r.body) as EntryView);
}
