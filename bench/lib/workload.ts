/** Events and logs the benchmarks write: valid, hash-chained, decided by the domain's own functions. */
import { chainEvents } from '@timeline/audit';
import { decideEntry, entryStream, initialEntryState } from '@timeline/domain';
import { SqliteEventStore, type NewEvent, type RecordedEvent } from '@timeline/event-store';
import { SqliteReadModel, Projector } from '@timeline/projections';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { newId } from '../../apps/timeline-service/src/common/ids';
import { seededRandom } from '../../libs/projections/src/testing/seeded-random';
import { SampleLog, sampleDetails } from '../../libs/projections/src/testing/sample-log';

export { generateLog } from '../../libs/projections/src/testing/sample-log';

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
  const log = new SampleLog({ recordedBy: 'bench' });
  log.openTimeline(slug, 'Benchmark timeline');
  for (let i = 0; i < entries; i++) {
    log.decide({ type: 'RecordEntry', entryId: log.nextId(), timeline: slug, details: sampleDetails(i, pick) });
  }
  return log.events;
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
