import type { ServerResponse } from 'node:http';
import type { LiveClient, LiveUpdate } from './live-subscriptions';

/*
 * The server side of one Server-Sent Events stream: how LiveSubscriptions'
 * sends become writes on an HTTP response. The stream follows one timeline, so
 * a resync (nothing more can follow) ends it. Written by hand rather than with
 * a library: the format is four field names (WHATWG HTML §9.2), and the
 * Node libraries for it (better-sse, Nest's @Sse) encode each message per
 * stream, where we encode a change once for every stream it goes to.
 */

/** How long a browser's EventSource waits before it reconnects (the `retry:` field), in ms. */
export const SSE_RETRY_MS = 2000;

/** What a stream sends when it can continue no further, as the socket's `resync` event does. */
export interface ResyncMessage {
  timeline: string;
  /** resync_required: reload the timeline and follow it after the snapshot's position; slow_consumer: reconnect with Last-Event-ID. */
  reason: string;
}

/**
 * One change as an SSE message: `id` its position, `event` its type, `data`
 * the JSON of the socket.io `update` (JSON.stringify leaves no newline, so one
 * data line). Kept per update object, which LiveSubscriptions shares between
 * every client it sends one change to: encoded once for all streams.
 */
const frames = new WeakMap<LiveUpdate, Buffer>();
export function sseFrame(update: LiveUpdate): Buffer {
  let frame = frames.get(update);
  // A Buffer, so no stream encodes it again (a string is measured and encoded on every write).
  if (frame === undefined) frames.set(update, (frame = Buffer.from(`id: ${update.position}\nevent: ${update.type}\ndata: ${JSON.stringify(update)}\n\n`)));
  return frame;
}

export const resyncFrame = (message: ResyncMessage): string => `event: resync\ndata: ${JSON.stringify(message)}\n\n`;

/**
 * An HTTP response seen as a LiveClient. `queued()` counts the messages
 * written since the response last could take more (write() returned false
 * until 'drain'): engine.io's writeBuffer for a socket, so LIVE_MAX_QUEUED
 * bounds a reader that stopped reading in the same unit, beyond the 16 KB the
 * stream buffers anyway.
 */
export class SseClient implements LiveClient {
  private pending = 0;
  private ended = false;

  constructor(
    readonly id: string,
    private readonly response: ServerResponse,
    /** Called once when the stream ends, whoever ends it. */
    private readonly onEnd: () => void,
  ) {
    response.on('drain', () => (this.pending = 0));
    response.on('close', () => this.finish());
  }

  send(update: LiveUpdate): void {
    this.write(sseFrame(update));
  }

  sendBatch(_timeline: string, updates: readonly LiveUpdate[]): void {
    // One write for the whole replay: SSE has no batch message, but a reader
    // parses a chunk of many messages as cheaply as one.
    this.write(Buffer.concat(updates.map(sseFrame)));
  }

  queued(): number {
    return this.pending;
  }

  resync(timeline: string, reason: string): void {
    this.end(resyncFrame({ timeline, reason }));
  }

  /**
   * A comment line: keeps proxies from closing an idle stream, and is ignored
   * by readers. Not while earlier writes still wait: the stream is not idle,
   * and a reader that stopped reading must not collect heartbeats without bound.
   */
  heartbeat(): void {
    if (this.pending === 0) this.write(': heartbeat\n\n');
  }

  /**
   * Ends the stream after `last`. A reader that does not read would keep the
   * connection (and what is buffered for it) open: it is cut after `graceMs`.
   */
  end(last = '', graceMs = 5000): void {
    if (this.ended) return;
    this.write(last);
    this.finish();
    this.response.end();
    if (!this.response.writableFinished) {
      const timer = setTimeout(() => this.response.destroy(), graceMs);
      timer.unref();
      this.response.once('finish', () => clearTimeout(timer));
    }
  }

  get open(): boolean {
    return !this.ended;
  }

  private write(text: string | Buffer): void {
    if (this.ended || text.length === 0) return;
    if (this.response.write(text)) this.pending = 0;
    else this.pending++;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
  }
}
