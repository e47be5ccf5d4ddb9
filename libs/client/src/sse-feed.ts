import { TimelineClient } from './http-client';
import { deliverUpdate, endFollowing, startFollowing, type Followed as FollowedTimeline } from './followed';
import { LiveFeed, LiveFeedError, type ConnectionState, type LiveFeedOptions, type LiveHandlers, type Subscription } from './live-client';
import type { LiveUpdate, Position, ResyncEvent } from './types';

/*
 * The live feed over Server-Sent Events (GET /timelines/:slug/stream), for
 * clients behind proxies that refuse WebSockets, or that would rather not
 * carry socket.io: one HTTP stream per timeline, read with fetch (Node 20+
 * and browsers alike; EventSource cannot send an Authorization header), with
 * the same handlers and the same resume as LiveFeed: every change after the
 * last position seen, exactly once, in order, across reconnects.
 */

/** What both transports offer: follow timelines with resume. */
export type TimelineFeed = Pick<LiveFeed, 'subscribe' | 'unsubscribe' | 'positionOf' | 'close'>;

export interface FeedOptions extends LiveFeedOptions {
  /** 'socket' (default): socket.io on /live, many timelines on one connection. 'sse': one HTTP stream per timeline. */
  transport?: 'socket' | 'sse';
}

/** A feed over the transport the options choose; the same subscribe() and handlers either way. */
export function openFeed(options: FeedOptions = {}): TimelineFeed {
  return options.transport === 'sse' ? new SseFeed(options) : new LiveFeed(options);
}

/** One SSE message as the stream sends it (WHATWG HTML §9.2). */
interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/**
 * A minimal SSE parser: fields id, event, data; comments and retry ignored.
 * Written here rather than taken from eventsource-parser because the
 * browser copy of this client is served unbundled (build-browser.ts), where
 * only the client's own files can be imported.
 */
export class SseParser {
  private buffer = '';
  private message: SseMessage = { id: null, event: '', data: '' };
  private hasData = false;

  constructor(private readonly onMessage: (message: SseMessage) => void) {}

  feed(text: string): void {
    this.buffer += text;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    // A trailing lone \r may be half of a \r\n: keep it with the unfinished line.
    this.buffer = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.hasData) this.onMessage({ ...this.message, data: this.message.data.slice(0, -1) });
      this.message = { id: null, event: '', data: '' };
      this.hasData = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.message.data += `${value}\n`;
      this.hasData = true;
    } else if (field === 'event') this.message.event = value;
    else if (field === 'id') this.message.id = value;
  }
}

interface Followed extends FollowedTimeline {
  /** Aborts the stream being read. */
  abort: AbortController | null;
}

/** The live feed over SSE; see LiveFeed for the contract, which is the same. */
export class SseFeed implements TimelineFeed {
  private readonly followed = new Map<string, Followed>();
  private readonly base: string;
  private readonly api: TimelineClient;
  private closed = false;

  constructor(private readonly options: LiveFeedOptions = {}) {
    this.base = (options.baseUrl ?? '').replace(/\/+$/, '');
    this.api = new TimelineClient({ baseUrl: options.baseUrl, apiKey: options.apiKey });
  }

  subscribe(timeline: string, handlers: LiveHandlers, options: { after?: Position | null } = {}): Subscription {
    if (this.closed) throw new LiveFeedError('closed', 'the live feed is closed', timeline);
    if (this.followed.has(timeline)) throw new LiveFeedError('invalid', `already subscribed to '${timeline}'`, timeline);
    const entry: Followed = { timeline, handlers, position: options.after ?? null, abort: null, ended: false, settle: null };
    const subscription = startFollowing(this.followed, entry, () => this.unsubscribe(timeline));
    void this.follow(entry);
    return subscription;
  }

  positionOf(timeline: string): Position | null {
    return this.followed.get(timeline)?.position ?? null;
  }

