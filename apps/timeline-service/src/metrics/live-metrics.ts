import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { AppMetrics, PREFIX } from './app-metrics';

/** Counts the live feed can report from where it knows them, read at scrape time. */
export interface LiveSources {
  /** Connected sockets of the /live namespace, e.g. () => namespace.sockets.size. */
  sockets?: () => number;
  /** Subscriptions (a socket or an SSE stream following a timeline), e.g. () => subscriptions.subscriptionCount(). */
  subscriptions?: () => number;
  /** Open SSE streams (GET /timelines/:slug/stream); each is also a subscription. */
  sseStreams?: () => number;
}

/**
 * The live feed's metrics. The gateway reports what happens (connections,
 * subscribes, updates pushed, resyncs); the gauges are either read from
 * sources given to track() at scrape time (exact, nothing to keep in step), or
 * kept with socketConnected()/socketDisconnected() when no source is given.
 * Every method is a few arithmetic operations: cheap enough for the hot path
 * (updatesPushed takes a count, so a batch is one call).
 */
@Injectable()
export class LiveMetrics {
  private sources: LiveSources = {};
  private socketCount = 0;
  private readonly subscribes: Counter;
  private readonly unsubscribes: Counter;
  private readonly pushed: Counter;
  private readonly resyncs: Counter<'reason'>;

  constructor(metrics: AppMetrics) {
    const registers = [metrics.registry];
    const self = this;
    new Gauge({
      name: `${PREFIX}live_sockets`,
      help: 'Sockets connected to the live feed (/live).',
      registers,
      collect() {
        this.set(self.sources.sockets ? self.sources.sockets() : self.socketCount);
      },
    });
    new Gauge({
      name: `${PREFIX}live_subscriptions`,
      help: 'Live subscriptions: a socket or an SSE stream following a timeline.',
      registers,
      collect() {
        const count = self.sources.subscriptions?.();
        if (count === undefined) this.reset();
        else this.set(count);
      },
    });
    new Gauge({
      name: `${PREFIX}live_sse_streams`,
      help: 'Open Server-Sent Events streams (GET /timelines/:slug/stream); each is also counted in live_subscriptions.',
      registers,
      collect() {
        this.set(self.sources.sseStreams?.() ?? 0);
      },
    });
    this.subscribes = new Counter({ name: `${PREFIX}live_subscribes_total`, help: 'Accepted live subscribes.', registers });
    this.unsubscribes = new Counter({ name: `${PREFIX}live_unsubscribes_total`, help: 'Live unsubscribes asked for by clients.', registers });
    this.pushed = new Counter({ name: `${PREFIX}live_updates_pushed_total`, help: 'Updates sent to live clients, replays on resume included.', registers });
    this.resyncs = new Counter({
      name: `${PREFIX}live_resyncs_total`,
      help: 'Clients told to reload a timeline: slow_consumer (a resync message), resync_required (a resume that missed too much).',
      labelNames: ['reason'],
      registers,
    });
  }

  /** Sources for the gauges, read at scrape time; a source given replaces the count kept by the methods below. */
  track(sources: LiveSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  socketConnected(): void {
    this.socketCount++;
  }

  socketDisconnected(): void {
    this.socketCount = Math.max(0, this.socketCount - 1);
  }

  subscribed(): void {
    this.subscribes.inc();
  }

  unsubscribed(): void {
    this.unsubscribes.inc();
  }

  updatesPushed(count = 1): void {
    if (count > 0) this.pushed.inc(count);
  }

  resynced(reason: string): void {
    this.resyncs.inc({ reason });
  }
}
