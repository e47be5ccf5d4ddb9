import { MAX_SEARCH_TERMS, toFtsQuery } from './search-query';

describe('toFtsQuery: what q means', () => {
  it.each([
    ['japan accord', '"japan" "accord"'],
    ['"security accord"', '"security accord"'],
    ['mogam*', '"mogam"*'],
    ['trucks OR drones', '"trucks" OR "drones"'],
    ['F-16*', '"F" "16"*'],
    ['title:x NEAR(a) AND', '"title:x" "NEAR(a)" "AND"'],
    ['U.S. -- ...', '"U.S."'],
    ['or', '"or"'],
  ])('%s is %s', (q, fts) => {
    expect(toFtsQuery(q)).toBe(fts);
  });

  it.each([
    ['"open', 'q has a quote (") that is not closed'],
    ['OR x', 'q needs a word on each side of OR'],
    ['x OR OR y', 'q needs a word on each side of OR'],
    ['x OR', 'q needs a word on each side of OR'],
    ['**', 'q needs letters or digits before *'],
    ['- ...', 'q must contain a word to search for (letters or digits)'],
    [Array(MAX_SEARCH_TERMS + 1).fill('w').join(' '), `q may have at most ${MAX_SEARCH_TERMS} terms`],
  ])('refuses %s: %s', (q, message) => {
    expect(() => toFtsQuery(q)).toThrow(expect.objectContaining({ code: 'invalid', field: 'q', message }));
  });
});
