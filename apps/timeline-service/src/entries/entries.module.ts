import { Module } from '@nestjs/common';
import { TimelinesModule } from '../timelines/timelines.module';
import { EntriesController } from './entries.controller';
import { EntriesService } from './entries.service';

@Module({ imports: [TimelinesModule], controllers: [EntriesController], providers: [EntriesService], exports: [EntriesService] })
export class EntriesModule {}
