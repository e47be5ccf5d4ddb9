import { Module, type DynamicModule } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import type { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/app-config.module';
import { EntriesModule } from './entries/entries.module';
import { FeedsModule } from './feeds/feeds.module';
import { HealthModule } from './health/health.module';
import { LiveModule } from './live/live.module';
import { LoggingModule, type LoggingOptions } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { SearchModule } from './search/search.module';
import { SeedingModule } from './seeding/seeding.module';
import { StoreModule } from './store/store.module';
import { TimelinesModule } from './timelines/timelines.module';

export interface AppModuleOptions {
  /** Default: the config's LOG_LEVEL and LOG_FORMAT, to stdout. */
  logging?: Partial<LoggingOptions>;
}

@Module({})
export class AppModule {
  static register(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggingModule.forRoot({ level: config.logLevel, format: config.logFormat, ...options.logging }),
        MetricsModule,
        StoreModule.register(config),
        AuthModule.register(config),
        HealthModule,
        TimelinesModule,
        EntriesModule,
        SearchModule,
        SeedingModule,
        LiveModule,
        AuditModule,
        FeedsModule,
      ],
    };
  }
}
