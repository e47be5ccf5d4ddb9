import { isEntryStream, timelineStream } from '@timeline/domain';
import type { EventStore, Position, RecordedEvent } from '@timeline/event-store';
import { toTimelineJs, type EntryView, type TimelineReadModel } from '@timeline/projections';
import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
// The HTTP log's own mapping, so an export is byte-identical to GET /events.
import { logItem } from '../../../timeline-service/src/audit/audit.service';
import { progressReporter } from '../progress';
import { cliConfig, describeStore, estimatedEvents, EXIT, note, openReadModel, openStore, say, usageError, type ExitCode } from '../runtime';

export const EXPORT_FORMATS = ['ndjson', 'timelinejs'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_HELP = `
ndjson      the log itself, one event per line, in log order:
            {position, id, stream, type, revision, recordedAt, data, metadata}
            (the same lines as GET /events?format=ndjson; what import reads).
            Streamed page by page, so memory stays flat however long the log.
            With --timeline: only that timeline's events (its timeline-<slug>
            stream and the streams of its entries).
timelinejs  a Knight Lab TimelineJS document of one timeline (--timeline is
            required), from the read model: its active entries in date order
            (none yet: one event, the timeline's opening, as TimelineJS
            refuses a document without events).

Writes to --out (created when complete, never half-written) or to stdout.
Exit status: 0 when written; 2 on bad options, an unknown timeline, or a
missing store or read model.`;

export interface ExportOptions {
  format: ExportFormat;
  timeline?: string;
  out?: string;
}

/** `timeline export` */
export async function exportCommand(options: ExportOptions, env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  if (options.format === 'timelinejs' && !options.timeline) {
    throw usageError('export --format timelinejs needs --timeline <slug>: a TimelineJS document shows one timeline');
  }
  const config = cliConfig(env);
  const store = openStore(config, { mustExist: true });
  try {
    // Reports go to stderr when stdout carries the export itself.
    const report = options.out ? say : note;
    if (options.format === 'ndjson') {
      if (options.timeline && (await store.readStream(timelineStream(options.timeline), { maxCount: 1 })).length === 0) {
        throw usageError(`no timeline '${options.timeline}' in the log (${describeStore(config)})`);
      }
      const events = await writeOutput(options.out, (out) => exportNdjson(store, out, options.timeline));
      report(`exported ${events} events${options.timeline ? ` of timeline '${options.timeline}'` : ''} as NDJSON to ${options.out ? resolve(options.out) : 'stdout'}`);
      return EXIT.ok;
    }

    const slug = options.timeline!;
    const readModel = openReadModel(config, { mustExist: true });
    try {
      const checkpoint = readModel.checkpoint();
      const head = await store.headPosition();
      if (checkpoint !== head) {
        note(`warning: the read model is behind the log (checkpoint ${checkpoint ?? 'none'}, head ${head ?? 'none'}): the export shows the timeline as of the checkpoint; start the service or run rebuild to catch up`);
      }
      const document = timelineJs(readModel, slug);
      if (!document) throw usageError(`no timeline '${slug}' in the read model (${config.readModelFile})`);
      await writeOutput(options.out, (out) => write(out, `${JSON.stringify(document, null, 2)}\n`));
      report(`exported timeline '${slug}' (${document.events.length} entries) as TimelineJS to ${options.out ? resolve(options.out) : 'stdout'}`);
      return EXIT.ok;
    } finally {
      readModel.close();
    }
  } finally {
    await store.close();
  }
}

/**
 * The log, a page at a time, each page written (and drained) before the next
 * is read: never more than one page in memory.
 */
async function exportNdjson(store: EventStore, out: NodeJS.WritableStream, timeline?: string): Promise<number> {
  const ofTimeline = timeline === undefined ? () => true : (e: RecordedEvent) => e.stream === timelineStream(timeline) || (isEntryStream(e.stream) && e.data.timeline === timeline);
  const progress = progressReporter('export', { total: estimatedEvents(store, await store.headPosition()) });
  let after: Position | undefined;
  let read = 0;
  let written = 0;
  try {
    for (;;) {
      const page = await store.readAll({ after, limit: 1000 });
      if (page.length === 0) break;
      const lines = page.filter(ofTimeline).map((e) => `${JSON.stringify(logItem(e))}\n`);
      if (lines.length > 0) await write(out, lines.join(''));
      written += lines.length;
      read += page.length;
      after = page[page.length - 1].position;
      progress.update(read);
    }
  } finally {
    progress.stop();
  }
  return written;
}

/** One line of the exported log: everything import needs (the shape of the service's NDJSON). */
/** The timeline's active entries in date order, as TimelineJS shows them; undefined when there is no such timeline. */
function timelineJs(readModel: TimelineReadModel, slug: string) {
  const timeline = readModel.timeline(slug);
  if (!timeline) return undefined;
  const entries: EntryView[] = [];
  let cursor: string | undefined;
  do {
    const page = readModel.entries({ timeline: slug, order: 'asc', limit: 500, cursor, includeRetracted: false });
    entries.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return toTimelineJs(timeline, entries);
}

/**
 * Runs `produce` against the destination: a file written beside --out and
 * renamed onto it once complete (a failed export leaves no partial file), or
 * stdout.
 */
async function writeOutput<T>(out: string | undefined, produce: (stream: NodeJS.WritableStream) => Promise<T>): Promise<T> {
  if (!out) return produce(process.stdout);
  const target = resolve(out);
  const partial = `${target}.partial-${process.pid}`;
  const stream = createWriteStream(partial);
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => undefined); // raced below; an error after the race is over changes nothing
  try {
    await Promise.race([once(stream, 'open'), failed]);
    const result = await Promise.race([produce(stream), failed]);
    stream.end();
    await Promise.race([once(stream, 'finish'), failed]);
    renameSync(partial, target);
    return result;
  } catch (error) {
    stream.destroy();
    rmSync(partial, { force: true });
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw usageError(`cannot write ${target}: ${(error as Error).message}`);
    throw error;
  }
}

async function write(stream: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}
