/**
 * A search's `q`, as readers type it, made into an FTS5 query that cannot be
 * a syntax error: every word goes into FTS5 as a quoted string, so what FTS5
 * would read as its own syntax (`U.S.`, `F-16`, `title:`, `NEAR`, `AND`) is
 * only text. What we accept on top, written down in the README:
 *
 *   japan accord       both words (each in any form: sign finds signed, signing)
 *   "security accord"  the phrase
 *   mogam*             a word starting with "mogam"
 *   trucks OR drones   either
 *
 * Anything else that cannot be read this way (a quote not closed, an OR with
 * nothing on one side, no word at all) is the reader's error, named `q`.
 */
export class InvalidSearchQueryError extends Error {
  override readonly name = 'InvalidSearchQueryError';
  readonly code = 'invalid';
  readonly field = 'q';
  constructor(problem: string) {
    super(`q ${problem}`);
  }
}

/** More terms than any reader types; each one costs a lookup in the index. */
export const MAX_SEARCH_TERMS = 32;

/** Characters a tokenizer keeps: a term without any matches nothing, so it is left out. */
const WORD = /[\p{L}\p{N}]/u;

export function toFtsQuery(q: string): string {
  const terms: string[] = [];
  let pendingOr = false;
  // A phrase in quotes, or a run of anything else up to a space or a quote.
  const pattern = /"([^"]*)("?)|([^\s"]+)/g;
  for (const [, phrase, closed, word] of q.matchAll(pattern)) {
    if (phrase !== undefined) {
      if (!closed) throw new InvalidSearchQueryError('has a quote (") that is not closed');
      if (WORD.test(phrase)) terms.push(quoted(phrase));
      continue;
    }
    if (word === 'OR') {
      if (terms.length === 0 || pendingOr) throw new InvalidSearchQueryError('needs a word on each side of OR');
      pendingOr = true;
      terms.push('OR');
      continue;
    }
    const prefix = word.endsWith('*');
    const text = prefix ? word.replace(/\*+$/, '') : word;
    if (!WORD.test(text)) {
      if (prefix) throw new InvalidSearchQueryError('needs letters or digits before *');
      continue;
    }
    // FTS5 takes a prefix only after a single token: "f-16"* would not be one, so only its last word is a prefix.
    terms.push(prefix ? prefixOf(text) : quoted(text));
    pendingOr = false;
  }
  if (pendingOr) throw new InvalidSearchQueryError('needs a word on each side of OR');
  if (terms.length === 0) throw new InvalidSearchQueryError('must contain a word to search for (letters or digits)');
  if (terms.filter((t) => t !== 'OR').length > MAX_SEARCH_TERMS) throw new InvalidSearchQueryError(`may have at most ${MAX_SEARCH_TERMS} terms`);
  return terms.join(' ');
}

const quoted = (text: string) => `"${text.replaceAll('"', '""')}"`;

function prefixOf(text: string): string {
  const words = text.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const last = words.pop()!;
  return [...words.map(quoted), `${quoted(last)}*`].join(' ');
}
