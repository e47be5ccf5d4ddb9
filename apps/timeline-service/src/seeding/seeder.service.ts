import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EntryIdConflictError, TimelineAlreadyExistsError } from '@timeline/domain';
import { StoreUnavailableError } from '@timeline/event-store';
import type { AppConfig } from '../config/app-config';
import type { CommandContext } from '../common/command-context';
import { EntriesService } from '../entries/entries.service';
import { RecordEntryPipe } from '../entries/record-entry.pipe';
import { APP_CONFIG } from '../config/app-config.module';
import { TimelinesService } from '../timelines/timelines.service';
import { readSeedFiles } from './seed-file';

/** How often seeding is tried again while the event store is unavailable at start. */
const RETRY_MS = 5_000;

/**
 * Records seeds/*.json on start. Idempotent by construction: seed entries
 * carry fixed entryIds, so recording them again is a retry that appends
 * nothing, and an opened timeline is left as it is. That is also why, when the
 * event store is unavailable at start (KurrentDB not up yet), the service
 * starts anyway, serving what its read model has, and seeds once the store
 * answers, instead of exiting.
 *
 * A seed entry whose id the log already holds with other content was recorded
 * from an earlier version of the seed file: the log is the record, so it is left
 * as it is (with a warning saying how to bring it up to date) and seeding goes
 * on. Refusing would stop every start of a data dir seeded before the file was
 * corrected.
 */
@Injectable()
export class SeederService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Seeder');
  private retry: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly timelines: TimelinesService,
    private readonly entries: EntriesService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.seedOnStart) await this.seedOrRetry();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.retry);
  }

  private async seedOrRetry(): Promise<void> {
    try {
      await this.seed();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      this.logger.warn(`the event store is unavailable, seeding again in ${RETRY_MS / 1000} s: ${error.message}`);
      this.retry = setTimeout(() => void this.seedOrRetry().catch((e: unknown) => this.logger.error(`seeding failed: ${String(e)}`)), RETRY_MS);
    }
  }

  async seed(): Promise<{ timelines: number; entries: number; leftAsRecorded: number }> {
    const context: CommandContext = { recordedBy: 'seed', correlationId: 'seed', causationId: null };
    const pipe = new RecordEntryPipe();
    let timelines = 0;
    let entries = 0;
    let leftAsRecorded = 0;
    for (const { file, seed } of readSeedFiles(this.config.seedDir)) {
      const { slug, title, description } = seed.timeline;
      try {
        await this.timelines.open(slug, title, description ?? '', context);
        timelines++;
      } catch (error) {
        if (!(error instanceof TimelineAlreadyExistsError)) throw error;
      }
      for (const body of seed.entries) {
        try {
          await this.entries.record(slug, pipe.transform(body), context);
          entries++;
        } catch (error) {
          if (!(error instanceof EntryIdConflictError)) throw error;
          leftAsRecorded++;
          this.logger.warn(
            `${file}: entry ${String(body.entryId)} was recorded from an earlier version of the seed and differs from it; ` +
              `left as recorded (correct it with PATCH /entries/${String(body.entryId)} to bring it up to date)`,
          );
        }
      }
      this.logger.log(`${file}: timeline '${slug}' with ${seed.entries.length} entries in place`);
    }
    return { timelines, entries, leftAsRecorded };
  }
}
