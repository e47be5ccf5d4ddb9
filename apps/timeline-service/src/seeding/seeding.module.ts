import { Module } from '@nestjs/common';
import { EntriesModule } from '../entries/entries.module';
import { TimelinesModule } from '../timelines/timelines.module';
import { SeederService } from './seeder.service';

@Module({ imports: [TimelinesModule, EntriesModule], providers: [SeederService], exports: [SeederService] })
export class SeedingModule {}
