import { entryStream, timelineStream } from '@timeline/domain';
import type { EventStore, Position, RecordedEvent } from '@timeline/event-store';
import { SqliteReadModel, type EntryView, type TimelineReadModel, type TimelineView } from '@timeline/projections';

/** One way the stored read model differs from the log, named by the stream and revision it concerns. */
export interface ProjectionDifference {
  stream: string;
  /** The revision the read model shows (or the log's, when the read model lacks it). */
  revision: number;
  position: Position;
  problem: string;
}

export interface ProjectionReport {
  /** Events replayed from the log. */
  events: number;
  /** The read model's checkpoint and the log's head when the check started. */
  checkpoint: Position | null;
  head: Position | null;
  /** Where the read model stands against the log. */
  standing: 'at-head' | 'behind' | 'ahead';
  /** Digest of the stored read model. */
  storedDigest: string;
  /** Digest of the whole log (up to the head) replayed into an empty read model. */
  replayedDigest: string;
  /** The two digests are equal: the read model is exactly what the log projects to. */
  matches: boolean;
  /**
   * Only when the read model is behind: whether it equals the log replayed up
   * to its own checkpoint, i.e. whether it is merely late rather than wrong.
   */
  matchesAtCheckpoint: boolean | null;
  /** Entry and timeline level differences (best effort; the digests are what decide). */
  differences: ProjectionDifference[];
  /** Why the digests differ, in one sentence; null when they match. */
  explanation: string | null;
}

export interface ProjectionCheckOptions {
  onProgress?: (events: number) => void;
  /** Stop listing differences after this many. */
  maxDifferences?: number;
}

const PAGE = 5000;

/**
 * Replays the whole log into a fresh in-memory read model and compares its
 * digest with the stored read model's. Equal digests prove the read model is
 * exactly what the log projects to; otherwise the report says why (behind or
 * ahead of the log) and which entries differ.
 *
 * When the stored read model is behind the log, the replay is also compared at
 * the read model's checkpoint, which tells "late" (equal there: it will catch
 * up) from "wrong" (different even there).
 *
 * The read model is read, never written. Run it while nothing projects into
 * the read model, or the answer describes a moving target.
 */
export async function checkProjection(
  store: EventStore,
  readModel: TimelineReadModel,
  options: ProjectionCheckOptions = {},
): Promise<ProjectionReport> {
  const maxDifferences = options.maxDifferences ?? 50;
  const head = await store.headPosition();
  const checkpoint = readModel.checkpoint();
  const storedDigest = readModel.digest();
  const standing = checkpoint === head ? 'at-head' : head === null || (checkpoint !== null && checkpoint > head) ? 'ahead' : 'behind';

  const replay = new SqliteReadModel(':memory:');
  try {
    let events = 0;
    const found: { matchesAtCheckpoint: boolean | null; differences: ProjectionDifference[] | null } = { matchesAtCheckpoint: null, differences: null };
    // Behind: compare where the read model stopped. An empty read model stopped before the first event.
    const compareAtCheckpoint = () => {
      found.matchesAtCheckpoint = replay.digest() === storedDigest;
      if (!found.matchesAtCheckpoint) found.differences = diffReadModels(readModel, replay, maxDifferences);
    };
    if (standing === 'behind' && checkpoint === null) compareAtCheckpoint();

    let after: Position | undefined;
    while (head !== null) {
      const page = await store.readAll({ after, limit: PAGE });
      const upToHead = page.filter((e) => e.position <= head);
      if (upToHead.length === 0) break;
      if (standing === 'behind' && checkpoint !== null && found.matchesAtCheckpoint === null && upToHead[upToHead.length - 1].position >= checkpoint) {
        const [before, rest] = splitAt(upToHead, checkpoint);
        if (before.length > 0) replay.apply(before);
        compareAtCheckpoint();
        if (rest.length > 0) replay.apply(rest);
      } else {
        replay.apply(upToHead);
      }
      events += upToHead.length;
      after = upToHead[upToHead.length - 1].position;
      options.onProgress?.(events);
      if (upToHead.length < page.length || after === head) break;
    }

    const replayedDigest = replay.digest();
    const matches = replayedDigest === storedDigest;
    const { matchesAtCheckpoint } = found;
    const differences = found.differences ?? (!matches && standing !== 'behind' ? diffReadModels(readModel, replay, maxDifferences) : []);
    return {
      events,
      checkpoint,
      head,
      standing,
      storedDigest,
      replayedDigest,
      matches,
      matchesAtCheckpoint,
      differences,
      explanation: matches ? null : explain(standing, checkpoint, head, matchesAtCheckpoint),
    };
  } finally {
    replay.close();
  }
}

