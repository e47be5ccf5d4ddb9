import type { EntryDetails, EntryKind } from '@timeline/domain';
import type Database from 'better-sqlite3';

/*
 * The full-text index of the entries (SQLite FTS5, built into better-sqlite3).
 *
 * What is searchable is written here once, as SQL over an entry's JSON row
 * (`entries.body`): the title, the summary, and the actors, the sources'
 * titles and each kind's own text (KIND_TEXT). A view states it, and triggers on `entries` keep the index
 * equal to it. Triggers rather than statements in ProjectionRows because every
 * writer of `entries` must keep the index in step, in its transaction: the
 * exact path, the rebuild's bulk load and its worker thread (its own
 * connection), and the derivation of the rows from the change log after a
 * rebuild that died; a trigger is part of the schema, so none of them can
 * forget it, and none restates the rule.
 *
 * External content (the view): the index stores no copy of the text, and
 * snippet() can still read it.
 * Retracted entries stay indexed; the queries filter on status, as listings do.
 */

/** Each kind's own text fields: a new kind is a compile error until it says what of it is searchable. */
const KIND_TEXT: { [K in EntryKind]: ReadonlyArray<keyof Extract<EntryDetails, { kind: K }>> } = {
  announcement: ['announcer'],
  signing: ['parties', 'instrument', 'place'],
  delivery: ['supplier', 'recipient', 'items', 'channel'],
};

/** The fields whose text (a string, or the strings in an array, or in its objects) goes in the third column. */
const OTHER_TEXT = ['actors', ...new Set(Object.values(KIND_TEXT).flat().map(String))];

/**
 * The indexed columns, and each one's weight in the ranking (bm25): a word in
 * the title counts most, then the summary, then the rest. The rest is read in
 * one walk of the entry's JSON (json_tree) picking its fields' text, not a
 * walk per field: that made a rebuild twice as slow (measured: 2.6 s against
 * 1.2 s for the text of 60,000 entries).
 */
const COLUMNS = [
  { name: 'title', weight: 5, text: (b: string) => `json_extract(${b}, '$.title')` },
  { name: 'summary', weight: 2, text: (b: string) => `json_extract(${b}, '$.summary')` },
  {
    name: 'details',
    weight: 1,
    text: (b: string) =>
      `(SELECT group_concat(value, ' ') FROM json_tree(${b}) WHERE type = 'text' AND (fullkey GLOB '$.sources[[]*].title' OR ${OTHER_TEXT.map(
        (f) => `fullkey = '$.${f}' OR fullkey GLOB '$.${f}[[]*'`,
      ).join(' OR ')}))`,
  },
] as const;

const names = COLUMNS.map((c) => c.name).join(', ');
const values = (body: string) => COLUMNS.map((c) => c.text(body)).join(', ');
const insert = (row: string) => `INSERT INTO entries_fts (rowid, ${names}) VALUES (${row}.rowid, ${values(`${row}.body`)});`;
// External content: the index is told what it held, to take it out.
const remove = (row: string) => `INSERT INTO entries_fts (entries_fts, rowid, ${names}) VALUES ('delete', ${row}.rowid, ${values(`${row}.body`)});`;

/**
 * The index, its view and its triggers. Porter stemming (signs, signed, signing
 * are one word) over unicode61 without diacritics (Kyiv, Kyïv).
 */
export const SEARCH_INDEX_SQL = `
  CREATE VIEW IF NOT EXISTS entries_search (id, ${names}) AS SELECT rowid, ${values('body')} FROM entries;
  CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5(
    ${names}, content = 'entries_search', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2'
  );
  INSERT INTO entries_fts (entries_fts, rank) VALUES ('rank', 'bm25(${COLUMNS.map((c) => c.weight.toFixed(1)).join(', ')})');
  CREATE TRIGGER IF NOT EXISTS entries_fts_insert AFTER INSERT ON entries BEGIN ${insert('new')} END;
  CREATE TRIGGER IF NOT EXISTS entries_fts_delete AFTER DELETE ON entries BEGIN ${remove('old')} END;
  CREATE TRIGGER IF NOT EXISTS entries_fts_update AFTER UPDATE OF body ON entries BEGIN ${remove('old')} ${insert('new')} END;
`;

/**
 * Drops the index with its view and triggers: emptying `entries` then costs no
 * trigger per row (a reset drops it, empties the tables and creates it again).
 */
export const DROP_SEARCH_INDEX_SQL = `
  DROP TRIGGER IF EXISTS entries_fts_insert;
  DROP TRIGGER IF EXISTS entries_fts_delete;
  DROP TRIGGER IF EXISTS entries_fts_update;
  DROP TABLE IF EXISTS entries_fts;
  DROP VIEW IF EXISTS entries_search;
`;

/**
 * What the digest covers of the index: every token it holds (fts5vocab's
 * instance view, which reads the index itself, not the text), by entry, in
 * entry order: each entry's id and its tokens (column, offset, term). Named by
 * entry id, not rowid, since the rebuild writes the entries in another order
 * than the log and their rowids differ; an index row of no entry shows with a
 * null id. Sorted by rowid in SQL and by entry id here: a sort of the tokens
 * by entry id in SQL (a join per token) took five times as long.
 */
export function searchIndexByEntry(db: Database.Database): Array<[string | null, string]> {
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.entries_fts_tokens USING fts5vocab(main, entries_fts, instance)`);
  const idOf = new Map(db.prepare(`SELECT rowid, entry_id FROM entries`).raw().all() as Array<[number, string]>);
  const entries: Array<[string | null, string]> = [];
  let doc: number | null = null;
  let tokens: string[] = [];
  const flush = () => {
    if (doc !== null) entries.push([idOf.get(doc) ?? null, tokens.join('\n')]);
  };
  const rows = db.prepare(`SELECT doc, col, offset, term FROM temp.entries_fts_tokens ORDER BY doc, col, offset`).raw().iterate();
  for (const [d, col, offset, term] of rows as Iterable<[number, string, number, string]>) {
    if (d !== doc) {
      flush();
      doc = d;
      tokens = [];
    }
    tokens.push(`${col} ${offset} ${term}`);
  }
  flush();
  return entries.sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : (a[0] ?? '') > (b[0] ?? '') ? 1 : 0));
}
