import { WrongExpectedVersionError, type EventStore, type NewEvent, type RecordedEvent, type SqliteEventStore } from '@timeline/event-store';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { progressReporter, rate } from '../progress';
import { cliConfig, describeStore, EXIT, finding, isEmbedded, openReadModel, openStore, say, seconds, usageError, type ExitCode } from '../runtime';
import { replayLog } from './rebuild.command';
import { checkChains } from './verify.command';

export const IMPORT_HELP = `
Reads an NDJSON export (timeline export --format ndjson) line by line, checks
every line, and writes the events into an EMPTY event store (a new DATA_DIR, or
an empty KurrentDB); it refuses a store that already holds events. Then it
verifies the hash chains and rebuilds the read model, and prints its digest.

Embedded store: the events are restored as they were (ids, streams, revisions,
content and recordedAt), in one transaction, so the positions and the read model
come out identical to the original's (the same digest).
KurrentDB: the events are appended stream by stream, in log order, at their
expected revisions. Ids, revisions and content are kept, but KurrentDB keeps its
own clock: recordedAt becomes the time of the import, positions are KurrentDB's,
and the read model's digest differs from the original's.

Exit status: 0 when imported and the chains are intact; 1 when the store is not
empty, the import was refused, or the imported chains are broken; 2 when the
file is missing or a line is not an exported event (nothing is written then).`;

const BATCH = 1000;

