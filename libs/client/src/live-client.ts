import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { deliverUpdate, endFollowing, startFollowing, type Followed as FollowedTimeline } from './followed';
import type { LiveAck, LiveErrorCode, LiveUpdate, LiveUpdates, Position, ResyncEvent, ShutdownEvent, SubscribeMessage } from './types';

export type LiveSocketOptions = Partial<ManagerOptions & SocketOptions>;

export interface LiveConnectionOptions {
  /** Where the service is, e.g. http://localhost:3000. Default '': the page's own origin. */
  baseUrl?: string;
  /** Sent in the handshake as `auth.token`: needed only when the service's reads are not public. */
  apiKey?: string;
  /** Passed to socket.io-client's io(), e.g. `{ transports: ['websocket'] }`. */
  socket?: LiveSocketOptions;
}

/**
 * A socket.io socket on the service's /live namespace, not yet wrapped in a
 * LiveFeed: for callers that speak the protocol themselves (tests, tools).
 */
export function openLiveSocket(options: LiveConnectionOptions = {}): Socket {
  const base = (options.baseUrl ?? '').replace(/\/+$/, '');
  const socketOptions: LiveSocketOptions = { ...(options.socket ?? {}) };
  if (options.apiKey !== undefined) socketOptions.auth = { ...(socketOptions.auth as object | undefined), token: options.apiKey };
  return io(`${base}/live`, socketOptions);
}

/** A subscribe or unsubscribe the server refused, or a subscription that cannot continue. */
export class LiveFeedError extends Error {
  override readonly name = 'LiveFeedError';
  constructor(
    /** invalid, not_found, resync_required, rate_limited, internal; or closed (the feed or subscription was closed). */
    readonly code: LiveErrorCode | 'closed' | (string & {}),
    message: string,
    readonly timeline: string,
  ) {
    super(message);
  }
}

export interface LiveHandlers {
  /** Every change of the timeline after the subscription's position, exactly once, in log order. */
  onUpdate(update: LiveUpdate): void;
  /** The server acknowledged a (re)subscription: the feed is live again. */
  onLive?(position: Position | null): void;
  /**
   * The feed cannot continue from the last position: a resume missed more
   * changes than the server replays (`resync_required`), or the server dropped
   * the subscription (`resync`, e.g. slow_consumer). Reload the timeline over
   * HTTP and return the new snapshot's position: the feed subscribes again
   * after it. Without this handler the subscription ends with onError, because
   * continuing from anywhere else would silently skip changes.
   */
  onResync?(event: ResyncEvent): Promise<Position | null> | Position | null;
  /** A refusal (not_found, invalid, rate_limited, ...) or a failed resync; the subscription has ended. */
  onError?(error: LiveFeedError): void;
}

export interface Subscription {
  readonly timeline: string;
  /** The last position received for this timeline: where a resume starts. */
  readonly position: Position | null;
  /** Resolves with the position once the server first acknowledges; rejects with a LiveFeedError if it refuses. */
  readonly ready: Promise<Position | null>;
  /** Stops following the timeline: no handler is called afterwards. */
  unsubscribe(): Promise<void>;
}

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface LiveFeedOptions extends LiveConnectionOptions {
  /** Called on every connection change: for a status line. `shutdown` arrives before a server goes away. */
  onConnection?(state: ConnectionState, detail?: string): void;
  /** The server said it is shutting down; socket.io reconnects on its own once the connection closes. */
  onShutdown?(event: ShutdownEvent): void;
  /**
   * After a server-side disconnect ('io server disconnect') socket.io does not
   * reconnect by itself; we do, after this many ms, since behind a load
   * balancer another instance takes us. Default 500; null: stay disconnected.
   */
  reconnectAfterServerDisconnectMs?: number | null;
}

interface Followed extends FollowedTimeline {
  /** Counts subscribe attempts, so the ack of a superseded one (before a reconnect) is ignored. */
  attempt: number;
  /** A resync is in progress: updates are ignored until it re-subscribes. */
  resyncing: boolean;
}

