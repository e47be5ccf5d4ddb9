/**
 * As-of queries, proven by a property: for random command sequences over one
 * or two timelines, the as-of view at every intermediate position equals what
 * the live read model held once it had applied the log up to that position.
 *
 * Commands are turned into events by the domain itself (decideEntry /
 * evolveEntry); commands the domain refuses (a retracted entry corrected, a
 * correction that changes nothing, a signing with fewer than two parties, a
 * stale revision) are skipped, as the service would refuse them. Events are
 * applied one at a time to a live SqliteReadModel, and after each one the live
 * answers to a set of queries are kept; at the end every kept answer is asked
 * again with entriesAsOf at that position.
 */
import {
  ANNOUNCEMENT_STAGES,
  type EntryCommand,
  type EntryDetails,
  type EntryKind,
} from '@timeline/domain';
import type { RecordedEvent } from '@timeline/event-store';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntryListQuery, EntryPage } from './entry-queries';
import { SqliteReadModel } from './sqlite-read-model';
import { SampleLog } from '../testing/sample-log';

jest.setTimeout(60_000);

// ---------------------------------------------------------------------------
// Commands, as fast-check generates them

const ACTORS = ['JP', 'UA', 'US', 'NATO'] as const;
const EDITORS = ['alice', 'bob', 'seed'] as const;
const KINDS: readonly EntryKind[] = ['announcement', 'signing', 'delivery'];
const SLUGS = ['story-a', 'story-b'] as const;

const actorArb = fc.constantFrom(...ACTORS);
const actorsArb = fc.subarray([...ACTORS], { minLength: 1 });

/** YYYY, YYYY-MM or YYYY-MM-DD over a narrow range, so that dates (and ties) recur. */
const occurredOnArb: fc.Arbitrary<string> = fc
  .record({
    year: fc.integer({ min: 2022, max: 2024 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    precision: fc.constantFrom('year', 'month', 'day'),
  })
  .map(({ year, month, day, precision }) => {
    const mm = String(month).padStart(2, '0');
    const dd = String(day).padStart(2, '0');
    return precision === 'year' ? `${year}` : precision === 'month' ? `${year}-${mm}` : `${year}-${mm}-${dd}`;
  });

const textArb = fc.string({ minLength: 1, maxLength: 12 });
const moneyArb = fc.record({ amount: fc.integer({ min: 1, max: 5_000_000 }), currency: fc.constantFrom('USD', 'JPY', 'EUR') });
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
/** For corrections: absent (no change), null (remove) or a new value. */
const removable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });

interface RecordCmd {
  type: 'record';
  timeline: number;
  kind: EntryKind;
  occurredOn: string;
  title: string;
  summary?: string;
  actors: string[];
  withSource: boolean;
  announcer: string;
  stage: (typeof ANNOUNCEMENT_STAGES)[number];
  pledge?: { amount: number; currency: string };
  parties: string[];
  place?: string;
  termYears?: number;
  supplier: string;
  recipient: string;
  value?: { amount: number; currency: string };
  channel?: string;
}

interface CorrectCmd {
  type: 'correct';
  target: number;
  /** Sometimes the editor's If-Match is stale: the domain refuses, the command is skipped. */
  stale: boolean;
  changes: Record<string, unknown>;
}

interface RetractCmd {
  type: 'retract';
  target: number;
}

type Cmd = (RecordCmd | CorrectCmd | RetractCmd) & { by: string; gapMs: number };

const recordArb: fc.Arbitrary<RecordCmd> = fc.record({
  type: fc.constant('record' as const),
  timeline: fc.nat({ max: 1 }),
  kind: fc.constantFrom(...KINDS),
  occurredOn: occurredOnArb,
  title: textArb,
  summary: optional(textArb),
  actors: actorsArb,
  withSource: fc.boolean(),
  announcer: actorArb,
  stage: fc.constantFrom(...ANNOUNCEMENT_STAGES),
  pledge: optional(moneyArb),
  parties: fc.subarray([...ACTORS], { minLength: 1 }),
  place: optional(textArb),
  termYears: optional(fc.integer({ min: 1, max: 30 })),
  supplier: actorArb,
  recipient: actorArb,
  value: optional(moneyArb),
  channel: optional(textArb),
});

/** Every field a correction may touch, whatever the kind; fields the entry's kind lacks are dropped later. */
const changesArb = fc.record(
  {
    title: textArb,
    occurredOn: occurredOnArb,
    actors: actorsArb,
    summary: removable(textArb),
    tags: fc.subarray(['aid', 'defence', 'finance']),
    stage: fc.constantFrom(...ANNOUNCEMENT_STAGES),
    pledge: removable(moneyArb),
    place: removable(textArb),
    termYears: removable(fc.integer({ min: 1, max: 30 })),
    instrument: textArb,
    value: removable(moneyArb),
    channel: removable(textArb),
    recipient: actorArb,
  },
  { requiredKeys: [] },
);

