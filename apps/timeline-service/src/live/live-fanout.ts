import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Projector, TIMELINE_READ_MODEL, type TimelineReadModel } from '@timeline/projections';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { LiveMetrics } from '../metrics/live-metrics';
import { LiveSubscriptions } from './live-subscriptions';

/**
 * The one LiveSubscriptions of the service, fed by the projector: the socket.io
 * gateway and the SSE streams both register their clients here, so resume,
 * replay, the replay cache and the slow-reader bound are written (and held) once.
 */
@Injectable()
export class LiveFanout implements OnModuleInit, OnModuleDestroy {
  readonly subscriptions: LiveSubscriptions;
  private stopListening: (() => void) | null = null;

  constructor(
    @Inject(TIMELINE_READ_MODEL) readModel: TimelineReadModel,
    private readonly projector: Projector,
    @Inject(APP_CONFIG) config: AppConfig,
    metrics: LiveMetrics,
  ) {
    this.subscriptions = new LiveSubscriptions(readModel, { maxQueued: config.liveMaxQueued, maxReplay: config.liveMaxReplay }, metrics);
  }

  onModuleInit(): void {
    this.stopListening = this.projector.onChanges((changes) => this.subscriptions.publish(changes));
  }

  onModuleDestroy(): void {
    this.stopListening?.();
  }
}
