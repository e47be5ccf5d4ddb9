import { Module, type DynamicModule } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import type { AppConfig } from './config/app-config';
import { EntriesModule } from './entries/entries.module';
import { HealthController } from './health/health.controller';
import { LiveModule } from './live/live.module';
import { SeedingModule } from './seeding/seeding.module';
import { StoreModule } from './store/store.module';
import { TimelinesModule } from './timelines/timelines.module';

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [StoreModule.register(config), AuthModule.register(config), TimelinesModule, EntriesModule, SeedingModule, LiveModule, AuditModule],
      controllers: [HealthController],
    };
  }
}
