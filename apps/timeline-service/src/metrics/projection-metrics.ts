import { Inject, Injectable } from '@nestjs/common';
import { Projector } from '@timeline/projections';
import { Gauge } from 'prom-client';
import type { AppConfig } from '../config/app-config';
import { MonitoredEventStore } from '../health/monitored-event-store';
import { LAG_CAP, positionNumber, ProjectionStatus, type ProjectionSnapshot } from '../health/projection-status';
import { APP_CONFIG } from '../config/app-config.module';
import { AppMetrics, PREFIX } from './app-metrics';


/**
 * Where the read model stands, read at scrape time (gauges with a collect
 * callback): lag in events and in seconds, the checkpoint, dead letters, and
 * whether the store works. Nothing is computed between scrapes.
 */
@Injectable()
export class ProjectionMetrics {
  private reading: Promise<ProjectionSnapshot> | null = null;
  /** Lag is counted up to this many events (see ProjectionStatus). */
  private readonly lagLimit: number;

  constructor(
    metrics: AppMetrics,
    private readonly status: ProjectionStatus,
    private readonly projector: Projector,
    private readonly store: MonitoredEventStore,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.lagLimit = Math.max(LAG_CAP, config.readyMaxLag + 1);
    const registers = [metrics.registry];
    const self = this;
    new Gauge({
      name: `${PREFIX}projection_lag_events`,
      help: `Events in the log the read model has yet to apply (counted up to ${this.lagLimit}); absent while the store cannot be read.`,
      registers,
      async collect() {
        const { lag } = await self.snapshot();
        if (lag === null) this.reset();
        else this.set(lag);
      },
    });
    new Gauge({
      name: `${PREFIX}projection_lag_seconds`,
      help: 'Age of the oldest event the read model has yet to apply; 0 when caught up; absent while the store cannot be read.',
      registers,
      async collect() {
        const { lagSeconds } = await self.snapshot();
        if (lagSeconds === null) this.reset();
        else this.set(lagSeconds);
      },
    });
    new Gauge({
      name: `${PREFIX}projection_checkpoint`,
      help: 'The last log position the read model applied (the event number in the embedded store, the commit position in KurrentDB); 0 before the first.',
      registers,
      collect() {
        this.set(positionNumber(self.projector.checkpoint));
      },
    });
    new Gauge({
      name: `${PREFIX}projection_dead_letters`,
      help: 'Events the projector could not apply and set aside (see /health).',
      registers,
      collect() {
        this.set(self.projector.deadLetters);
      },
    });
    new Gauge({
      name: `${PREFIX}projection_stalled`,
      help: '1 while the projector is failing and retrying (see /health), else 0.',
      registers,
      collect() {
        this.set(self.projector.lastError === null ? 0 : 1);
      },
    });
    new Gauge({
      name: `${PREFIX}event_store_up`,
      help: '1 when the event store answers reads and took the last write; 0 when it refused one lately or cannot be read (see /health).',
      registers,
      async collect() {
        const { headError } = await self.snapshot();
        this.set(headError === null && self.store.currentFailures().length === 0 ? 1 : 0);
      },
    });
  }

  /** The gauges of one scrape are collected together: they share one reading of the store, the one in flight. */
  private snapshot(): Promise<ProjectionSnapshot> {
    this.reading ??= this.status.snapshot(this.lagLimit).finally(() => {
      this.reading = null;
    });
    return this.reading;
  }
}
