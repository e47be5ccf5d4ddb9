import { checkProjection, verifyChains, type ChainReport, type ProjectionReport } from '@timeline/audit';
import type { EventStore } from '@timeline/event-store';
import { progressReporter } from '../progress';
import {
  cliConfig,
  describeStore,
  estimatedEvents,
  EXIT,
  isEmbedded,
  openReadModel,
  openStore,
  readModelExists,
  say,
  type ExitCode,
} from '../runtime';

export const VERIFY_HELP = `
Checks two things and reports every problem found, one line each, naming the
stream, the revision, the position and what is wrong (the first break first),
then a summary line:

  1. the hash chains: every stream's revisions run 0, 1, 2, ... without gaps;
     every event's content matches its hash; every prevHash matches the hash of
     the event before it. With the embedded store, positions must also run
     1, 2, 3, ... so that a deleted last event of a stream is caught too.
  2. the read model: the whole log is replayed into an empty in-memory read
     model, and its digest must equal the stored read model's (both digests
     are printed; a read model behind the log is reported as such).

Exit status: 0 when both are clean; 1 when a problem was found; 2 on a
configuration error or a missing store. Reads only: safe while the service runs,
though a read model that is projecting meanwhile may show as behind.`;

export interface VerifyCommandOptions {
  /** false with --no-projection: hash chains only. */
  projection: boolean;
}

/** `timeline verify` */
export async function verifyCommand(options: VerifyCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const config = cliConfig(env);
  const store = openStore(config, { mustExist: true });
  try {
    say(`event store: ${describeStore(config)}`);
    const chains = await checkChains(store);

    let projection: ProjectionReport | null = null;
    if (!options.projection) {
      say('read model: not checked (--no-projection)');
    } else if (!readModelExists(config)) {
      say(`read model: none at ${config.readModelFile}, nothing to compare (rebuild creates it)`);
    } else {
      say(`read model: ${config.readModelFile}`);
      const readModel = openReadModel(config, { mustExist: true });
      try {
        projection = await checkReadModel(store, readModel);
      } finally {
        readModel.close();
      }
    }

    const projectionProblems = projection && !projection.matches ? Math.max(1, projection.differences.length) : 0;
    const total = chains.problems.length + projectionProblems;
    if (total === 0) {
      const readModel = projection ? `, and the read model matches the log (digest ${projection.storedDigest})` : '';
      say(`verify: OK: ${chains.events} events in ${chains.streams} streams, every hash chain intact${readModel}`);
      return EXIT.ok;
    }
    const first = chains.problems[0] ?? projection?.differences[0];
    const firstText = first ? `; the first: ${first.stream} revision ${first.revision} at position ${first.position}` : '';
    say(
      `verify: FAILED: ${total} problem${total === 1 ? '' : 's'} (${chains.problems.length} in the hash chains, ` +
        `${projectionProblems} in the read model)${firstText}`,
    );
    return EXIT.finding;
  } finally {
    await store.close();
  }
}

/** Verifies every stream's hash chain, printing one line per problem; shared with import. */
export async function checkChains(store: EventStore): Promise<ChainReport> {
  const head = await store.headPosition();
  const progress = progressReporter('hash chains', { total: estimatedEvents(store, head) });
  let report: ChainReport;
  try {
    report = await verifyChains(store, { sequentialPositions: isEmbedded(store), onProgress: (events) => progress.update(events) });
  } finally {
    progress.stop();
  }
  if (report.problems.length === 0) {
    say(`hash chains: ${report.events} events in ${report.streams} streams, all intact`);
  } else {
    say(`hash chains: ${report.events} events in ${report.streams} streams, ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}:`);
    for (const p of report.problems) say(`  ${p.stream} revision ${p.revision} at position ${p.position}: ${p.problem}`);
  }
  return report;
}

async function checkReadModel(store: EventStore, readModel: Parameters<typeof checkProjection>[1]): Promise<ProjectionReport> {
  const progress = progressReporter('projection', { total: estimatedEvents(store, await store.headPosition()) });
  let report: ProjectionReport;
  try {
    report = await checkProjection(store, readModel, { onProgress: (events) => progress.update(events) });
  } finally {
    progress.stop();
  }
  say(`  stored digest:   ${report.storedDigest} (checkpoint ${report.checkpoint ?? 'none'})`);
  say(`  replayed digest: ${report.replayedDigest} (${report.events} events, head ${report.head ?? 'none'})`);
  if (report.matches) {
    say('  the read model matches the log');
    return report;
  }
  say(`  read model problem: digest mismatch: ${report.explanation}`);
  for (const d of report.differences) say(`  ${d.stream} revision ${d.revision} at position ${d.position}: ${d.problem}`);
  return report;
}
