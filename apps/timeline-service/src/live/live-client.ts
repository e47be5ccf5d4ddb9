import { createRequire } from 'node:module';
import type { Socket } from 'socket.io';
import type { LiveClient, LiveUpdate } from './live-subscriptions';

/** A socket.io connection seen as a LiveClient: a class, so a connection costs one small object. */
class SocketClient implements LiveClient {
  constructor(private readonly socket: Socket) {}

  get id(): string {
    return this.socket.id;
  }

  send(update: LiveUpdate): void {
    sendUpdate(this.socket, update);
  }

  queued(): number {
    return queuedPackets(this.socket);
  }

  resync(timeline: string, reason: string): void {
    this.socket.emit('resync', { timeline, reason });
  }
}

export function liveClientOf(socket: Socket): LiveClient {
  return new SocketClient(socket);
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
  (socket.client as unknown as { _packet(packets: unknown[], options: object): void })._packet(packet.packets, packet.options);
}

function encodeUpdate(socket: Socket, update: LiveUpdate): EncodedUpdate {
  const nsp = socket.nsp.name;
  const packets = socket.nsp.server.encoder.encode({ type: EVENT, nsp, data: ['update', update] }) as unknown[];
  const options: EncodedUpdate['options'] = { preEncoded: true };
  if (packets.length === 1 && typeof packets[0] === 'string' && frame) {
    // "4" is engine.io's message packet type, as socket.io-adapter prefixes it.
    options.wsPreEncodedFrame = frame(Buffer.from(`4${packets[0]}`), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
  }
  return { nsp, packets, options };
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
