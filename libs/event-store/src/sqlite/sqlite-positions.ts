import type { Position } from '../event-store.port';

// 20 digits hold any SQLite rowid (max 9223372036854775807), so string order is numeric order.
const WIDTH = 20;
const FORMAT = /^\d{20}$/;

export function encodeSqlitePosition(rowid: number): Position {
  return String(rowid).padStart(WIDTH, '0');
}

export function decodeSqlitePosition(position: Position): number {
  if (!FORMAT.test(position)) throw new RangeError(`not a position of the embedded store: ${JSON.stringify(position)}`);
  return Number(position);
}

export function isSqlitePosition(value: string): boolean {
  return FORMAT.test(value);
}
