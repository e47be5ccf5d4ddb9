import { Inject, Logger, UseFilters, type BeforeApplicationShutdown } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  SubscribeMessage as OnMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import { TimelineNotFoundError } from '@timeline/domain';
import { TIMELINE_READ_MODEL, type TimelineReadModel } from '@timeline/projections';
import type { Namespace, Socket } from 'socket.io';
import type { AppConfig } from '../config/app-config';
import { RequestValidationError, validateInto } from '../common/request-validation';
import { APP_CONFIG } from '../config/app-config.module';
import { MAX_MESSAGE_BYTES, SubscribeMessage, UnsubscribeMessage } from './dto/live-messages.dto';
import { liveClientOf, queuedPackets, ReplayBatches } from './live-session';
import { ApiKeyRegistry } from '../auth/api-keys';
import { principalOf, socketAuth } from '../auth/socket-auth';
import { sendReplay, type LiveSubscriptions } from './live-subscriptions';
import { LiveFanout } from './live-fanout';
import { countSubscribe } from './subscribe-limit';
import { LiveMetrics } from '../metrics/live-metrics';
import { LiveExceptionFilter, type LiveFailure } from './live-exception.filter';

type Reply = (answer: LiveAnswer) => void;
type LiveAnswer = { ok: true; position?: string | null } | LiveFailure;

/**
 * The live feed, socket.io namespace /live. Clients `subscribe` to timelines
 * and receive `update`s (what they missed, with `batch: true`, as `updates`
 * messages of many updates each); see LiveSubscriptions for the delivery guarantee.
 * Every payload is validated and answered by ack. A refusal is thrown as the
 * typed error HTTP would throw, and LiveExceptionFilter answers it from the same
 * error table: never a message left unanswered, never a code of its own.
 */
@UseFilters(LiveExceptionFilter)
@WebSocketGateway({ namespace: '/live', maxHttpBufferSize: 64 * 1024 })
export class LiveGateway
  implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, BeforeApplicationShutdown
{
  @WebSocketServer() private readonly namespace!: Namespace;
  private readonly logger = new Logger('Live');
  private readonly subscriptions: LiveSubscriptions;
  /** Batched replays (`subscribe` with `batch: true`), encoded once per resume position and shared. */
  readonly batches = new ReplayBatches();
  private closing = false;

  constructor(
    @Inject(TIMELINE_READ_MODEL) private readonly readModel: TimelineReadModel,
    fanout: LiveFanout,
    private readonly keys: ApiKeyRegistry,
    @InjectThrottlerStorage() private readonly throttle: ThrottlerStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: LiveMetrics,
  ) {
    this.subscriptions = fanout.subscriptions;
  }

  afterInit(namespace: Namespace): void {
    namespace.use(socketAuth(this.keys, this.config));
    // Read at scrape time: exact, and nothing to keep in step on the hot path.
    this.metrics.track({ sockets: () => namespace.sockets.size, subscriptions: () => this.subscriptions.subscriptionCount() });
  }

  handleConnection(socket: Socket): void {
    if (this.closing) socket.disconnect(true);
  }

  handleDisconnect(socket: Socket): void {
    this.subscriptions.drop(socket.id);
  }

  @OnMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown, @Ack() ack?: Reply): Promise<void> {
    const reply = replyTo(ack);
    // Counted before anything else, so invalid subscribes are limited too. Awaited
    // here, outside the synchronous step below that must not be interleaved.
    await countSubscribe(this.throttle, principalOf(socket)?.name ?? socket.handshake.address, this.config.rateLimitSubscribesPerMinute);
    const { timeline, after, batch } = parse(SubscribeMessage, payload);
    if (!this.readModel.timeline(timeline)) throw new TimelineNotFoundError(timeline);
    const liveClient = liveClientOf(socket, this.batches);
    const outcome = this.subscriptions.subscribe(liveClient, timeline, after);
    // Not an error but the resume's outcome: the feed's own code, the same as code and reason.
    if (!outcome.ok) return reply({ ok: false, error: { code: outcome.code, reason: outcome.code, message: outcome.message } });
    // Ack and replay in the same synchronous step as the registration: no
    // live change can be sent between them (see LiveSubscriptions).
    reply({ ok: true, position: outcome.position });
    sendReplay(liveClient, timeline, outcome.replay, batch === true);
    this.metrics.subscribed();
    this.metrics.updatesPushed(outcome.replay.length);
  }

  @OnMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown, @Ack() ack?: Reply): void {
    const reply = replyTo(ack);
    const { timeline } = parse(UnsubscribeMessage, payload);
    this.subscriptions.unsubscribe(socket.id, timeline);
    this.metrics.unsubscribed();
    reply({ ok: true });
  }

  /**
   * On SIGTERM: refuse new connections, tell every client to go elsewhere
   * (a load balancer sends it to another instance, where it resumes from its
   * last position), let queued messages drain briefly, then disconnect.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    const sockets = [...this.namespace.sockets.values()];
    for (const socket of sockets) socket.emit('shutdown', { reason: 'server shutting down: reconnect and subscribe after your last position' });
    const deadline = Date.now() + 1000;
    while (Date.now() < deadline && sockets.some((s) => s.connected && queuedPackets(s) > 0)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // Close the transport rather than send "disconnect": socket.io clients
    // reconnect by themselves after a transport close, and only then.
    this.namespace.disconnectSockets(true);
  }

  subscriptionCount(): number {
    return this.subscriptions.subscriptionCount();
  }
}

function replyTo(ack: Reply | undefined): Reply {
  return typeof ack === 'function' ? ack : () => undefined;
}

function parse<T extends object>(type: new () => T, payload: unknown): T {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new RequestValidationError([{ field: 'payload', problems: ['payload must be a JSON object'] }]);
  }
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(payload) ?? '');
  } catch {
    throw new RequestValidationError([{ field: 'payload', problems: ['payload must be plain JSON'] }]);
  }
  if (size > MAX_MESSAGE_BYTES) {
    throw new RequestValidationError([{ field: 'payload', problems: [`payload is too large: at most ${MAX_MESSAGE_BYTES} bytes`] }]);
  }
  return validateInto(type, payload, ''); // refuses prototype keys and deep nesting too
}
