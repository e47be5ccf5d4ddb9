import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { EventStore, Position, RecordedEvent } from '@timeline/event-store';
import type { AppConfig } from '../../../timeline-service/src/config/app-config';
import { AppConfigModule } from '../../../timeline-service/src/config/app-config.module';
import { SeederService } from '../../../timeline-service/src/seeding/seeder.service';
import { SeedingModule } from '../../../timeline-service/src/seeding/seeding.module';
import { StoreModule } from '../../../timeline-service/src/store/store.module';
import { EVENT_STORE } from '../../../timeline-service/src/store/store.tokens';
import { cliConfig, describeStore, EXIT, say, type ExitCode } from '../runtime';

export const SEED_HELP = `
Does what npm start does on a first start: records the timelines and entries of
SEED_DIR/*.json (default ./seeds) with the service's own seeder. Idempotent:
seed entries carry fixed ids, so a second run records nothing. The read model is
brought up to date as well.

Exit status: 0 when the seeds are in place; 2 on a configuration error or an
invalid seed file.`;

/**
 * The service's store and seeding, without HTTP or the live feed: the seeder
 * with exactly the services it runs with in the app (AppModule.register uses
 * the same AppConfigModule, StoreModule and SeedingModule).
 */
@Module({})
class SeedCommandModule {
  static register(config: AppConfig): DynamicModule {
    return { module: SeedCommandModule, imports: [AppConfigModule.forRoot(config), StoreModule.register(config), SeedingModule] };
  }
}

/** `timeline seed` */
export async function seedCommand(env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  // The seeder runs on request here, not on bootstrap.
  const config: AppConfig = { ...cliConfig(env), seedOnStart: false };
  say(`event store: ${describeStore(config)}`);
  say(`seeds:       ${config.seedDir}`);
  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(SeedCommandModule.register(config), { logger: ['error', 'warn'], abortOnError: false });
    const store = app.get<EventStore>(EVENT_STORE);
    const before = await store.headPosition();
    const seeded = await app.get(SeederService).seed();
    const recorded = await eventsAfter(store, before);

    say(`seed files hold ${seeded.entries} entries; ${seeded.timelines} timeline${seeded.timelines === 1 ? '' : 's'} opened now`);
    if (seeded.leftAsRecorded > 0) {
      say(`${seeded.leftAsRecorded} seed entries differ from what an earlier seed file recorded: left as recorded (see the warnings above)`);
    }
    if (recorded.length === 0) {
      say(`recorded nothing: everything in the seeds is already in the log (head ${before ?? 'none'})`);
    } else {
      const byType = new Map<string, number>();
      for (const e of recorded) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
      const types = [...byType].map(([type, n]) => `${n} ${type}`).join(', ');
      say(`recorded ${recorded.length} events (${types}) at positions ${recorded[0].position} to ${recorded[recorded.length - 1].position}`);
      for (const stream of new Set(recorded.filter((e) => e.type === 'TimelineOpened').map((e) => e.stream))) say(`  opened ${stream}`);
    }
    say(`seed: OK: log head ${(await store.headPosition()) ?? 'none'}`);
    return EXIT.ok;
  } finally {
    await app?.close();
  }
}

async function eventsAfter(store: EventStore, after: Position | null): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let from = after ?? undefined;
  for (;;) {
    const page = await store.readAll({ after: from, limit: 1000 });
    if (page.length === 0) return events;
    events.push(...page);
    from = page[page.length - 1].position;
  }
}
