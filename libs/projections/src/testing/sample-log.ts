import {
  decideEntry,
  decideTimeline,
  entryStream,
  evolveEntry,
  initialEntryState,
  timelineStream,
  type EntryCommand,
  type EntryDetails,
  type EntryEvent,
  type EntryState,
} from '@timeline/domain';
import { chainEvents } from '@timeline/audit';
import type { EventStore, NewEvent, RecordedEvent } from '@timeline/event-store';
import { randomUUID } from 'node:crypto';

/**
 * Writes a realistic log straight to a store, deciding every event with the
 * domain's own functions: timelines, entries of all three kinds, corrections
 * and retractions, interleaved. `random` makes it reproducible.
 */
export async function writeSampleLog(
  store: EventStore,
  options: { timelines: number; commands: number; random?: () => number },
): Promise<void> {
  const random = options.random ?? Math.random;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const slugs = Array.from({ length: options.timelines }, (_, i) => `story-${i}`);
  for (const slug of slugs) {
    const [event] = decideTimeline({ type: 'OpenTimeline', slug, title: `Story ${slug}`, description: '' }, { status: 'none' });
    await store.append(timelineStream(slug), chainEvents([], [toNew(event)]), 'no-stream');
  }
  const entries = new Map<string, EntryState>();
  const lastEvent = new Map<string, RecordedEvent>();
  for (let i = 0; i < options.commands; i++) {
    const existing = [...entries.entries()].filter(([, s]) => s.status === 'active');
    const roll = random();
    let entryId: string;
    let command: EntryCommand;
    if (existing.length === 0 || roll < 0.6) {
      entryId = randomUUID();
      command = { type: 'RecordEntry', entryId, timeline: pick(slugs), details: sampleDetails(i, pick) };
    } else {
      const [id, state] = pick(existing);
      entryId = id;
      const revision = (state as Extract<EntryState, { revision: number }>).revision;
      command =
        roll < 0.9
          ? { type: 'CorrectEntry', entryId, expectedRevision: revision, changes: { title: `Corrected ${i}`, occurredOn: sampleDate(pick) }, reason: 'a better source' }
          : { type: 'RetractEntry', entryId, reason: 'duplicate' };
    }
    const state = entries.get(entryId) ?? initialEntryState();
    const events = decideEntry(command, state);
    const expected = state.status === 'none' ? 'no-stream' : (state as Extract<EntryState, { revision: number }>).revision;
    const previous = lastEvent.get(entryId);
    await store.append(entryStream(entryId), chainEvents(previous ? [previous] : [], events.map(toNew)), expected);
    const [written] = await store.readStream(entryStream(entryId), { fromRevision: expected === 'no-stream' ? 0 : expected + 1 });
    lastEvent.set(entryId, written);
    entries.set(entryId, events.reduce(evolveEntry, state));
  }
}

export function sampleDate(pick: <T>(items: readonly T[]) => T): string {
  return pick(['2022', '2023-12', '2024-06', '2024-06-13', '2024-06-01', '2025-04-09', '2024']);
}

/** Details of one of the three kinds, chosen with `pick`. */
export function sampleDetails(i: number, pick: <T>(items: readonly T[]) => T): EntryDetails {
  const common = { occurredOn: sampleDate(pick), title: `Development ${i}`, actors: ['JP', 'UA'], sources: [], tags: [], relatedTo: [] };
  return pick<EntryDetails>([
    { kind: 'announcement', ...common, announcer: 'JP', stage: 'announced', pledge: { amount: 1000 + i, currency: 'USD' } },
    { kind: 'signing', ...common, parties: ['JP', 'UA'], instrument: 'Accord', termYears: 10 },
    { kind: 'delivery', ...common, supplier: 'JP', recipient: 'UA', items: [{ category: 'radar', description: 'Radars', quantity: 2 }] },
  ]);
}

function toNew(event: { type: string; data: object } | EntryEvent): NewEvent {
  return {
    id: randomUUID(),
    type: event.type,
    data: event.data as Record<string, unknown>,
    metadata: { recordedBy: 'sample', correlationId: randomUUID(), causationId: null, schemaVersion: 1 },
  };
}
