import type { EventStore } from '@timeline/event-store';
import { Projector, type TimelineReadModel } from '@timeline/projections';
import { progressReporter, rate } from '../progress';
import { cliConfig, describeStore, estimatedEvents, EXIT, openReadModel, openStore, say, seconds, showPosition, type ExitCode } from '../runtime';

export const REBUILD_HELP = `
Drops every projection of the read model (READ_MODEL_FILE, by default
$DATA_DIR/read-model.sqlite) and replays the whole log into it. Prints the
read model's digest before and after, the number of events, the time taken and
the throughput, and whether the two digests are equal.

Stop the service first: no instance may be projecting into the same read model
while it is rebuilt (instances with their own READ_MODEL_FILE may keep running).

Exit status: 0 when the digests are equal, or when the read model was not at the
log's head before (then they are expected to differ); 1 when it was at the head
and the rebuilt read model differs; 2 on a configuration error or a missing store.`;

export interface RebuildOutcome {
  before: string;
  after: string;
  events: number;
  elapsedMs: number;
  /** The read model was at the log's head before: its digest had to come out the same. */
  wasAtHead: boolean;
}

/** `timeline rebuild` */
export async function rebuildCommand(env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const config = cliConfig(env);
  const store = openStore(config, { mustExist: true });
  try {
    say(`event store: ${describeStore(config)}`);
    say(`read model:  ${config.readModelFile}`);
    const readModel = openReadModel(config, { mustExist: false });
    try {
      const outcome = await rebuildReadModel(store, readModel);
      if (outcome.before === outcome.after) {
        say('digests equal: yes: the rebuilt read model is identical to the one it replaced');
        return EXIT.ok;
      }
      if (!outcome.wasAtHead) {
        say('digests equal: no, as expected: the old read model was not at the log\'s head');
        return EXIT.ok;
      }
      say('digests equal: NO: digest mismatch: the old read model was at the log\'s head, yet it differs from what the log projects to');
      say('  (the old read model had been changed, or the log was; run verify against a copy of the old read model to see where)');
      return EXIT.finding;
    } finally {
      readModel.close();
    }
  } finally {
    await store.close();
  }
}

/** Rebuilds with progress and prints the figures; shared with import. */
export async function rebuildReadModel(store: EventStore, readModel: TimelineReadModel): Promise<RebuildOutcome> {
  const checkpoint = readModel.checkpoint();
  const head = await store.headPosition();
  const before = readModel.digest();
  const wasAtHead = checkpoint === head;
  say(`digest before: ${before} (checkpoint ${showPosition(checkpoint)}, log head ${showPosition(head)})`);
  if (!wasAtHead) {
    say(`note: the read model is not at the log's head (checkpoint ${showPosition(checkpoint)}, head ${showPosition(head)}): the digests are expected to differ`);
  }

  const result = await replayLog(store, readModel);
  say(`digest after:  ${result.digest} (checkpoint ${showPosition(readModel.checkpoint())})`);
  say(`rebuilt ${result.events} events in ${seconds(result.elapsedMs)} (${rate(result.events, result.elapsedMs)} events/s)`);
  return { before, after: result.digest, events: result.events, elapsedMs: result.elapsedMs, wasAtHead };
}

/** Projector.rebuild with the progress reporter: drops the read model and replays the whole log into it. */
export async function replayLog(store: EventStore, readModel: TimelineReadModel): Promise<{ events: number; digest: string; elapsedMs: number }> {
  const progress = progressReporter('rebuild', { total: estimatedEvents(store, await store.headPosition()) });
  const started = performance.now();
  try {
    const result = await new Projector(store, readModel).rebuild(({ events }) => progress.update(events));
    return { ...result, elapsedMs: performance.now() - started };
  } finally {
    progress.stop();
  }
}
