import type Database from 'better-sqlite3';
import { decodeCursor, encodeCursor, filters, pageOf, type EntryPage, type SearchQuery } from './entry-queries';
import { InvalidSearchQueryError, toFtsQuery } from './search-query';

interface Hit {
  id: number;
  rank: number;
  recorded_position: string;
}

/**
 * Entries matching `q` (see toFtsQuery), in one timeline or all: ranked by
 * bm25 (weights in search-index.ts), ties in recording order; the cursor is
 * the last item's rank and recorded position, so the next page starts exactly
 * after it. A rank depends on the whole index (how rare each word is): a
 * write between two pages can move entries across the cursor.
 *
 * FTS5 sorts by rank itself, much faster, only when the rank is the whole
 * ORDER BY (measured on 100,000 entries: 10 ms against 28 ms for a word in
 * 5,000 of them); then ties come in no promised order. So the hits are read
 * by rank alone, and the page put in (rank, recorded position) order here:
 * exact, unless a tie runs across the page's end, in which case the whole
 * tie is read to see which of it comes first.
 */
export function searchEntries(db: Database.Database, query: SearchQuery): EntryPage {
  const params: Record<string, unknown> = { q: toFtsQuery(query.q) };
  const where = ['entries_fts MATCH @q', ...filters(query, params, 'entry_actors', 'e.body')];
  if (query.cursor) {
    const [rank, recordedPosition] = decodeCursor(query.cursor, 'number');
    // `+f.rank`: an expression, not the column, so FTS5 never takes `rank = x` as naming a rank function.
    where.push('(+f.rank > @cRank OR (+f.rank = @cRank AND e.recorded_position > @cPosition))');
    params.cRank = rank;
    params.cPosition = recordedPosition;
  }
  const hits = `SELECT f.rowid AS id, f.rank, e.recorded_position FROM entries_fts f JOIN entries e ON e.rowid = f.rowid WHERE ${where.join(' AND ')}`;
  let rows = read<Hit>(db, `${hits} ORDER BY f.rank LIMIT @limit`, { ...params, limit: query.limit + 1 });
  const limit = query.limit;
  if (rows.length > limit && rows[limit].rank === rows[limit - 1].rank) {
    const tie = rows[limit].rank;
    rows = [...rows.filter((r) => r.rank !== tie), ...read<Hit>(db, `${hits} AND +f.rank = @tie`, { ...params, tie })];
  }
  rows.sort((a, b) => a.rank - b.rank || (a.recorded_position < b.recorded_position ? -1 : a.recorded_position > b.recorded_position ? 1 : 0));
  rows = rows.slice(0, limit + 1);
  const bodies = new Map(
    (db.prepare(`SELECT rowid, body FROM entries WHERE rowid IN (SELECT value FROM json_each(?))`).raw().all(JSON.stringify(rows.map((r) => r.id))) as Array<[number, string]>),
  );
  return pageOf(
    rows.map((r) => ({ ...r, body: bodies.get(r.id)! })),
    limit,
    (last) => encodeCursor(last.rank, last.recorded_position),
  );
}

function read<R>(db: Database.Database, sql: string, params: Record<string, unknown>): R[] {
  try {
    return db.prepare(sql).all(params) as R[];
  } catch (error) {
    // toFtsQuery writes only what FTS5 parses; should it still refuse one, that is the query's fault, not a 500.
    if ((error as { code?: unknown }).code === 'SQLITE_ERROR') throw new InvalidSearchQueryError(`cannot be searched for: ${(error as Error).message}`);
    throw error;
  }
}
