import { Global, Inject, Logger, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { AccessGuard } from './access.guard';
import { ApiKeyRegistry } from './api-keys';
import { WriteThrottlerGuard } from './write-throttler.guard';

@Global()
@Module({})
export class AuthModule implements OnModuleInit {
  constructor(
    private readonly keys: ApiKeyRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  static register(config: AppConfig): DynamicModule {
    return {
      module: AuthModule,
      imports: [ThrottlerModule.forRoot({ throttlers: [{ name: 'writes', ttl: 60_000, limit: config.rateLimitWritesPerMinute }] })],
      providers: [
        { provide: ApiKeyRegistry, useValue: new ApiKeyRegistry(config.apiKeys) },
        // Order matters: who you are first, then how often you may write.
        { provide: APP_GUARD, useClass: AccessGuard },
        { provide: APP_GUARD, useClass: WriteThrottlerGuard },
      ],
      exports: [ApiKeyRegistry, ThrottlerModule],
    };
  }

  onModuleInit(): void {
    const logger = new Logger('Access');
    if (this.keys.open) {
      logger.warn(
        '*** DEVELOPMENT MODE: no API keys configured (API_KEYS or API_KEYS_FILE). Every request is allowed, ' +
          'writes are recorded as "anonymous". Never run like this where the service can be reached by others. ***',
      );
    } else {
      logger.log(`${this.config.apiKeys.length} API keys; reads are ${this.config.publicReads ? 'public' : 'for key holders only'}`);
    }
  }
}
