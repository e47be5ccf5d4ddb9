/**
 * rebuild: replays the whole log into the read model (Projector.rebuild: reset,
 * then readAll pages of REBUILD_PAGE_SIZE applied in order, checkpoint with each batch).
 * 1,000,000 events; 100,000 with --quick. The log is realistic: 5 timelines,
 * entries of all three kinds with corrections and retractions interleaved,
 * hash-chained (generateLog in libs/projections/src/testing/sample-log.ts), imported with importEvents.
 *
 * - ours:  Projector.rebuild into a SqliteReadModel file.
 * - floor: reading the same events from the same store (readAll pages of
 *          REBUILD_PAGE_SIZE, as rebuild reads them) without projecting.
 *
 * Options: overrides.events.
 */
import { SqliteEventStore, type Position } from '@timeline/event-store';
import { Projector, REBUILD_PAGE_SIZE, SqliteReadModel } from '@timeline/projections';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchFigures, Benchmark, BenchOptions } from './lib/bench';
import { gc, medianOf, nowMs, round } from './lib/stats';
import { generateLog } from './lib/workload';

export const rebuild: Benchmark = {
  name: 'rebuild',
  description:
    'Events/s replayed into the read model by Projector.rebuild (1,000,000 events; 100,000 with --quick), from the embedded store. ' +
    `floor: reading the same events (readAll pages of ${REBUILD_PAGE_SIZE.toLocaleString('en')}) without projecting.`,
  async run(options: BenchOptions): Promise<BenchFigures> {
    const count = options.overrides?.events ?? (options.quick ? 100_000 : 1_000_000);
    const storeFile = join(options.workDir, 'events.sqlite');
    let t = nowMs();
    {
      // Generate and import in one go; then let the log go before measuring.
      const log = generateLog(count);
      const store = new SqliteEventStore(storeFile);
      store.importEvents(log);
      await store.close();
    }
    gc();
    options.log(`generated and imported ${count} events in ${((nowMs() - t) / 1000).toFixed(1)} s`);

    const store = new SqliteEventStore(storeFile);
    try {
      return await medianOf(options.trials, async (trial) => {
        const figures: BenchFigures = { events: count };
        // floor: read every page, decode it, project nothing.
        t = nowMs();
        let read = 0;
        let after: Position | undefined;
        for (;;) {
          const page = await store.readAll({ after, limit: REBUILD_PAGE_SIZE }); // the pages a rebuild reads
          if (page.length === 0) break;
          read += page.length;
          after = page[page.length - 1].position;
        }
        const floorMs = nowMs() - t;
        if (read !== count) throw new Error(`floor read ${read} events, expected ${count}`);
        figures.floor_eps = round((read / floorMs) * 1000);
        gc();

        // ours: a fresh read model file each trial.
        const readModelFile = join(options.workDir, `read-model-${trial}.sqlite`);
        const readModel = new SqliteReadModel(readModelFile);
        try {
          t = nowMs();
          // The replay alone; the digest that proves it (the CLI prints it) is timed apart.
          const result = await new Projector(store, readModel).rebuild(undefined, { digest: false });
          const oursMs = nowMs() - t;
          t = nowMs();
          readModel.digest();
          figures.digest_s = round((nowMs() - t) / 1000, 2);
          if (result.events !== count) throw new Error(`rebuild replayed ${result.events} events, expected ${count}`);
          if (result.deadLetters > 0) throw new Error(`rebuild set aside ${result.deadLetters} dead letters`);
          figures.ours_eps = round((result.events / oursMs) * 1000);
          figures.ours_s = round(oursMs / 1000, 2);
        } finally {
          readModel.close();
          rmSync(readModelFile, { force: true });
          rmSync(`${readModelFile}-wal`, { force: true });
          rmSync(`${readModelFile}-shm`, { force: true });
        }
        options.log(`ours ${figures.ours_eps} events/s (${figures.ours_s} s), floor ${figures.floor_eps} events/s`);
        return figures;
      });
    } finally {
      await store.close();
    }
  },
};
