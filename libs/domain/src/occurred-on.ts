/**
 * When a development happened, at the precision the news gives it:
 * 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'.
 *
 * The string itself is the sort key: '2024' < '2024-06' < '2024-06-13', so a
 * month-precision date sorts before the days of that month with plain string
 * comparison, in SQL and in JavaScript alike.
 */
export type OccurredOn = string;

const SHAPE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

export function isOccurredOn(value: unknown): value is OccurredOn {
  if (typeof value !== 'string') return false;
  const m = SHAPE.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  if (year < 1) return false;
  if (m[2] === undefined) return true;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return false;
  if (m[3] === undefined) return true;
  const day = Number(m[3]);
  return day >= 1 && day <= daysInMonth(year, month);
}

export function precisionOf(value: OccurredOn): 'year' | 'month' | 'day' {
  return value.length === 4 ? 'year' : value.length === 7 ? 'month' : 'day';
}

/**
 * An exclusive upper bound that admits every date inside `to` at any precision:
 * everything in June 2024 is < '2024-06~' because '~' sorts after digits and '-'.
 */
export function endOfOccurredOn(to: OccurredOn): string {
  return `${to}~`;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
