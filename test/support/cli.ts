import { chainEvents } from '@timeline/audit';
import {
  decideEntry,
  decideTimeline,
  entryStream,
  evolveEntry,
  initialEntryState,
  timelineStream,
  type EntryCommand,
  type EntryState,
} from '@timeline/domain';
import { SqliteEventStore, type NewEvent, type RecordedEvent } from '@timeline/event-store';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTs } from './ts-child';
import { seededRandom } from '../../libs/projections/src/testing/seeded-random';
import { sampleDate, sampleDetails } from '../../libs/projections/src/testing/sample-log';

export const CLI_MAIN = join(__dirname, '..', '..', 'apps', 'timeline-cli', 'src', 'main.ts');

export interface CliRun {
  /** Exit code (null if killed by a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout then stderr, for assertions that do not care which. */
  output: string;
}

/**
 * Runs `timeline <args>` as a real child process (SWC compiles the entry, as
 * `npm run timeline` does), with DATA_DIR set and no KurrentDB or read-model
 * override inherited from the shell running the tests.
 */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawnTs(CLI_MAIN, args, { env: { EVENTSTORE_CONNECTION_STRING: '', READ_MODEL_FILE: '', SEED_DIR: '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` }));
  });
}

export const tempDir = (name: string): string => mkdtempSync(join(tmpdir(), `timeline-cli-${name}-`));

/** A copy of a data dir (event store and read model) to tamper with. */
export function copyDataDir(from: string, name: string): string {
  const to = tempDir(name);
  cpSync(from, to, { recursive: true });
  return to;
}

/** The first match's group, or a failure that shows the whole output. */
export function capture(run: CliRun, pattern: RegExp): string {
  const match = pattern.exec(run.output);
  if (!match) throw new Error(`no match for ${pattern} in:\n${run.output}`);
  return match[1];
}

/**
 * Builds a valid, hash-chained log of `count` events fast: timelines, then
 * entries of all three kinds with corrections and retractions interleaved,
 * each decided by the domain's own functions, chained with chainEvents, and
 * numbered as the embedded store numbers them. Deterministic for a given seed.
 */
export function generateLog(count: number, options: { timelines?: number; seed?: number } = {}): RecordedEvent[] {
  const random = seededRandom(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const slugs = Array.from({ length: options.timelines ?? 5 }, (_, i) => `story-${i}`);
  const start = Date.parse('2025-01-01T00:00:00.000Z');
  const events: RecordedEvent[] = [];
  let uuid = 0;
  const nextId = () => `00000000-0000-4000-8000-${(uuid++).toString(16).padStart(12, '0')}`;
  const last = new Map<string, RecordedEvent>();
  const push = (stream: string, event: { type: string; data: object }) => {
    const previous = last.get(stream);
    const fresh: NewEvent = {
      id: nextId(),
      type: event.type,
      data: event.data as Record<string, unknown>,
      metadata: { recordedBy: 'generator', correlationId: `c-${events.length}`, causationId: null, schemaVersion: 1 },
    };
    const [chained] = chainEvents(previous ? [previous] : [], [fresh]);
    const recorded: RecordedEvent = {
      ...chained,
      stream,
      revision: previous ? previous.revision + 1 : 0,
      position: String(events.length + 1).padStart(20, '0'),
      recordedAt: new Date(start + events.length * 10).toISOString(),
    };
    events.push(recorded);
    last.set(stream, recorded);
  };

  for (const slug of slugs) {
    if (events.length >= count) break;
    const [opened] = decideTimeline({ type: 'OpenTimeline', slug, title: `Story ${slug}`, description: `Generated story ${slug}` }, { status: 'none' });
    push(timelineStream(slug), opened);
  }
  const states = new Map<string, EntryState>();
  const active: string[] = [];
  while (events.length < count) {
    const i = events.length;
    const roll = random();
    let command: EntryCommand;
    if (active.length === 0 || roll < 0.6) {
      command = { type: 'RecordEntry', entryId: nextId(), timeline: pick(slugs), details: sampleDetails(i, pick) };
    } else {
      const slot = Math.floor(random() * active.length);
      const entryId = active[slot];
      const state = states.get(entryId) as Extract<EntryState, { revision: number }>;
      if (roll < 0.92) {
        command = { type: 'CorrectEntry', entryId, expectedRevision: state.revision, changes: { title: `Corrected ${i}`, occurredOn: sampleDate(pick) }, reason: 'a better source' };
      } else {
        command = { type: 'RetractEntry', entryId, reason: 'duplicate' };
        active[slot] = active[active.length - 1];
        active.pop();
      }
    }
    const state = states.get(command.entryId) ?? initialEntryState();
    const decided = decideEntry(command, state);
    for (const event of decided) push(entryStream(command.entryId), event);
    states.set(command.entryId, decided.reduce(evolveEntry, state));
    if (command.type === 'RecordEntry') active.push(command.entryId);
  }
  return events;
}

/** Writes a generated log into a new embedded store at dataDir/events.sqlite, in one transaction. */
export async function writeLog(dataDir: string, events: readonly RecordedEvent[]): Promise<void> {
  const store = new SqliteEventStore(join(dataDir, 'events.sqlite'));
  try {
    store.importEvents(events);
  } finally {
    await store.close();
  }
}


