import type { RecordedEvent } from '@timeline/event-store';
import { randomUUID } from 'node:crypto';

/** Positions as the embedded store numbers them: 1, 2, 3... in a fixed width. */
export const testPosition = (n: number): string => String(n).padStart(20, '0');

/**
 * An event as the store would have recorded it at log position `n`, one
 * second after the one before: for tests that feed a read model by hand.
 */
export function recordedAt(n: number, stream: string, revision: number, type: string, data: Record<string, unknown>): RecordedEvent {
  return {
    id: randomUUID(),
    stream,
    revision,
    position: testPosition(n),
    type,
    data,
    metadata: { recordedBy: 'test', correlationId: randomUUID(), causationId: null, schemaVersion: 1 },
    recordedAt: new Date(Date.UTC(2024, 5, 13) + n * 1000).toISOString(),
  };
}

/** The data of a valid SigningRecorded event. */
export function signingData(timeline: string, entryId: string): Record<string, unknown> {
  return {
    entryId,
    timeline,
    occurredOn: '2024-06-13',
    title: `Entry ${entryId.slice(0, 8)}`,
    actors: ['JP', 'UA'],
    sources: [],
    tags: [],
    relatedTo: [],
    parties: ['JP', 'UA'],
    instrument: 'Accord',
  };
}
