/*
 * The one builder of sample logs, for the unit tests, the CLI tests, the
 * property tests and the benchmarks: commands become events through the
 * domain's own decide and evolve, each stream is hash-chained as the service
 * chains it, and events are numbered as the embedded store numbers them.
 *
 * Everything is a function of its inputs (ids count up, recordedAt moves 10 ms
 * per event), so the same seed and size give the same bytes: the rebuild
 * benchmark's digest of its 1,000,000-event log rests on that. Change what
 * this writes and that digest changes.
 */
import { chainEvents } from '@timeline/audit';
import {
  decideEntry,
  decideTimeline,
  entryStream,
  evolveEntry,
  initialEntryState,
  initialTimelineState,
  timelineStream,
  type EntryCommand,
  type EntryDetails,
  type EntryEvent,
  type EntryState,
} from '@timeline/domain';
import type { EventStore, NewEvent, RecordedEvent } from '@timeline/event-store';
import { randomUUID } from 'node:crypto';
import { seededRandom } from './seeded-random';

export interface SampleLogOptions {
  /** metadata.recordedBy of every event. Default 'generator'. */
  recordedBy?: string;
  /** Hash-chain each stream (chainEvents), as the service does. Default true. */
  chained?: boolean;
  /** Ids for events and new entries. Default uuid-shaped and counting up from 0. */
  newId?: () => string;
  /** The position of the log's n-th event (from 0), before encoding. Default n + 1, as the embedded store numbers them. */
  positionOf?: (n: number) => number;
}

/** Overrides for the events of one call: who recorded them, and when. */
export interface Stamp {
  recordedBy?: string;
  recordedAt?: string;
}

const START = Date.parse('2025-01-01T00:00:00.000Z');

export class SampleLog {
  readonly events: RecordedEvent[] = [];
  private readonly last = new Map<string, RecordedEvent>();
  private readonly states = new Map<string, EntryState>();
  private ids = 0;

  constructor(private readonly options: SampleLogOptions = {}) {}

  /** The next id, for events and new entries alike. */
  nextId(): string {
    return this.options.newId?.() ?? `00000000-0000-4000-8000-${(this.ids++).toString(16).padStart(12, '0')}`;
  }

  openTimeline(slug: string, description = '', stamp: Stamp = {}): void {
    const [opened] = decideTimeline({ type: 'OpenTimeline', slug, title: `Story ${slug}`, description }, initialTimelineState());
    this.push(timelineStream(slug), opened, stamp);
  }

  /** Decides `command` on its entry's state and records the events. What the domain refuses throws, and nothing is recorded. */
  decide(command: EntryCommand, stamp: Stamp = {}): EntryEvent[] {
    const state = this.state(command.entryId);
    const decided = decideEntry(command, state);
    for (const event of decided) this.push(entryStream(command.entryId), event, stamp);
    this.states.set(command.entryId, decided.reduce(evolveEntry, state));
    return decided;
  }

  state(entryId: string): EntryState {
    return this.states.get(entryId) ?? initialEntryState();
  }

  private push(stream: string, event: { type: string; data: object }, stamp: Stamp): void {
    const n = this.events.length;
    const recordedBy = stamp.recordedBy ?? this.options.recordedBy ?? 'generator';
    const previous = this.last.get(stream);
    const fresh: NewEvent = {
      id: this.nextId(),
      type: event.type,
      data: event.data as Record<string, unknown>,
      metadata: { recordedBy, correlationId: `c-${n}`, causationId: null, schemaVersion: 1 },
    };
    const [written] = this.options.chained === false ? [fresh] : chainEvents(previous ? [previous] : [], [fresh]);
    const recorded: RecordedEvent = {
      ...written,
      stream,
      revision: previous ? previous.revision + 1 : 0,
      position: String(this.options.positionOf?.(n) ?? n + 1).padStart(20, '0'),
      recordedAt: stamp.recordedAt ?? new Date(START + n * 10).toISOString(), // 10 ms apart from 2025-01-01 unless stamped
    };
    this.events.push(recorded);
    this.last.set(stream, recorded);
  }
}

/**
 * A realistic log of `count` events: `timelines` timelines, then entries of all
 * three kinds with corrections and retractions interleaved. Deterministic for
 * a given seed (or `random`).
 */
export function generateLog(
  count: number,
  options: { timelines?: number; seed?: number; random?: () => number } & Pick<SampleLogOptions, 'recordedBy' | 'newId'> = {},
): RecordedEvent[] {
  const random = options.random ?? seededRandom(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const slugs = Array.from({ length: options.timelines ?? 5 }, (_, i) => `story-${i}`);
  const log = new SampleLog({ recordedBy: options.recordedBy, newId: options.newId });
  for (const slug of slugs) {
    if (log.events.length >= count) break;
    log.openTimeline(slug, `Generated story ${slug}`);
  }
  const active: string[] = [];
  while (log.events.length < count) {
    const i = log.events.length;
    const roll = random();
    let command: EntryCommand;
    if (active.length === 0 || roll < 0.6) {
      command = { type: 'RecordEntry', entryId: log.nextId(), timeline: pick(slugs), details: sampleDetails(i, pick) };
    } else {
      const slot = Math.floor(random() * active.length);
      const entryId = active[slot];
      const state = log.state(entryId) as Extract<EntryState, { revision: number }>;
      if (roll < 0.92) {
        command = { type: 'CorrectEntry', entryId, expectedRevision: state.revision, changes: { title: `Corrected ${i}`, occurredOn: sampleDate(pick) }, reason: 'a better source' };
      } else {
        command = { type: 'RetractEntry', entryId, reason: 'duplicate' };
        active[slot] = active[active.length - 1];
        active.pop();
      }
    }
    log.decide(command);
    if (command.type === 'RecordEntry') active.push(command.entryId);
  }
  return log.events;
}

/**
 * The same log appended to a store, one event per append, each at the revision
 * it was decided on: the store numbers the events and stamps recordedAt itself.
 * Ids are random uuids, so that a test's own appends never collide with them.
 */
export async function writeSampleLog(
  store: EventStore,
  options: { timelines: number; commands: number; random?: () => number },
): Promise<void> {
  const events = generateLog(options.timelines + options.commands, {
    timelines: options.timelines,
    random: options.random,
    recordedBy: 'sample',
    newId: randomUUID,
  });
  for (const { id, type, data, metadata, stream, revision } of events) {
    await store.append(stream, [{ id, type, data, metadata }], revision === 0 ? 'no-stream' : revision - 1);
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
