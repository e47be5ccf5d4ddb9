import { Global, Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { AppMetrics } from './app-metrics';
import { HttpMetrics } from './http-metrics';
import { LiveMetrics } from './live-metrics';
import { MetricsAccessGuard } from './metrics-access.guard';
import { MetricsController } from './metrics.controller';
import { ProjectionMetrics } from './projection-metrics';
import { StoreMetrics } from './store-metrics';

/**
 * GET /metrics, from a prom-client Registry of this app instance (and the
 * process's default metrics: timeline_* are ours, process_* and nodejs_* are
 * prom-client's):
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | timeline_event_store_append_duration_seconds | histogram | outcome |
 * | timeline_events_appended_total | counter | type |
 * | timeline_event_store_up | gauge | |
 * | timeline_projection_lag_events, timeline_projection_lag_seconds | gauge | |
 * | timeline_projection_checkpoint, timeline_projection_dead_letters, timeline_projection_stalled | gauge | |
 * | timeline_http_request_duration_seconds | histogram | method, route, status |
 * | timeline_live_sockets, timeline_live_subscriptions | gauge | |
 * | timeline_live_subscribes_total, timeline_live_unsubscribes_total, timeline_live_updates_pushed_total | counter | |
 * | timeline_live_resyncs_total | counter | reason |
 *
 * Global: StoreModule observes appends with StoreMetrics, the live gateway
 * reports to LiveMetrics, createApp mounts HttpMetrics.middleware.
 */
@Global()
@Module({
  imports: [HealthModule],
  controllers: [MetricsController],
  providers: [AppMetrics, StoreMetrics, HttpMetrics, ProjectionMetrics, LiveMetrics, MetricsAccessGuard],
  exports: [AppMetrics, StoreMetrics, HttpMetrics, LiveMetrics],
})
export class MetricsModule {
  // Built eagerly: its gauges register themselves.
  constructor(_projection: ProjectionMetrics) {}
}
