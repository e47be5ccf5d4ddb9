import { createRequire } from 'node:module';
import type { Socket } from 'socket.io';
import type { LiveClient, LiveUpdate } from './live-subscriptions';

/*
 * The server side of one live socket: how LiveSubscriptions' sends become
 * writes on that socket.io connection (updates encoded once for every socket
 * they go to, replays cut into batches shared by the clients that resume from
 * the same position). The browser and Node client is libs/client's live-client.
 */

/** A socket.io connection seen as a LiveClient: a class, so a connection costs one small object. */
class SocketClient implements LiveClient {
  constructor(
    private readonly socket: Socket,
    private readonly batches: ReplayBatches,
  ) {}

  get id(): string {
    return this.socket.id;
  }

  send(update: LiveUpdate): void {
    sendUpdate(this.socket, update);
  }

  sendBatch(timeline: string, updates: readonly LiveUpdate[]): void {
    this.batches.send(this.socket, timeline, updates);
  }

  queued(): number {
    return queuedPackets(this.socket);
  }

  resync(timeline: string, reason: string): void {
    this.socket.emit('resync', { timeline, reason });
  }
}

export function liveClientOf(socket: Socket, batches: ReplayBatches): LiveClient {
  return new SocketClient(socket, batches);
}

/**
 * Packets engine.io holds for this connection because it cannot take more
 * (the peer stopped reading and the TCP buffers are full). engine.io keeps
 * them in `writeBuffer`, which its typings mark private; it has been the
 * write queue since engine.io 1, and nothing else tells us this.
 */