/**
 * The live feed with automatic resume. It remembers, per timeline, the last
 * position it received, and on every (re)connect subscribes again with
 * `after` = that position. The server then replays exactly the changes after
 * it before continuing live, so a dropped connection, a server restart or a
 * move to another instance loses nothing; and since positions only grow, any
 * update at or before the remembered position is dropped here, so nothing is
 * delivered twice either.
 */
export class LiveFeed {
  /** The underlying socket.io socket (for diagnostics and tests). */
  readonly socket: Socket;
  private readonly followed = new Map<string, Followed>();
  private readonly options: LiveFeedOptions;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /**
   * Whether resumes ask for a batched replay (`batch: true`). Turned off for
   * good if the server refuses the field (a server from before `updates`
   * existed answers `invalid` to a field it does not know).
   */
  private batch = true;

  constructor(options: LiveFeedOptions = {}) {
    this.options = options;
    this.socket = openLiveSocket(options);
    this.socket.on('connect', () => {
      options.onConnection?.('connected');
      for (const entry of this.followed.values()) this.sendSubscribe(entry);
    });
    this.socket.on('disconnect', (reason) => {
      // Nothing is acknowledged on a dead connection: every subscription is re-sent on connect.
      for (const entry of this.followed.values()) entry.attempt += 1;
      if (this.closed) return;
      options.onConnection?.('disconnected', reason);
      const delay = options.reconnectAfterServerDisconnectMs === undefined ? 500 : options.reconnectAfterServerDisconnectMs;
      if (reason === 'io server disconnect' && delay !== null) {
        this.reconnectTimer = setTimeout(() => {
          this.reconnectTimer = null;
          if (!this.closed) this.socket.connect();
        }, delay);
      }
    });
    this.socket.on('connect_error', (error: Error) => options.onConnection?.('disconnected', error.message));
    this.socket.io.on('reconnect_attempt', () => options.onConnection?.('connecting'));
    this.socket.on('update', (update: LiveUpdate) => this.onUpdate(update));
    // A batched replay: the same updates `update` would have brought, in order.
    this.socket.on('updates', (batch: LiveUpdates) => {
      if (!Array.isArray(batch?.updates)) return;
      // As with one `update` per change, a handler that throws does not keep the later updates from it.
      let failure: { error: unknown } | null = null;
      for (const update of batch.updates) {
        try {
          this.onUpdate(update);
        } catch (error) {
          failure ??= { error };
        }
      }
      if (failure) throw failure.error;
    });
    this.socket.on('resync', (event: ResyncEvent) => {
      const entry = this.followed.get(event.timeline);
      if (entry) this.resync(entry, event);
    });
    this.socket.on('shutdown', (event: ShutdownEvent) => options.onShutdown?.(event));
    options.onConnection?.('connecting');
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /**
   * Follows a timeline. With `after` (the `position` of the HTTP snapshot the
   * caller shows) it receives every change after it; without, the changes
   * after the moment the server acknowledges.
   */
  subscribe(timeline: string, handlers: LiveHandlers, options: { after?: Position | null } = {}): Subscription {
    if (this.closed) throw new LiveFeedError('closed', 'the live feed is closed', timeline);
    if (this.followed.has(timeline)) throw new LiveFeedError('invalid', `already subscribed to '${timeline}'`, timeline);
    const entry: Followed = { timeline, handlers, position: options.after ?? null, attempt: 0, resyncing: false, ended: false, settle: null };
    const subscription = startFollowing(this.followed, entry, () => this.unsubscribe(timeline));
    this.sendSubscribe(entry);
    return subscription;
  }

  /** The last position received for a timeline, or null. */
  positionOf(timeline: string): Position | null {
    return this.followed.get(timeline)?.position ?? null;
  }

  /** Stops following a timeline; resolves once the server has acknowledged (or at once when disconnected). */
  async unsubscribe(timeline: string): Promise<void> {
    const entry = this.followed.get(timeline);
    if (!entry) return;
    this.end(entry, new LiveFeedError('closed', `unsubscribed from '${timeline}'`, timeline), false);
    // Disconnected: the server has already forgotten us, and we will not subscribe again.
    if (!this.socket.connected) return;
    const ack = (await this.socket.timeout(5000).emitWithAck('unsubscribe', { timeline }).catch(() => null)) as LiveAck | null;
    if (ack && !ack.ok) throw new LiveFeedError(ack.error.code, ack.error.message, timeline);
  }

  /** Ends every subscription and closes the connection for good. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const entry of [...this.followed.values()]) this.end(entry, new LiveFeedError('closed', 'the live feed was closed', entry.timeline), false);
    this.socket.disconnect();
    this.options.onConnection?.('closed');
  }

  private sendSubscribe(entry: Followed): void {
    // socket.io buffers emits made while disconnected and sends them on
    // connect, where we subscribe again anyway: sending both would subscribe twice.
    if (!this.socket.connected || entry.ended || entry.resyncing) return;
    entry.attempt += 1;
    const attempt = entry.attempt;
    const after = entry.position;
    // With `after`, what was missed comes first: batched, as a few `updates` messages rather than one `update` per change.
    const batch = after !== null && this.batch;
    const message: SubscribeMessage =
      after === null ? { timeline: entry.timeline } : batch ? { timeline: entry.timeline, after, batch: true } : { timeline: entry.timeline, after };
    // No ack timeout: an ack lost with its connection is superseded by the subscribe sent on reconnect.
    this.socket.emit('subscribe', message, (ack: LiveAck) => {
      if (entry.ended || attempt !== entry.attempt) return;
      if (ack.ok) {
        // Without `after` the server starts after its checkpoint, which the ack
        // names. With `after`, the replay that follows the ack is what moves the
        // position: the ack's own (the checkpoint) is ahead of the replay.
        if (after === null && entry.position === null) entry.position = ack.position ?? null;
        entry.settle?.resolve(entry.position);
        entry.settle = null;
        entry.handlers.onLive?.(entry.position);
      } else if (batch && ack.error.code === 'invalid' && /\bbatch\b/.test(ack.error.message)) {
        // An older server that does not know `batch`: resume unbatched, as it expects.
        this.batch = false;
        this.sendSubscribe(entry);
      } else if (ack.error.code === 'resync_required') {
        this.resync(entry, { timeline: entry.timeline, reason: 'resync_required' });
      } else {
        this.end(entry, new LiveFeedError(ack.error.code, ack.error.message, entry.timeline), true);
      }
    });
  }

  private onUpdate(update: LiveUpdate): void {
    const entry = this.followed.get(update.timeline);
    if (!entry?.resyncing) deliverUpdate(entry, update);
  }

  private resync(entry: Followed, event: ResyncEvent): void {
    if (entry.resyncing || entry.ended) return;
    const onResync = entry.handlers.onResync;
    if (!onResync) {
      const error = new LiveFeedError('resync_required', `the feed of '${entry.timeline}' cannot resume (${event.reason}): reload it over HTTP`, entry.timeline);
      return this.end(entry, error, true);
    }
    entry.resyncing = true;
    // Updates that come before the server has dropped us (or while we reload) are in the new snapshot.
    entry.attempt += 1;
    Promise.resolve()
      .then(() => onResync(event))
      .then(
        (position) => {
          entry.resyncing = false;
          if (entry.ended) return;
          entry.position = position ?? null;
          this.sendSubscribe(entry);
        },
        (error: unknown) => {
          entry.resyncing = false;
          const message = error instanceof Error ? error.message : String(error);
          this.end(entry, new LiveFeedError('resync_required', `reloading '${entry.timeline}' failed: ${message}`, entry.timeline), true);
        },
      );
  }

  private end(entry: Followed, error: LiveFeedError, report: boolean): void {
    endFollowing(this.followed, entry, error, report);
  }
}