function explain(standing: ProjectionReport['standing'], checkpoint: Position | null, head: Position | null, matchesAtCheckpoint: boolean | null): string {
  const where = `(checkpoint ${checkpoint ?? 'none'}, head ${head ?? 'none'})`;
  if (standing === 'behind') {
    return matchesAtCheckpoint
      ? `the read model is behind the log ${where}; up to its checkpoint it matches the log, so it only has to catch up (start the service, or rebuild)`
      : `the read model is behind the log ${where}, and it differs from the log even up to its checkpoint`;
  }
  if (standing === 'ahead') {
    return `the read model is ahead of the log ${where}: it applied events the log no longer holds (deleted from the log?)`;
  }
  return `the read model is at the log's head ${where} but differs from what the log projects to: the read model was changed, or the log was`;
}

function splitAt(events: RecordedEvent[], position: Position): [RecordedEvent[], RecordedEvent[]] {
  const i = events.findIndex((e) => e.position > position);
  return i === -1 ? [events, []] : [events.slice(0, i), events.slice(i)];
}

/**
 * What differs between two read models, entry by entry and timeline by
 * timeline, through the read model's own queries. Memory stays at one page of
 * entries whatever the size of the read models.
 */
function diffReadModels(stored: TimelineReadModel, replayed: TimelineReadModel, max: number): ProjectionDifference[] {
  const differences: ProjectionDifference[] = [];
  const add = (d: ProjectionDifference) => {
    if (differences.length < max) differences.push(d);
  };

  const storedTimelines = new Map(stored.timelines().map((t) => [t.slug, t]));
  const replayedTimelines = new Map(replayed.timelines().map((t) => [t.slug, t]));
  const slugs = [...new Set([...replayedTimelines.keys(), ...storedTimelines.keys()])].sort();
  for (const slug of slugs) {
    const mine = storedTimelines.get(slug);
    const theirs = replayedTimelines.get(slug);
    if (!mine) add({ stream: timelineStream(slug), revision: 0, position: theirs!.position, problem: 'the timeline is in the log but missing from the read model' });
    else if (!theirs) add({ stream: timelineStream(slug), revision: 0, position: mine.position, problem: 'the timeline is in the read model but not in the log' });
    else {
      const fields = differingFields(mine, theirs);
      if (fields.length > 0) {
        add({ stream: timelineStream(slug), revision: 0, position: mine.position, problem: `the read model's timeline differs from the log's replay in ${fields.join(', ')}` });
      }
    }
  }

  for (const slug of slugs) {
    if (differences.length >= max) break;
    for (const mine of allEntries(stored, slug)) {
      const theirs = replayed.entry(mine.entryId);
      const stream = entryStream(mine.entryId);
      if (!theirs) {
        add({ stream, revision: mine.revision, position: mine.position, problem: `the entry is in the read model (revision ${mine.revision}) but not in the log` });
      } else if (theirs.revision !== mine.revision) {
        const log = `${theirs.revision < mine.revision ? 'the log only reaches' : 'the log reaches'} revision ${theirs.revision} (position ${theirs.position})`;
        add({ stream, revision: mine.revision, position: mine.position, problem: `the read model shows revision ${mine.revision} (position ${mine.position}), ${log}` });
      } else {
        const fields = differingFields(mine, theirs);
        if (fields.length > 0) add({ stream, revision: mine.revision, position: mine.position, problem: `the read model's entry differs from the log's replay in ${fields.join(', ')}` });
      }
      if (differences.length >= max) break;
    }
    for (const theirs of allEntries(replayed, slug)) {
      if (differences.length >= max) break;
      if (!stored.entry(theirs.entryId)) {
        add({
          stream: entryStream(theirs.entryId),
          revision: theirs.revision,
          position: theirs.position,
          problem: `the entry is in the log (revision ${theirs.revision}) but missing from the read model`,
        });
      }
    }
  }
  return differences;
}

function* allEntries(readModel: TimelineReadModel, timeline: string): Generator<EntryView> {
  let cursor: string | undefined;
  do {
    const page = readModel.entries({ timeline, order: 'asc', limit: 500, cursor, includeRetracted: true });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

function differingFields(a: EntryView | TimelineView, b: EntryView | TimelineView): string[] {
  const left = a as unknown as Record<string, unknown>;
  const right = b as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])];
  return keys.filter((k) => JSON.stringify(left[k]) !== JSON.stringify(right[k]));
}
