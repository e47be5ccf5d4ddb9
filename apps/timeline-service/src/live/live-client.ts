import type { Socket } from 'socket.io';
import type { LiveClient } from './live-subscriptions';

/** A socket.io connection seen as a LiveClient. */
export function liveClientOf(socket: Socket): LiveClient {
  return {
    id: socket.id,
    send: (update) => socket.emit('update', update),
    queued: () => queuedPackets(socket),
    resync: (timeline, reason) => socket.emit('resync', { timeline, reason }),
  };
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
