import type { ExpectedRevision } from './event-store.port';

/** Does a stream whose last revision is `current` satisfy what the writer expected? */
export function expectedRevisionHolds(expected: ExpectedRevision, current: number | 'no-stream'): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no-stream':
      return current === 'no-stream';
    case 'stream-exists':
      return current !== 'no-stream';
    default:
      return current === expected;
  }
}
