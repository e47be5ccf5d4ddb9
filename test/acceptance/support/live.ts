/**
 * A live-feed client as a newsroom page would write one with the plain
 * socket.io-client package (README "Live feed"), and waiting for conditions,
 * for the specs that follow the feed across instances and outages
 * (scale-out, kurrentdb-outage). live.acceptance-spec.ts keeps its own,
 * richer helpers for the feed's contract.
 *
 * Black-box like ./api.ts: socket.io-client, global fetch and types only.
 */
import { io, type Socket } from 'socket.io-client';
import type { Entry } from './api';

export type UpdateType = 'entry.recorded' | 'entry.corrected' | 'entry.retracted';

/** An `update` message (docs/asyncapi.yaml). */
export interface Update {
  timeline: string;
  position: string;
  type: UpdateType;
  entry: Entry;
}

export type Ack = { ok: true; position?: string | null } | { ok: false; error: { code: string; message: string } };

const ACK_TIMEOUT_MS = 5_000;
export const WAIT_MS = 10_000;

export interface UntilOptions {
  /** Default WAIT_MS. */
  timeoutMs?: number;
  /** Default 10 ms; HTTP polls use more. */
  intervalMs?: number;
  /** What was seen instead, for the error message. */
  seen?: () => string;
}

/**
 * Polls `probe` every `intervalMs` until it returns something truthy, and
 * returns that; fails after `timeoutMs` saying what it waited for and what it
 * saw. A probe that throws is retried too (a service whose store is down may
 * answer with an error); the last error is reported.
 */
export async function until<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, options: UntilOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? WAIT_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const error = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`${what}: not within ${timeoutMs} ms${error} ${options.seen?.() ?? ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}

export interface LiveClient {
  socket: Socket;
  /** Every `update` received on this connection, in arrival order. */
  updates: Update[];
  /** Every bare `exception` event: the contract says there are none. */
  exceptions: unknown[];
  /** subscribe, which must be acked {ok: true, position}; returns the ack's position. */
  subscribe(payload: { timeline: string; after?: string }): Promise<string>;
  /** Waits until an update at `position` has arrived; returns every update so far. */
  updateAt(position: string, timeoutMs?: number): Promise<Update[]>;
  /** Waits until the connection is gone (the server went away, or close()). */
  disconnected(timeoutMs?: number): Promise<void>;
  close(): void;
}

/** A connection to `${baseUrl}/live` over WebSocket, without automatic reconnection: tests choose where to reconnect. */
export async function connectLive(baseUrl: string): Promise<LiveClient> {
  const socket = io(`${baseUrl}/live`, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: ACK_TIMEOUT_MS });
  const updates: Update[] = [];
  const exceptions: unknown[] = [];
  socket.on('update', (update: Update) => updates.push(update));
  socket.on('exception', (payload: unknown) => exceptions.push(payload));
  const received = () => `(${baseUrl} sent ${updates.map((u) => `${u.timeline}@${u.position}:${u.type}`).join(', ') || 'nothing'})`;

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection to ${baseUrl}/live within ${ACK_TIMEOUT_MS} ms`)), ACK_TIMEOUT_MS);
    socket.once('connect', () => (clearTimeout(timer), resolve()));
    socket.once('connect_error', (error) => (clearTimeout(timer), reject(error)));
  }).catch((error: unknown) => {
    socket.disconnect();
    throw error;
  });

  return {
    socket,
    updates,
    exceptions,
    async subscribe(payload) {
      let ack: Ack;
      try {
        ack = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('subscribe', payload)) as Ack;
      } catch (error) {
        throw new Error(`no ack to subscribe ${JSON.stringify(payload)} from ${baseUrl} within ${ACK_TIMEOUT_MS} ms`, { cause: error });
      }
      if (!ack.ok || typeof ack.position !== 'string') throw new Error(`subscribe ${JSON.stringify(payload)} on ${baseUrl} was answered ${JSON.stringify(ack)}`);
      return ack.position;
    },
    updateAt: (position, timeoutMs = WAIT_MS) =>
      until(`an update at ${position} from ${baseUrl}`, () => updates.some((u) => u.position === position) && [...updates], { timeoutMs, seen: received }),
    disconnected: (timeoutMs = WAIT_MS) => until(`the connection to ${baseUrl} to close`, () => !socket.connected, { timeoutMs }).then(() => undefined),
    close: () => void socket.disconnect(),
  };
}

/** The positions of `updates`, in the order received. */
export const positionsOf = (updates: readonly Update[]): string[] => updates.map((u) => u.position);

/** Pairs of neighbours that are not in strictly increasing (log) order: [] when they all are. */
export function outOfOrder(positions: readonly string[]): string[] {
  return positions.flatMap((p, i) => (i > 0 && p <= positions[i - 1] ? [`${positions[i - 1]} then ${p}`] : []));
}
