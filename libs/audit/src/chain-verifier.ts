import type { EventStore, Position, RecordedEvent } from '@timeline/event-store';
import { eventHash } from './event-hash';

export interface ChainProblem {
  stream: string;
  revision: number;
  position: Position;
  problem: string;
}

export interface ChainReport {
  events: number;
  streams: number;
  problems: ChainProblem[];
}

export interface VerifyOptions {
  /**
   * The embedded store numbers its log 1, 2, 3, ... with no gaps, so a missing
   * number is a deleted event, even the last of its stream (which no chain
   * link follows). KurrentDB's positions are byte offsets: not checked.
   */
  sequentialPositions?: boolean;
  /** Stop collecting after this many problems (the first is what matters). */
  maxProblems?: number;
  onProgress?: (events: number) => void;
}

interface StreamState {
  revision: number;
  hash: string | null;
}

/**
 * Walks the whole log once, in order, and checks every stream's chain:
 * revisions 0, 1, 2, ... without gaps; each event's content against its own
 * hash; each prevHash against the stored hash of the event before it.
 * Together these catch a changed byte in any event, a deleted event and two
 * events swapped.
 */
export async function verifyChains(store: EventStore, options: VerifyOptions = {}): Promise<ChainReport> {
  const maxProblems = options.maxProblems ?? 100;
  const problems: ChainProblem[] = [];
  const streams = new Map<string, StreamState>();
  let events = 0;
  let previousPosition: Position | undefined;
  const report = (event: RecordedEvent, problem: string) => {
    if (problems.length < maxProblems) problems.push({ stream: event.stream, revision: event.revision, position: event.position, problem });
  };

  for (;;) {
    const page = await store.readAll({ after: previousPosition, limit: 5000 });
    if (page.length === 0) break;
    for (const event of page) {
      events++;
      if (options.sequentialPositions) {
        const expected = previousPosition === undefined ? 1 : Number(previousPosition) + 1;
        if (Number(event.position) !== expected) {
          report(event, `positions ${expected} to ${Number(event.position) - 1} are missing from the log: events were deleted`);
        }
      }
      previousPosition = event.position;
      checkEvent(event, streams.get(event.stream), report);
      streams.set(event.stream, { revision: event.revision, hash: typeof event.metadata.hash === 'string' ? event.metadata.hash : null });
    }
    options.onProgress?.(events);
  }
  return { events, streams: streams.size, problems };
}

function checkEvent(event: RecordedEvent, before: StreamState | undefined, report: (event: RecordedEvent, problem: string) => void) {
  const expectedRevision = before ? before.revision + 1 : 0;
  if (event.revision !== expectedRevision) {
    report(
      event,
      event.revision > expectedRevision
        ? `revision ${expectedRevision} is missing (the next event is revision ${event.revision}): an event was deleted`
        : `revision ${event.revision} comes after revision ${before?.revision}: events were reordered or duplicated`,
    );
  }
  const stored = event.metadata.hash;
  if (typeof stored !== 'string') {
    report(event, 'has no hash: it was written without tamper evidence, or its hash was removed');
    return;
  }
  if (eventHash(event) !== stored) report(event, 'content does not match its hash: its type, data or metadata was changed');
  const expectedPrev = before ? before.hash : null;
  if ((event.metadata.prevHash ?? null) !== expectedPrev) {
    report(
      event,
      before
        ? `prevHash does not match the hash of revision ${before.revision}: events before it were deleted, swapped or altered`
        : 'prevHash should be null for the first event of its stream: earlier events were deleted',
    );
  }
}
