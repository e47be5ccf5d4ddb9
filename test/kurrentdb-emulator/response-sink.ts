/**
 * The writing end of a server-streaming call, with the two things a long read
 * needs: waiting while the client is not reading (HTTP/2 flow control surfaces as
 * `write()` returning false), and knowing when the client has gone away, so a
 * subscription stops and releases what it holds.
 */
import { once } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import type { RpcFailure } from './rpc-errors';

export class ResponseSink<Request, Response> {
  private done = false;
  private readonly closers = new Set<() => void>();

  constructor(private readonly call: grpc.ServerWritableStream<Request, Response>) {
    const close = () => this.markDone();
    call.on('cancelled', close);
    call.on('close', close);
    call.on('finish', close);
  }

  /** True once the call has ended, one way or another. */
  get closed(): boolean {
    return this.done || this.call.cancelled || this.call.writableEnded;
  }

  /** Runs `closer` once when the call ends (at once if it already has). */
  onClose(closer: () => void): void {
    if (this.closed) closer();
    else this.closers.add(closer);
  }

  /** Queues a message; false when the call is gone. Does not wait for the client. */
  send(message: Response): boolean {
    if (this.closed) return false;
    this.call.write(message);
    return true;
  }

  /** Queues a message and waits while the client's window is full; false when the call is gone. */
  async write(message: Response): Promise<boolean> {
    if (this.closed) return false;
    if (this.call.write(message)) return true;
    const abort = new AbortController();
    this.onClose(() => abort.abort());
    // Rejects (and is ignored) when the call closes first: the listener must not outlive it.
    await once(this.call, 'drain', { signal: abort.signal }).catch(() => undefined);
    abort.abort();
    return !this.closed;
  }

  /** Ends the call with OK. */
  end(): void {
    if (this.closed) return;
    this.call.end();
    this.markDone();
  }

  /** Ends the call with an error status (sent once the messages queued before it are flushed). */
  fail(failure: RpcFailure): void {
    if (this.closed) return;
    this.call.emit('error', failure);
    this.markDone();
  }

  private markDone(): void {
    if (this.done) return;
    this.done = true;
    for (const closer of [...this.closers]) closer();
    this.closers.clear();
  }
}
