import type { Position } from '../event-store.port';

/** A place in KurrentDB's transaction log, as the client reports it. */
export interface KurrentDbLogPosition {
  commit: bigint;
  prepare: bigint;
}

// Both halves are unsigned 64-bit; 2^64 - 1 has 20 digits. Zero-padding each half to
// that width makes plain string comparison equal (commit, prepare) order, which is log order.
const WIDTH = 20;
const U64_MAX = (1n << 64n) - 1n;
const FORMAT = /^(\d{20})-(\d{20})$/;

export function encodeKurrentDbPosition(position: KurrentDbLogPosition): Position {
  return `${half(position.commit)}-${half(position.prepare)}`;
}

export function decodeKurrentDbPosition(position: Position): KurrentDbLogPosition {
  const match = FORMAT.exec(position);
  const commit = match ? BigInt(match[1]) : -1n;
  const prepare = match ? BigInt(match[2]) : -1n;
  // 20 digits can spell numbers above 2^64 - 1; those were never produced by encode.
  if (!match || commit > U64_MAX || prepare > U64_MAX) {
    throw new RangeError(`not a KurrentDB position: ${JSON.stringify(position)}`);
  }
  return { commit, prepare };
}

export function isKurrentDbPosition(value: string): boolean {
  try {
    decodeKurrentDbPosition(value);
    return true;
  } catch {
    return false;
  }
}

function half(value: bigint): string {
  if (value < 0n || value > U64_MAX) throw new RangeError(`log position out of the u64 range: ${value}`);
  return value.toString(10).padStart(WIDTH, '0');
}