const FIELDS_OF_KIND: Record<EntryKind, ReadonlySet<string>> = {
  announcement: new Set(['stage', 'pledge']),
  signing: new Set(['place', 'termYears', 'instrument']),
  delivery: new Set(['value', 'channel', 'recipient']),
};
const COMMON_FIELDS: ReadonlySet<string> = new Set(['title', 'occurredOn', 'actors', 'summary', 'tags']);

const cmdArb: fc.Arbitrary<Cmd> = fc
  .tuple(
    fc.oneof(
      { weight: 5, arbitrary: recordArb },
      {
        weight: 4,
        arbitrary: fc.record({ type: fc.constant('correct' as const), target: fc.nat(), stale: fc.nat({ max: 9 }).map((n) => n === 0), changes: changesArb }),
      },
      { weight: 2, arbitrary: fc.record({ type: fc.constant('retract' as const), target: fc.nat() }) },
    ),
    fc.constantFrom(...EDITORS),
    // 0 ms: several events recorded in the same millisecond, as a group commit does.
    fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1_000, max: 90_000_000 })),
  )
  .map(([cmd, by, gapMs]) => ({ ...cmd, by, gapMs }));

const scenarioArb = fc.record({
  timelines: fc.integer({ min: 1, max: 2 }),
  commands: fc.array(cmdArb, { minLength: 1, maxLength: 30, size: 'max' }),
  // Positions are opaque strings to the read model: leave gaps between them sometimes, as KurrentDB does.
  positionGaps: fc.boolean(),
  filters: fc.array(
    fc.record(
      {
        kind: fc.constantFrom(...KINDS),
        actor: actorArb,
        from: occurredOnArb,
        to: occurredOnArb,
        includeRetracted: fc.boolean(),
        order: fc.constantFrom('asc' as const, 'desc' as const),
      },
      { requiredKeys: ['includeRetracted', 'order'] },
    ),
    { minLength: 1, maxLength: 3 },
  ),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

// ---------------------------------------------------------------------------
// From commands to recorded events, through the domain

const encodePosition = (n: number) => String(n).padStart(20, '0');
const BASE_TIME = Date.UTC(2024, 5, 13, 12, 0, 0);

function details(cmd: RecordCmd): EntryDetails {
  const common = {
    occurredOn: cmd.occurredOn,
    title: cmd.title,
    ...(cmd.summary !== undefined ? { summary: cmd.summary } : {}),
    actors: cmd.actors,
    sources: cmd.withSource ? [{ title: `Source on ${cmd.title}`, publishedOn: cmd.occurredOn }] : [],
    tags: [],
    relatedTo: [],
  };
  const present = <T extends object>(fields: T): T =>
    Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
  switch (cmd.kind) {
    case 'announcement':
      return { kind: 'announcement', ...common, ...present({ announcer: cmd.announcer, stage: cmd.stage, pledge: cmd.pledge }) };
    case 'signing':
      return {
        kind: 'signing',
        ...common,
        ...present({ parties: cmd.parties, instrument: 'Accord', place: cmd.place, termYears: cmd.termYears }),
      };
    case 'delivery':
      return {
        kind: 'delivery',
        ...common,
        ...present({
          supplier: cmd.supplier,
          recipient: cmd.recipient,
          items: [{ category: 'radar', description: 'Radars', quantity: 2 }],
          value: cmd.value,
          channel: cmd.channel,
        }),
      };
  }
}

/** The events of a scenario in log order, with positions and recordedAt, as a store would hand them out. */
function toLog(scenario: Scenario): RecordedEvent[] {
  let position = 0;
  let time = BASE_TIME;
  const log = new SampleLog({ chained: false, positionOf: (n) => (position += scenario.positionGaps ? 1 + (n % 3) * 7 : 1) });
  const slugs = SLUGS.slice(0, scenario.timelines);
  for (const slug of slugs) log.openTimeline(slug, '', { recordedBy: 'seed', recordedAt: new Date((time += 5)).toISOString() });
  const ids: string[] = [];
  for (const cmd of scenario.commands) {
    let command: EntryCommand;
    if (cmd.type === 'record') {
      command = { type: 'RecordEntry', entryId: log.nextId(), timeline: slugs[cmd.timeline % slugs.length], details: details(cmd) };
    } else {
      if (ids.length === 0) continue;
      const entryId = ids[cmd.target % ids.length];
      const state = log.state(entryId);
      const revision = state.status === 'none' ? 0 : state.revision;
      if (cmd.type === 'correct') {
        const kind = state.status === 'none' ? 'announcement' : state.details.kind;
        const changes = Object.fromEntries(
          Object.entries(cmd.changes).filter(([field]) => COMMON_FIELDS.has(field) || FIELDS_OF_KIND[kind].has(field)),
        );
        command = { type: 'CorrectEntry', entryId, expectedRevision: cmd.stale ? revision + 1 : revision, changes, reason: `fix by ${cmd.by}` };
      } else {
        command = { type: 'RetractEntry', entryId, reason: `retracted by ${cmd.by}` };
      }
    }
    const isNew = log.state(command.entryId).status === 'none';
    try {
      // One event per command the domain accepts, recorded gapMs after the one before.
      const events = log.decide(command, { recordedBy: cmd.by, recordedAt: new Date(time + cmd.gapMs).toISOString() });
      time += cmd.gapMs * events.length;
      if (isNew && events.length > 0) ids.push(command.entryId);
    } catch {
      continue; // the domain refuses it, as the service would: nothing is appended
    }
  }
  return log.events;
}

// ---------------------------------------------------------------------------
// The queries whose answers are compared

interface NamedQuery {
  name: string;
  query: EntryListQuery;
}

function queriesFor(scenario: Scenario): NamedQuery[] {
  const slugs = SLUGS.slice(0, scenario.timelines);
  return slugs.flatMap((timeline) => [
    { name: `${timeline} all`, query: { timeline, order: 'asc', limit: 500, includeRetracted: true } },
    { name: `${timeline} active`, query: { timeline, order: 'asc', limit: 500, includeRetracted: false } },
    ...scenario.filters.map((f, i) => ({ name: `${timeline} filter ${i}`, query: { timeline, limit: 500, ...f } })),
  ]);
}

/** Every page of a query, 3 items at a time, following nextCursor: pagination must agree too. */
function allPages(read: (q: EntryListQuery) => EntryPage, query: EntryListQuery): EntryPage[] {
  const pages: EntryPage[] = [];
  let cursor: string | undefined;
  do {
    const page = read({ ...query, limit: 3, cursor });
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages.length < 100);
  return pages;
}

// ---------------------------------------------------------------------------

describe('SqliteReadModel as-of queries (property)', () => {
  let dir: string;
  let runs = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'timeline-as-of-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh live read model per run, removed afterwards. */
  function withReadModel<T>(use: (readModel: SqliteReadModel) => T): T {
    const file = join(dir, `read-${++runs}.sqlite`);
    const readModel = new SqliteReadModel(file);
    try {
      return use(readModel);
    } finally {
      readModel.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    }
  }

  it('the as-of view at every intermediate position equals what the live read model held at that position', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) =>
        withReadModel((live) => {
          const log = toLog(scenario);
          const queries = queriesFor(scenario);
          const paged = queries.filter((q) => q.name.endsWith('active') || q.name.endsWith('filter 0'));

          // Before anything is applied, and at a position before the first event: nothing.
          const before = encodePosition(0);
          for (const { name, query } of queries) {
            expect({ name, page: live.entriesAsOf(query, before) }).toStrictEqual({ name, page: { items: [], nextCursor: null } });
          }

          // Live, one event at a time, keeping what each query answered.
          const seen: Array<Map<string, EntryPage | EntryPage[]>> = [];
          for (const event of log) {
            live.apply([event]);
            expect(live.checkpoint()).toBe(event.position);
            const answers = new Map<string, EntryPage | EntryPage[]>();
            for (const { name, query } of queries) answers.set(name, live.entries(query));
            for (const { name, query } of paged) answers.set(`${name} paged`, allPages((q) => live.entries(q), query));
            seen.push(answers);
          }

          // As of each position, the same answers.
          log.forEach((event, i) => {
            const atPosition = (position: string) => {
              for (const { name, query } of queries) {
                expect({ position, name, page: live.entriesAsOf(query, position) }).toStrictEqual({ position, name, page: seen[i].get(name) });
              }
              for (const { name, query } of paged) {
                const key = `${name} paged`;
                expect({ position, key, pages: allPages((q) => live.entriesAsOf(q, position), query) }).toStrictEqual({
                  position,
                  key,
                  pages: seen[i].get(key),
                });
              }
            };
            atPosition(event.position);
            // A position between this event and the next (not in the log) sees the same as this event's.
            const next = log[i + 1];
            const between = encodePosition(Number(event.position) + 1);
            if (next && between < next.position) atPosition(between);
          });
        }),
      ),
      { numRuns: 50 },
    );
  });

  it('positionAt maps each recordedAt to the last change of the timeline at or before it, and an instant before the first to null', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) =>
        withReadModel((live) => {
          const log = toLog(scenario);
          const queries = queriesFor(scenario);
          const slugs = SLUGS.slice(0, scenario.timelines);

          const seen: Array<Map<string, EntryPage>> = [];
          for (const event of log) {
            live.apply([event]);
            seen.push(new Map(queries.map(({ name, query }) => [name, live.entries(query)])));
          }

          const first = Date.parse(log[0].recordedAt);
          for (const slug of slugs) {
            expect(live.positionAt(slug, new Date(first - 1).toISOString())).toBeNull();
            expect(live.positionAt(slug, '1970-01-01T00:00:00.000Z')).toBeNull();
          }

          /** Index of the last event recorded at or before the instant. */
          const lastAtOrBefore = (instant: string) => log.findLastIndex((e) => e.recordedAt <= instant);
          /** The position of the last event of the timeline's entries among log[0..i]. */
          const lastChangeOf = (slug: string, i: number): string | null => {
            for (let j = i; j >= 0; j--) {
              const e = log[j];
              if (e.stream.startsWith('entry-') && e.data.timeline === slug) return e.position;
            }
            return null;
          };

          const instants = new Set<string>();
          for (const e of log) {
            instants.add(e.recordedAt);
            instants.add(new Date(Date.parse(e.recordedAt) + 1).toISOString()); // just after: often between two events
          }
          for (const instant of instants) {
            const i = lastAtOrBefore(instant);
            for (const slug of slugs) {
              const position = live.positionAt(slug, instant);
              expect({ slug, instant, position }).toEqual({ slug, instant, position: lastChangeOf(slug, i) });
              // ... and what the timeline looks like as of that position is what it looked like at that instant.
              for (const { name, query } of queries.filter((q) => q.query.timeline === slug)) {
                expect({ instant, name, page: live.entriesAsOf(query, position ?? '') }).toStrictEqual({ instant, name, page: seen[i].get(name) });
              }
            }
          }
        }),
      ),
      { numRuns: 30 },
    );
  });

  it('a worked example: a later entry is absent, a later correction and retraction are not applied', () => {
    const scenario: Scenario = {
      timelines: 1,
      positionGaps: false,
      filters: [{ includeRetracted: false, order: 'asc' }],
      commands: [
        { ...baseRecord('announcement', '2024-06-13', 'Pledge'), by: 'alice', gapMs: 1000 },
        { ...baseRecord('delivery', '2022-03', 'Vests'), by: 'bob', gapMs: 1000 },
        { type: 'correct', target: 0, stale: false, changes: { title: 'Pledge, corrected', pledge: null }, by: 'alice', gapMs: 1000 },
        { type: 'retract', target: 1, by: 'bob', gapMs: 1000 },
      ],
    };
    const log = toLog(scenario);
    expect(log.map((e) => e.type)).toEqual(['TimelineOpened', 'AnnouncementRecorded', 'DeliveryRecorded', 'EntryCorrected', 'EntryRetracted']);
    withReadModel((live) => {
      live.apply(log);
      const query: EntryListQuery = { timeline: 'story-a', order: 'asc', limit: 500, includeRetracted: true };
      const titles = (position: string) =>
        live.entriesAsOf(query, position).items.map((e) => `${e.title}:${e.status}:${e.revision}:${'pledge' in e ? 'pledge' : '-'}`);
      expect(titles(log[0].position)).toEqual([]);
      expect(titles(log[1].position)).toEqual(['Pledge:active:0:pledge']);
      expect(titles(log[2].position)).toEqual(['Vests:active:0:-', 'Pledge:active:0:pledge']);
      expect(titles(log[3].position)).toEqual(['Vests:active:0:-', 'Pledge, corrected:active:1:-']);
      expect(titles(log[4].position)).toEqual(['Vests:retracted:1:-', 'Pledge, corrected:active:1:-']);
      expect(live.entriesAsOf({ ...query, includeRetracted: false }, log[4].position).items.map((e) => e.title)).toEqual(['Pledge, corrected']);
      expect(live.positionAt('story-a', log[2].recordedAt)).toBe(log[2].position);
      expect(live.positionAt('story-a', log[0].recordedAt)).toBeNull();
    });
  });
});

function baseRecord(kind: EntryKind, occurredOn: string, title: string): RecordCmd {
  return {
    type: 'record',
    timeline: 0,
    kind,
    occurredOn,
    title,
    actors: ['JP', 'UA'],
    withSource: false,
    announcer: 'JP',
    stage: 'announced',
    ...(kind === 'announcement' ? { pledge: { amount: 100, currency: 'USD' } } : {}),
    parties: ['JP', 'UA'],
    supplier: 'JP',
    recipient: 'UA',
  };
}