  async unsubscribe(timeline: string): Promise<void> {
    const entry = this.followed.get(timeline);
    if (entry) this.end(entry, new LiveFeedError('closed', `unsubscribed from '${timeline}'`, timeline), false);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of [...this.followed.values()]) this.end(entry, new LiveFeedError('closed', 'the live feed was closed', entry.timeline), false);
    this.connection('closed');
  }

  /** Reads the stream, and reconnects from the last position until the subscription ends. */
  private async follow(entry: Followed): Promise<void> {
    while (!entry.ended) {
      this.connection('connecting');
      const abort = (entry.abort = new AbortController());
      try {
        // A stream without a position starts from now, which a reconnect could
        // not name: start from the read model's checkpoint instead, exactly.
        if (entry.position === null) entry.position = (await this.api.health()).checkpoint;
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        if (this.options.apiKey !== undefined) headers.authorization = `Bearer ${this.options.apiKey}`;
        if (entry.position !== null) headers['last-event-id'] = entry.position;
        const response = await fetch(`${this.base}/timelines/${encodeURIComponent(entry.timeline)}/stream`, { headers, signal: abort.signal });
        if (response.status !== 200 || !response.body) {
          const body = (await response.json().catch(() => null)) as { code?: string; message?: string } | null;
          // Refusals end the subscription as LiveFeed's do; an outage (5xx) is retried.
          if (response.status < 500) return this.end(entry, refusal(entry.timeline, response.status, body), true);
          throw new Error(body?.message ?? `answered ${response.status}`);
        }
        this.connection('connected');
        entry.settle?.resolve(entry.position);
        entry.settle = null;
        entry.handlers.onLive?.(entry.position);
        const resync = await this.read(entry, response.body);
        if (resync) await this.resync(entry, resync);
      } catch (error) {
        if (entry.ended) return;
        this.connection('disconnected', error instanceof Error ? error.message : String(error));
      }
      if (!entry.ended) await delay(this.options.reconnectAfterServerDisconnectMs ?? 500);
    }
  }

  /** Hands each update on until the stream ends; returns the resync that ended it, if one did. */
  private async read(entry: Followed, body: ReadableStream<Uint8Array>): Promise<ResyncEvent | null> {
    let resync: ResyncEvent | null = null;
    const parser = new SseParser((message) => {
      if (message.event === 'resync') resync = JSON.parse(message.data) as ResyncEvent;
      else if (message.event === 'shutdown') this.options.onShutdown?.(JSON.parse(message.data) as { reason: string });
      else if (message.event.startsWith('entry.')) deliverUpdate(entry, JSON.parse(message.data) as LiveUpdate);
    });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done || entry.ended) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    if (!entry.ended) this.connection('disconnected', 'the stream ended');
    return resync;
  }

  /** As LiveFeed: slow_consumer resumes from the last position by itself; resync_required asks onResync for a new one. */
  private async resync(entry: Followed, event: ResyncEvent): Promise<void> {
    if (event.reason === 'slow_consumer') return;
    const onResync = entry.handlers.onResync;
    if (!onResync) {
      return this.end(entry, new LiveFeedError('resync_required', `the feed of '${entry.timeline}' cannot resume (${event.reason}): reload it over HTTP`, entry.timeline), true);
    }
    try {
      entry.position = (await onResync(event)) ?? null;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.end(entry, new LiveFeedError('resync_required', `reloading '${entry.timeline}' failed: ${message}`, entry.timeline), true);
    }
  }

  private end(entry: Followed, error: LiveFeedError, report: boolean): void {
    if (endFollowing(this.followed, entry, error, report)) entry.abort?.abort();
  }

  private connection(state: ConnectionState, detail?: string): void {
    this.options.onConnection?.(state, detail);
  }
}

/** The live feed's code for an HTTP refusal (as its acks name them: not_found for timeline_not_found). */
function refusal(timeline: string, status: number, body: { code?: string; message?: string } | null): LiveFeedError {
  const code = status === 404 ? 'not_found' : (body?.code ?? `http_${status}`);
  return new LiveFeedError(code, body?.message ?? `the stream answered ${status}`, timeline);
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
