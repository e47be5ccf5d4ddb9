/**
 * Helpers for the live feed e2e tests, on @timeline/client: socket.io clients
 * on the /live namespace (the client's openLiveSocket), acks with a deadline,
 * and recorders that keep every event a socket receives from the moment it
 * connects, so nothing that arrives between two awaits is lost.
 *
 * These speak the protocol directly, on purpose: the specs check what the
 * server sends, duplicates and invalid payloads included, which LiveFeed would
 * hide. LiveFeed itself is tested in test/client.e2e-spec.ts.
 *
 * Every wait takes a timeout that is only an upper bound: a wait resolves as
 * soon as what it waits for has arrived, and fails saying what did arrive.
 */
import type { Socket as NetSocket } from 'node:net';
import { openLiveSocket, type LiveAck, type LiveUpdate, type ResyncEvent } from '@timeline/client';
import type { Socket } from 'socket.io-client';

/* eslint-disable @typescript-eslint/no-explicit-any */

export type LiveSocket = Socket;
export type { LiveAck, LiveUpdate, ResyncEvent };

const opened = new Set<Socket>();

/** A new connection to `${baseUrl}/live` over WebSocket only; resolves once connected. */
export function connectLive(baseUrl: string, timeoutMs = 5000): Promise<Socket> {
  const socket = openLiveSocket({ baseUrl, socket: { transports: ['websocket'], forceNew: true, reconnection: false, timeout: timeoutMs } });
  opened.add(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection to ${baseUrl}/live within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Disconnects every socket connectLive opened (for afterEach). */
export function closeAllLive(): void {
  for (const socket of opened) socket.disconnect();
  opened.clear();
}

/** Emits `event` with these arguments and resolves with the ack; rejects when none comes within the timeout. */
export function emitWithAck<T = any>(socket: Socket, event: string, args: unknown[], timeoutMs = 5000): Promise<T> {
  return socket.timeout(timeoutMs).emitWithAck(event, ...args) as Promise<T>;
}

export const subscribe = (socket: Socket, payload: unknown, timeoutMs = 5000): Promise<LiveAck> =>
  emitWithAck<LiveAck>(socket, 'subscribe', [payload], timeoutMs);

export const unsubscribe = (socket: Socket, payload: unknown, timeoutMs = 5000): Promise<LiveAck> =>
  emitWithAck<LiveAck>(socket, 'unsubscribe', [payload], timeoutMs);

/** Subscribes and fails the test unless the ack is ok; returns the ack's position. */
export async function subscribeOk(socket: Socket, payload: { timeline: string; after?: string }): Promise<string | null> {
  const ack = await subscribe(socket, payload);
  if (!ack.ok) throw new Error(`subscribe ${JSON.stringify(payload)} was refused: ${JSON.stringify(ack)}`);
  return ack.position ?? null;
}

export interface Recorder<T> {
  /** Everything received so far, in arrival order. */
  readonly items: T[];
  /** Resolves with the items once there are at least `n`; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves with the items once `done(items)` holds; rejects after `timeoutMs`. */
  waitUntil(done: (items: T[]) => boolean, timeoutMs?: number, what?: string): Promise<T[]>;
  stop(): void;
}

/** Starts recording `event` on this socket now. */
export function record<T = any>(socket: Socket, event: string): Recorder<T> {
  const items: T[] = [];
  const waiters = new Set<() => void>();
  const listener = (payload: T) => {
    items.push(payload);
    for (const check of [...waiters]) check();
  };
  socket.on(event, listener);
  const waitUntil = (done: (items: T[]) => boolean, timeoutMs = 5000, what = 'the condition'): Promise<T[]> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (!done(items)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve([...items]);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`'${event}': ${what} did not hold within ${timeoutMs} ms; received ${items.length}: ${describe(items)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    items,
    waitUntil,
    waitFor: (n, timeoutMs = 5000) => waitUntil((all) => all.length >= n, timeoutMs, `${n} events`),
    stop: () => socket.off(event, listener),
  };
}

/** The next `n` `event`s this socket receives from now on. */
export async function nextEvents<T = any>(socket: Socket, event: string, n: number, timeoutMs = 5000): Promise<T[]> {
  const recorder = record<T>(socket, event);
  try {
    return (await recorder.waitFor(n, timeoutMs)).slice(0, n);
  } finally {
    recorder.stop();
  }
}

/** Resolves with the reason of the socket's next disconnect. */
export function nextDisconnect(socket: Socket, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no disconnect within ${timeoutMs} ms`)), timeoutMs);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

function describe(items: unknown[]): string {
  const brief = items.slice(-10).map((i) => {
    const { type, position, timeline } = (i ?? {}) as Partial<LiveUpdate>;
    return position !== undefined ? `${timeline}@${position}:${type}` : JSON.stringify(i);
  });
  return (items.length > 10 ? '..., ' : '') + brief.join(', ');
}

// ---------------------------------------------------------------------------
// Reading control: a client that stops reading its connection

/**
 * The `ws` WebSocket under a socket.io-client socket connected with
 * transports ['websocket']: engine.io-client's WS transport keeps it as
 * `transport.ws` (build/cjs/transports/websocket.js, created by
 * websocket.node.js from the `ws` package), and ws keeps the TCP socket as
 * `_socket` (ws/lib/websocket.js setSocket).
 */
function wsOf(socket: Socket): { _socket: NetSocket; pause(): void; resume(): void; isPaused: boolean } {
  const transport = (socket.io.engine as any)?.transport;
  if (transport?.name !== 'websocket' || !transport.ws?._socket) throw new Error('not a connected websocket transport');
  return transport.ws;
}

/** The client's raw TCP socket. */
export function rawSocketOf(socket: Socket): NetSocket {
  return wsOf(socket)._socket;
}

/**
 * Stops reading the connection, as a stalled browser tab would: the kernel
 * buffers fill and the server's writes stop completing. ws.pause() pauses the
 * TCP socket (`_socket.pause()`) and also keeps ws's receiver from resuming it
 * when it drains, which a bare `_socket.pause()` would not.
 */
export function stopReading(socket: Socket): void {
  const ws = wsOf(socket);
  ws.pause();
  if (!ws.isPaused || !ws._socket.isPaused()) throw new Error('the TCP socket did not pause');
}

export function resumeReading(socket: Socket): void {
  wsOf(socket).resume();
}
