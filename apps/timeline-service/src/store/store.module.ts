import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { openEventStore, type EventStore } from '@timeline/event-store';
import { Projector, SqliteReadModel, TIMELINE_READ_MODEL, type TimelineReadModel } from '@timeline/projections';
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { MonitoredEventStore } from '../health/monitored-event-store';
import { StoreMetrics } from '../metrics/store-metrics';
import { EVENT_STORE } from './store.tokens';

@Global()
@Module({})
export class StoreModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Store');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TIMELINE_READ_MODEL) private readonly readModel: TimelineReadModel,
    private readonly projector: Projector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  static register(config: AppConfig): DynamicModule {
    return {
      module: StoreModule,
      providers: [
        // The one place an adapter is chosen: KurrentDB when a connection string
        // is configured, the embedded SQLite store otherwise. The app uses it
        // through a monitor that remembers whether it lately refused a write or
        // a read, for /health (the adapter itself is its `inner`), and that
        // times every append for /metrics when the app has metrics (the CLI has none).
        {
          provide: MonitoredEventStore,
          inject: [{ token: StoreMetrics, optional: true }],
          useFactory: (metrics: StoreMetrics | undefined) =>
            new MonitoredEventStore(
              openEventStore({
                connectionString: config.eventStoreConnectionString,
                sqliteFile: join(config.dataDir, 'events.sqlite'),
                pollIntervalMs: config.pollIntervalMs,
              }),
              { observer: metrics ?? undefined },
            ),
        },
        { provide: EVENT_STORE, useExisting: MonitoredEventStore },
        // The read model's adapter, chosen here as the event store's is above.
        { provide: TIMELINE_READ_MODEL, useFactory: () => new SqliteReadModel(config.readModelFile) },
        {
          provide: Projector,
          inject: [EVENT_STORE, TIMELINE_READ_MODEL],
          useFactory: (store: EventStore, readModel: TimelineReadModel) => new Projector(store, readModel, new Logger('Projector')),
        },
      ],
      exports: [EVENT_STORE, MonitoredEventStore, TIMELINE_READ_MODEL, Projector],
    };
  }

  onModuleInit(): void {
    const where = this.config.eventStoreConnectionString ? 'KurrentDB' : `SQLite in ${this.config.dataDir}`;
    this.logger.log(`event store: ${where}; read model: ${this.config.readModelFile}`);
    this.projector.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.projector.stop();
    await this.store.close();
    this.readModel.close();
  }
}
