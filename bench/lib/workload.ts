/** Events and logs the benchmarks write: valid, hash-chained, decided by the domain's own functions. */
import { chainEvents } from '@timeline/audit';
import { decideEntry, decideTimeline, entryStream, initialEntryState, timelineStream } from '@timeline/domain';
import { SqliteEventStore, type NewEvent, type RecordedEvent } from '@timeline/event-store';
import { SqliteReadModel, Projector } from '@timeline/projections';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { newId } from '../../apps/timeline-service/src/common/ids';
import { seededRandom } from '../../libs/projections/src/testing/seeded-random';
import { sampleDetails } from '../../libs/projections/src/testing/sample-log';

export { generateLog } from '../../test/support/cli';

const pickFirst = <T>(items: readonly T[]): T => items[0];

/**
 * A fresh EntryRecorded-style event for a new entry stream, as the service
 * would append it (decided by decideEntry, hash-chained as the first event).
 */
export function newEntryEvent(i: number, timeline = 'bench'): { stream: string; event: NewEvent } {
  // Ids as the service makes them (time-ordered UUIDv7, see common/ids.ts), for ours, the floor and the peer alike.
  const entryId = newId();
  const [decided] = decideEntry({ type: 'RecordEntry', entryId, timeline, details: sampleDetails(i, pickFirst) }, initialEntryState());
  const fresh: NewEvent = {
    id: newId(),
    type: decided.type,
    data: decided.data as unknown as Record<string, unknown>,
    metadata: { recordedBy: 'bench', correlationId: randomUUID(), causationId: null, schemaVersion: 1 },
  };
  const [chained] = chainEvents([], [fresh]);
  return { stream: entryStream(entryId), event: chained };
}

/**
 * One timeline (`slug`) holding `entries` entries: its TimelineOpened event,
 * then one EntryRecorded per entry, hash-chained and numbered as the embedded
 * store numbers them, ready for SqliteEventStore.importEvents.
 */
export function timelineLog(slug: string, entries: number, seed = 7): RecordedEvent[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const start = Date.parse('2025-01-01T00:00:00.000Z');
  const events: RecordedEvent[] = [];
  let uuid = 0;
  const nextId = () => `00000000-0000-4000-8000-${(uuid++).toString(16).padStart(12, '0')}`;
  const push = (stream: string, event: { type: string; data: object }) => {
    const fresh: NewEvent = {
      id: nextId(),
      type: event.type,
      data: event.data as Record<string, unknown>,
      metadata: { recordedBy: 'bench', correlationId: `c-${events.length}`, causationId: null, schemaVersion: 1 },
    };
    const [chained] = chainEvents([], [fresh]);
    events.push({
      ...chained,
      stream,
      revision: 0,
      position: String(events.length + 1).padStart(20, '0'),
      recordedAt: new Date(start + events.length * 10).toISOString(),
    });
  };
  const [opened] = decideTimeline({ type: 'OpenTimeline', slug, title: `Story ${slug}`, description: 'Benchmark timeline' }, { status: 'none' });
  push(timelineStream(slug), opened);
  for (let i = 0; i < entries; i++) {
    const entryId = nextId();
    const [recorded] = decideEntry({ type: 'RecordEntry', entryId, timeline: slug, details: sampleDetails(i, pick) }, initialEntryState());
    push(entryStream(entryId), recorded);
  }
  return events;
}

/** Imports `events` into dataDir/events.sqlite and projects them into dataDir/read-model.sqlite (the app's default files). */
export async function prepareDataDir(dataDir: string, events: readonly RecordedEvent[]): Promise<void> {
  const store = new SqliteEventStore(join(dataDir, 'events.sqlite'));
  const readModel = new SqliteReadModel(join(dataDir, 'read-model.sqlite'));
  try {
    store.importEvents(events);
    await new Projector(store, readModel).rebuild();
  } finally {
    readModel.close();
    await store.close();
  }
}
