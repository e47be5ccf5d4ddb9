import fc from 'fast-check';
import {
  decodeKurrentDbPosition,
  encodeKurrentDbPosition,
  isKurrentDbPosition,
  type KurrentDbLogPosition,
} from './kurrentdb-positions';

const U64_MAX = 18446744073709551615n;

/** Log order: by commit position, then by prepare position. */
function logOrder(a: KurrentDbLogPosition, b: KurrentDbLogPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

function stringOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Values where naive (unpadded) encodings sort wrongly, plus the ends of the u64 range.
const tricky = [0n, 1n, 9n, 10n, 99n, 100n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, U64_MAX - 1n, U64_MAX];
const trickyPositions: KurrentDbLogPosition[] = tricky.flatMap((commit) => tricky.map((prepare) => ({ commit, prepare })));

const u64 = fc.bigInt({ min: 0n, max: U64_MAX });
const position = fc.record({ commit: u64, prepare: u64 });

describe('KurrentDB positions', () => {
  it('round-trips exactly, including 0 and 2^64 - 1', () => {
    for (const p of trickyPositions) expect(decodeKurrentDbPosition(encodeKurrentDbPosition(p))).toEqual(p);
    fc.assert(fc.property(position, (p) => expect(decodeKurrentDbPosition(encodeKurrentDbPosition(p))).toEqual(p)));
  });

  it('has a fixed width', () => {
    const widths = new Set(trickyPositions.map((p) => encodeKurrentDbPosition(p).length));
    expect([...widths]).toEqual([41]);
  });

  it('orders as strings exactly as the log orders (commit, then prepare)', () => {
    for (const a of trickyPositions) {
      for (const b of trickyPositions) {
        expect(stringOrder(encodeKurrentDbPosition(a), encodeKurrentDbPosition(b))).toBe(logOrder(a, b));
      }
    }
    fc.assert(
      fc.property(position, position, (a, b) => {
        expect(stringOrder(encodeKurrentDbPosition(a), encodeKurrentDbPosition(b))).toBe(logOrder(a, b));
      }),
    );
  });

  it('sorts 9 before 10 in either half', () => {
    expect(encodeKurrentDbPosition({ commit: 9n, prepare: 0n }) < encodeKurrentDbPosition({ commit: 10n, prepare: 0n })).toBe(true);
    expect(encodeKurrentDbPosition({ commit: 5n, prepare: 9n }) < encodeKurrentDbPosition({ commit: 5n, prepare: 10n })).toBe(true);
    // The commit half dominates even when the prepare half is huge.
    expect(encodeKurrentDbPosition({ commit: 9n, prepare: U64_MAX }) < encodeKurrentDbPosition({ commit: 10n, prepare: 0n })).toBe(true);
  });

  it('refuses values outside the u64 range', () => {
    expect(() => encodeKurrentDbPosition({ commit: -1n, prepare: 0n })).toThrow(RangeError);
    expect(() => encodeKurrentDbPosition({ commit: 0n, prepare: U64_MAX + 1n })).toThrow(RangeError);
  });

  it('refuses strings that are not positions', () => {
    const tooBig = `${'9'.repeat(20)}-${'0'.repeat(20)}`; // 20 digits, but above 2^64 - 1
    for (const bad of ['', '00000000000000000001', '1-2', `${'0'.repeat(20)}_${'0'.repeat(20)}`, tooBig, ` ${'0'.repeat(20)}-${'0'.repeat(20)}`]) {
      expect(() => decodeKurrentDbPosition(bad)).toThrow(RangeError);
      expect(isKurrentDbPosition(bad)).toBe(false);
    }
    expect(isKurrentDbPosition(encodeKurrentDbPosition({ commit: 1n, prepare: 1n }))).toBe(true);
  });
});