export function queuedPackets(socket: Socket): number {
  return (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
}

/** socket.io-parser's PacketType.EVENT. */
const EVENT = 2;

interface EncodedUpdate {
  nsp: string;
  packets: unknown[];
  options: { preEncoded: true; wsPreEncodedFrame?: unknown };
}

/**
 * An `update` encoded once and written as is to every socket it goes to: what
 * socket.io's own room broadcast does (socket.io-adapter encodes the packet
 * once, builds the WebSocket frame once, and hands both to each socket's
 * `client.writeToEngine`). The cache is keyed by the update object, which
 * LiveSubscriptions shares between the clients it sends one change to, and
 * between clients replaying from its recent changes; it goes with the object.
 */
const encoded = new WeakMap<LiveUpdate, EncodedUpdate>();

/**
 * `socket.emit('update', update)`, the same bytes on the wire, without
 * encoding the update again for each socket. Socket.emit ends in
 * `socket.client._packet(packet, opts)`, which takes an already encoded
 * packet with `preEncoded` (the path socket.io-adapter used before
 * writeToEngine); engine.io writes `wsPreEncodedFrame` straight to the
 * WebSocket when there is one and per-message deflate is off.
 */
export function sendUpdate(socket: Socket, update: LiveUpdate): void {
  let packet = encoded.get(update);
  if (packet === undefined || packet.nsp !== socket.nsp.name) {
    packet = encodeUpdate(socket, update);
    encoded.set(update, packet);
  }
  writeEncoded(socket, packet);
}

function writeEncoded(socket: Socket, packet: EncodedUpdate): void {
  (socket.client as unknown as { _packet(packets: unknown[], options: object): void })._packet(packet.packets, packet.options);
}

function encodeUpdate(socket: Socket, update: LiveUpdate): EncodedUpdate {
  const nsp = socket.nsp.name;
  const packets = socket.nsp.server.encoder.encode({ type: EVENT, nsp, data: ['update', update] }) as unknown[];
  return preEncoded(nsp, packets);
}

function preEncoded(nsp: string, packets: unknown[]): EncodedUpdate {
  const options: EncodedUpdate['options'] = { preEncoded: true };
  if (packets.length === 1 && typeof packets[0] === 'string' && frame) {
    // "4" is engine.io's message packet type, as socket.io-adapter prefixes it.
    options.wsPreEncodedFrame = frame(Buffer.from(`4${packets[0]}`), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
  }
  return { nsp, packets, options };
}

/** How a batched replay is cut into `updates` messages. */
export interface BatchLimits {
  /** At most this many updates in one `updates` message. */
  maxUpdates: number;
  /** A message stops growing at about this many bytes of JSON (a single larger update still goes, alone). */
  maxBytes: number;
}

/**
 * At most 500 updates or about 64 KB per `updates` message (some 50 updates of
 * 1.2 KB). Fewer, larger messages do not help: a client's cost is then parsing
 * the JSON, whatever the packaging, and a very large message is parsed in one
 * long step (measured with bench/resume.bench.ts: 1 MB messages were slower
 * than 16-64 KB ones, which were faster than one message per update).
 */
export const DEFAULT_BATCH_LIMITS: Readonly<BatchLimits> = { maxUpdates: 500, maxBytes: 64 * 1024 };

/** Cuts `items` into consecutive chunks within the limits, given each item's size; order kept, none empty. */
export function chunk<T>(items: readonly T[], sizeOf: (item: T) => number, limits: BatchLimits): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item) + 1; // the comma between array elements
    if (current.length > 0 && (current.length >= limits.maxUpdates || bytes + size > limits.maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** An update as JSON, computed once per update object (shared by every batch it is in). */
const jsonOf = new WeakMap<LiveUpdate, string>();
function updateJson(update: LiveUpdate): string {
  let json = jsonOf.get(update);
  if (json === undefined) jsonOf.set(update, (json = JSON.stringify(update)));
  return json;
}

interface EncodedBatch {
  packets: EncodedUpdate[];
  /** About what the cached strings and frames take. */
  bytes: number;
}

/**
 * Batched replays (`updates` messages), each encoded once and written as is
 * to every client that resumes from the same position: the server's cost per
 * client is then a lookup and a write, however long the replay.
 *
 * A replay is every change of the timeline after the client's position, up to
 * the checkpoint (LiveSubscriptions.subscribe), so (namespace, timeline, first
 * and last position, count) names its content: positions are unique, the log
 * is append-only, and an update's entry is the entry as it was after that
 * change. The message text is assembled from each update's JSON, computed once
 * per update object, inside the envelope socket.io's own encoder produces, so
 * the bytes are exactly those of `socket.emit('updates', {timeline, updates})`.
 * Encoded batches are kept, most recently used first, within `budgetBytes`.
 */
export class ReplayBatches {
  private readonly cache = new Map<string, EncodedBatch>();
  private cachedBytes = 0;
  private currentLimits: BatchLimits;

  constructor(
    limits: BatchLimits = DEFAULT_BATCH_LIMITS,
    private readonly budgetBytes = 32 * 1024 * 1024,
  ) {
    this.currentLimits = { ...limits };
  }

  get limits(): Readonly<BatchLimits> {
    return this.currentLimits;
  }

  /** Changes how replays are cut (tests); forgets what was encoded with the old limits. */
  set limits(limits: BatchLimits) {
    this.currentLimits = { ...limits };
    this.cache.clear();
    this.cachedBytes = 0;
  }

  /** How many encoded batches are kept (for tests). */
  size(): number {
    return this.cache.size;
  }

  /** Sends `updates` (non-empty, one timeline, in log order) to this socket as `updates` messages. */
  send(socket: Socket, timeline: string, updates: readonly LiveUpdate[]): void {
    if (updates.length === 0) return;
    const batch = this.encoded(socket, timeline, updates);
    if (batch === undefined) {
      // A parser other than socket.io's default (e.g. a binary one): let socket.io encode each message.
      for (const part of chunk(updates, (u) => updateJson(u).length, this.currentLimits)) socket.emit('updates', { timeline, updates: part });
      return;
    }
    for (const packet of batch.packets) writeEncoded(socket, packet);
  }

  private encoded(socket: Socket, timeline: string, updates: readonly LiveUpdate[]): EncodedBatch | undefined {
    const nsp = socket.nsp.name;
    const key = `${nsp}\n${timeline}\n${updates[0]!.position}\n${updates[updates.length - 1]!.position}\n${updates.length}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.cache.delete(key); // most recently used goes last
      this.cache.set(key, hit);
      return hit;
    }
    // The envelope as socket.io's encoder writes it, around an empty array: `2/live,["updates",{"timeline":"x","updates":[]}]`.
    const envelope = socket.nsp.server.encoder.encode({ type: EVENT, nsp, data: ['updates', { timeline, updates: [] }] }) as unknown[];
    const text = envelope[0];
    if (envelope.length !== 1 || typeof text !== 'string' || !text.endsWith('[]}]')) return undefined;
    const head = text.slice(0, -3);
    const tail = text.slice(-3);
    let bytes = 0;
    const packets = chunk(updates, (u) => updateJson(u).length, this.currentLimits).map((part) => {
      const message = head + part.map(updateJson).join(',') + tail;
      bytes += message.length * 2; // the string and the WebSocket frame
      return preEncoded(nsp, [message]);
    });
    const batch = { packets, bytes };
    if (bytes <= this.budgetBytes) {
      this.cache.set(key, batch);
      this.cachedBytes += bytes;
      for (const [oldKey, old] of this.cache) {
        if (this.cachedBytes <= this.budgetBytes) break;
        this.cache.delete(oldKey);
        this.cachedBytes -= old.bytes;
      }
    }
    return batch;
  }
}

/** ws's Sender.frame, from the ws engine.io uses (as socket.io-adapter does); without it engine.io frames each write itself. */
const frame = ((): ((data: Buffer, options: object) => unknown) | undefined => {
  try {
    const ws = createRequire(require.resolve('engine.io'))('ws') as { Sender?: { frame?: (data: Buffer, options: object) => unknown } };
    return typeof ws.Sender?.frame === 'function' ? ws.Sender.frame.bind(ws.Sender) : undefined;
  } catch {
    return undefined;
  }
})();
