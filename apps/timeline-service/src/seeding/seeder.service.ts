import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { TimelineAlreadyExistsError } from '@timeline/domain';
import type { AppConfig } from '../config/app-config';
import type { CommandContext } from '../common/command-context';
import { EntriesService } from '../entries/entries.service';
import { RecordEntryPipe } from '../entries/record-entry.pipe';
import { APP_CONFIG } from '../store/store.tokens';
import { TimelinesService } from '../timelines/timelines.service';
import { readSeedFiles } from './seed-file';

/**
 * Records seeds/*.json on start. Idempotent by construction: seed entries
 * carry fixed entryIds, so recording them again is a retry that appends
 * nothing, and an opened timeline is left as it is.
 */
@Injectable()
export class SeederService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Seeder');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly timelines: TimelinesService,
    private readonly entries: EntriesService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.seedOnStart) await this.seed();
  }

  async seed(): Promise<{ timelines: number; entries: number }> {
    const context: CommandContext = { recordedBy: 'seed', correlationId: 'seed', causationId: null };
    const pipe = new RecordEntryPipe();
    let timelines = 0;
    let entries = 0;
    for (const { file, seed } of readSeedFiles(this.config.seedDir)) {
      const { slug, title, description } = seed.timeline;
      try {
        await this.timelines.open(slug, title, description ?? '', context);
        timelines++;
      } catch (error) {
        if (!(error instanceof TimelineAlreadyExistsError)) throw error;
      }
      for (const body of seed.entries) {
        await this.entries.record(slug, pipe.transform(body), context);
        entries++;
      }
      this.logger.log(`${file}: timeline '${slug}' with ${seed.entries.length} entries in place`);
    }
    return { timelines, entries };
  }
}
