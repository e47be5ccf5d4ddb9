import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import type { AppendObservation, AppendObserver } from '../health/monitored-event-store';
import { AppMetrics, PREFIX } from './app-metrics';

/** Appends to the event store, as MonitoredEventStore sees them (StoreModule passes this as its observer). */
@Injectable()
export class StoreMetrics implements AppendObserver {
  private readonly duration: Histogram<'outcome'>;
  private readonly appendedEvents: Counter<'type'>;

  constructor(metrics: AppMetrics) {
    this.duration = new Histogram({
      name: `${PREFIX}event_store_append_duration_seconds`,
      help: 'Time to append to the event store, by outcome: ok, conflict (wrong expected revision), unavailable, error. The embedded store commits appends that arrive together in one transaction.',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
    this.appendedEvents = new Counter({
      name: `${PREFIX}events_appended_total`,
      help: 'Events appended to the event store by this instance, by event type.',
      labelNames: ['type'],
      registers: [metrics.registry],
    });
  }

  appended({ events, outcome, seconds }: AppendObservation): void {
    this.duration.observe({ outcome }, seconds);
    if (outcome !== 'ok') return;
    for (const event of events) this.appendedEvents.inc({ type: event.type });
  }
}
