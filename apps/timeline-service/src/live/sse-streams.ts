import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Position } from '@timeline/event-store';
import { TimelineNotFoundError } from '@timeline/domain';
import { TIMELINE_READ_MODEL, type TimelineReadModel } from '@timeline/projections';
import type { ServerResponse } from 'node:http';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { LiveMetrics } from '../metrics/live-metrics';
import { LiveFanout } from './live-fanout';
import { sendReplay } from './live-subscriptions';
import { resyncFrame, SSE_RETRY_MS, SseClient } from './sse-client';

/** For proxies: no caching or re-encoding (compression buffers), no buffering (nginx). */
const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

/**
 * The open SSE streams (GET /timelines/:slug/stream): each is a LiveClient of
 * the one LiveFanout, so it gets exactly what a socket subscribed from the
 * same position gets. Also the streams' heartbeat (one timer for all of them)
 * and their end on shutdown.
 */
@Injectable()
export class SseStreams implements OnModuleInit, BeforeApplicationShutdown {
  private readonly open = new Map<string, SseClient>();
  private sequence = 0;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private closing = false;

  constructor(
    @Inject(TIMELINE_READ_MODEL) private readonly readModel: TimelineReadModel,
    private readonly fanout: LiveFanout,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: LiveMetrics,
  ) {}

  onModuleInit(): void {
    this.metrics.track({ sseStreams: () => this.open.size });
    this.heartbeat = setInterval(() => {
      for (const client of this.open.values()) client.heartbeat();
    }, this.config.sseHeartbeatMs);
    this.heartbeat.unref();
  }

  /**
   * Starts the stream: what was missed after `after` (from the change log, as
   * a socket's resume), then live. Throws TimelineNotFoundError before
   * anything is written. Registration, headers and replay happen in one
   * synchronous step, so no change can slip between replay and live.
   */
  start(timeline: string, after: Position | undefined, response: ServerResponse): void {
    if (!this.readModel.timeline(timeline)) throw new TimelineNotFoundError(timeline);
    // Gone already (its 'close' has been and will not come again): nothing to follow for it.
    if (response.destroyed) return;
    const id = `sse:${++this.sequence}`;
    const subscriptions = this.fanout.subscriptions;
    const client = new SseClient(id, response, () => {
      this.open.delete(id);
      subscriptions.unsubscribe(id, timeline);
    });
    response.writeHead(200, STREAM_HEADERS);
    response.write(`retry: ${SSE_RETRY_MS}\n\n`);
    if (this.closing) return client.end(shutdownFrame);
    const outcome = subscriptions.subscribe(client, timeline, after);
    if (!outcome.ok) return client.end(resyncFrame({ timeline, reason: outcome.code }));
    this.open.set(id, client);
    sendReplay(client, timeline, outcome.replay, true);
    this.metrics.subscribed();
    this.metrics.updatesPushed(outcome.replay.length);
  }

  /** How many streams are open (metrics, tests). */
  count(): number {
    return this.open.size;
  }

  /**
   * On SIGTERM (and app.close()): every stream ends with a `shutdown` message;
   * an EventSource reconnects by itself, with Last-Event-ID, to whichever
   * instance takes it. A reader that does not read is cut after a second, so
   * open streams never hold the shutdown up.
   */
  beforeApplicationShutdown(): void {
    this.closing = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const client of [...this.open.values()]) client.end(shutdownFrame, 1000);
  }
}

const shutdownFrame = `event: shutdown\ndata: ${JSON.stringify({ reason: 'server shutting down: reconnect with Last-Event-ID' })}\n\n`;