/** `timeline import <file>` */
export async function importCommand(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const config = cliConfig(env);
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw usageError(`no such file: ${path}`);

  const store = openStore(config, { mustExist: false });
  try {
    say(`event store: ${describeStore(config)}`);
    const head = await store.headPosition();
    if (head !== null) {
      throw finding(`refusing to import: the event store is not empty (its log reaches position ${head}); import only into an empty store, e.g. a new DATA_DIR`);
    }

    // Pass 1: check every line before writing anything.
    const checked = await checkFile(path);
    say(`${path}: ${checked.events} events, every line valid`);

    // Pass 2: write, a batch at a time.
    const importer = isEmbedded(store) ? embeddedImporter(store) : appendingImporter(store);
    const progress = progressReporter('import', { total: checked.events });
    const started = performance.now();
    let imported = 0;
    try {
      for await (const batch of readBatches(path, BATCH)) {
        await importer.add(batch);
        imported += batch.length;
        progress.update(imported);
      }
      await importer.finish();
    } finally {
      progress.stop();
    }
    const elapsedMs = performance.now() - started;
    say(`imported ${imported} events in ${seconds(elapsedMs)} (${rate(imported, elapsedMs)} events/s)`);
    if (isEmbedded(store)) {
      say(
        checked.sequentialPositions
          ? 'ids, revisions, content and recordedAt kept; positions as in the file'
          : 'ids, revisions, content and recordedAt kept; positions renumbered 1, 2, 3, ... (the file\'s were not)',
      );
    } else {
      say('ids, revisions and content kept; recordedAt and positions are KurrentDB\'s own (the read model digest differs from the original\'s)');
    }

    const chains = await checkChains(store);

    const readModel = openReadModel(config, { mustExist: false });
    try {
      const rebuilt = await replayLog(store, readModel);
      say(`read model: ${config.readModelFile} rebuilt from ${rebuilt.events} events in ${seconds(rebuilt.elapsedMs)} (${rate(rebuilt.events, rebuilt.elapsedMs)} events/s)`);
      say(`read model digest: ${rebuilt.digest}`);
    } finally {
      readModel.close();
    }

    if (chains.problems.length > 0) {
      say(`import: done, but the imported log has ${chains.problems.length} hash chain problem(s), listed above`);
      return EXIT.finding;
    }
    say(`import: OK: ${imported} events`);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

interface Importer {
  add(events: RecordedEvent[]): Promise<void>;
  finish(): Promise<void>;
}

/**
 * The embedded store restores events only into an empty log
 * (SqliteEventStore.importEvents), so the batches are gathered and written in
 * one transaction: all or nothing, with the positions numbered as before.
 */
function embeddedImporter(store: SqliteEventStore): Importer {
  const events: RecordedEvent[] = [];
  return {
    async add(batch) {
      for (const e of batch) events.push(e);
    },
    async finish() {
      try {
        store.importEvents(events);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (/UNIQUE/.test(message)) throw usageError(`the file holds the same event id, or the same stream revision, twice (${message}); nothing was imported`);
        throw error;
      }
    },
  };
}

/**
 * Any other store (KurrentDB): appends in log order, each run of consecutive
 * events of one stream in one append at the expected revision, so a store
 * written meanwhile by someone else makes the import fail instead of interleave.
 */
function appendingImporter(store: EventStore): Importer {
  return {
    async add(batch) {
      for (let i = 0; i < batch.length; ) {
        let j = i + 1;
        while (j < batch.length && batch[j].stream === batch[i].stream) j++;
        const run = batch.slice(i, j);
        const first = run[0];
        try {
          await store.append(first.stream, run.map(toNew), first.revision === 0 ? 'no-stream' : first.revision - 1);
        } catch (error) {
          if (error instanceof WrongExpectedVersionError) {
            throw finding(`import stopped at ${first.stream} revision ${first.revision} (position ${first.position} in the file): ${error.message}`);
          }
          throw error;
        }
        i = j;
      }
    },
    async finish() {},
  };
}

const toNew = (e: RecordedEvent): NewEvent => ({ id: e.id, type: e.type, data: e.data, metadata: e.metadata });

/** Every line parsed and checked, streaming; throws a usage error naming the first bad line. */
async function checkFile(path: string): Promise<{ events: number; sequentialPositions: boolean }> {
  let events = 0;
  let sequentialPositions = true;
  let previous: RecordedEvent | undefined;
  for await (const { line, event } of readEvents(path)) {
    if (previous && !(event.position > previous.position)) {
      throw usageError(`${path} line ${line}: position ${event.position} does not come after ${previous.position}: the file is not in log order`);
    }
    events++;
    if (event.position !== String(events).padStart(20, '0')) sequentialPositions = false;
    previous = event;
  }
  return { events, sequentialPositions };
}

async function* readBatches(path: string, size: number): AsyncGenerator<RecordedEvent[]> {
  let batch: RecordedEvent[] = [];
  for await (const { event } of readEvents(path)) {
    batch.push(event);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function* readEvents(path: string): AsyncGenerator<{ line: number; event: RecordedEvent }> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      if (text.trim() === '') continue;
      yield { line: n, event: parseLine(text, `${path} line ${n}`) };
    }
  } finally {
    lines.close();
  }
}

/** One exported event, {position, id, stream, type, revision, recordedAt, data, metadata}, or a usage error saying what is wrong. */
export function parseLine(text: string, where: string): RecordedEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(`${where}: not JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw usageError(`${where}: not a JSON object`);
  const problems: string[] = [];
  const text1 = (key: string) => {
    if (typeof value[key] !== 'string' || value[key] === '') problems.push(`${key} must be a non-empty string`);
  };
  text1('position');
  text1('id');
  text1('stream');
  text1('type');
  if (!Number.isSafeInteger(value.revision) || (value.revision as number) < 0) problems.push('revision must be a whole number, 0 or more');
  if (typeof value.recordedAt !== 'string' || Number.isNaN(Date.parse(value.recordedAt))) problems.push('recordedAt must be an ISO-8601 time');
  if (!isObject(value.data)) problems.push('data must be an object');
  if (!isObject(value.metadata)) problems.push('metadata must be an object');
  else {
    const m = value.metadata;
    if (typeof m.recordedBy !== 'string') problems.push('metadata.recordedBy must be a string');
    if (typeof m.correlationId !== 'string') problems.push('metadata.correlationId must be a string');
    if (m.causationId !== null && typeof m.causationId !== 'string') problems.push('metadata.causationId must be a string or null');
    if (typeof m.schemaVersion !== 'number') problems.push('metadata.schemaVersion must be a number');
  }
  if (problems.length > 0) throw usageError(`${where}: ${problems.join('; ')}`);
  return {
    position: value.position as string,
    id: value.id as string,
    stream: value.stream as string,
    type: value.type as string,
    revision: value.revision as number,
    recordedAt: value.recordedAt as string,
    data: value.data as RecordedEvent['data'],
    metadata: value.metadata as RecordedEvent['metadata'],
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
