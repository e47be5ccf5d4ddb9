/**
 * Fault injection, for tests of what a client does when the server misbehaves.
 *
 * Methods are named `<Service>.<Method>` after the gRPC path, e.g. 'Streams.Read',
 * 'Streams.BatchAppend', 'Streams.Append', 'ServerFeatures.GetSupportedMethods'.
 * Omit `method` to affect every method. A fault applies to the next `times`
 * matching calls (default: all, until clear()).
 *
 * - refuse: the call is answered UNAVAILABLE without being handled, as when the
 *   server is not ready or is going away.
 * - notLeader: the call is answered as a follower answers a call that needs the
 *   leader (RpcExceptions.LeaderInfo: NOT_FOUND with `exception: not-leader` and the
 *   leader's host and port in the trailers); the client reconnects there.
 * - delay: the call waits `ms` before being handled.
 * - drop: calls in flight end now with a status (default UNAVAILABLE), e.g. a
 *   subscription cut off mid-stream.
 *
 * BatchAppend is one long-lived call carrying many appends, so for it refuse and
 * delay act on each append request: a delayed append waits, a refused one ends
 * the whole BatchAppend call with UNAVAILABLE (the client then fails its pending
 * appends with UnavailableError and opens a new call for the next one).
 *
 * Stopping the server (emulator.stop()) is the harder fault: connections are
 * reset and the port refuses new ones until start().
 */
import * as grpc from '@grpc/grpc-js';
import { RpcFailure } from './rpc-errors';

export interface FaultScope {
  /** 'Streams.Read', or several; all methods when omitted. */
  method?: string | readonly string[];
  /** How many matching calls the fault applies to; unlimited when omitted. */
  times?: number;
}

export interface DropOptions {
  method?: string | readonly string[];
  code?: grpc.status;
  details?: string;
}

interface Rule {
  methods: ReadonlySet<string> | null;
  remaining: number;
}

interface DelayRule extends Rule {
  ms: number;
}

interface FailRule extends Rule {
  failure: () => RpcFailure;
}

interface InFlight {
  method: string;
  abort: (failure: RpcFailure) => void;
}

function methodsOf(method: string | readonly string[] | undefined): ReadonlySet<string> | null {
  if (method === undefined) return null;
  return new Set(typeof method === 'string' ? [method] : method);
}

/** '/event_store.client.streams.Streams/Read' → 'Streams.Read' */
export function methodName(path: string): string {
  const [, service = '', method = ''] = /^\/(?:.*\.)?([^./]+)\/([^/]+)$/.exec(path) ?? [];
  return `${service}.${method}`;
}

export class Faults {
  /** This server's own endpoint: the default leader of notLeader(). */
  self: { host: string; port: number } | undefined;
  private failures: FailRule[] = [];
  private delays: DelayRule[] = [];
  private readonly inFlight = new Set<InFlight>();
  private readonly started = new Map<string, number>();
  private readonly observers = new Set<(method: string) => void>();

  refuse(scope: FaultScope & { details?: string } = {}): void {
    const details = scope.details ?? 'Server Is Not Ready'; // RpcExceptions.ServerNotReady
    this.failures.push({ methods: methodsOf(scope.method), remaining: scope.times ?? Infinity, failure: () => new RpcFailure(grpc.status.UNAVAILABLE, details) });
  }

  /** Answers as a follower would; the leader defaults to this emulator itself (see KurrentDbEmulator.faults). */
  notLeader(scope: FaultScope & { leader?: { host: string; port: number } } = {}): void {
    const leader = scope.leader ?? this.self;
    if (!leader) throw new Error('notLeader needs a leader endpoint');
    this.failures.push({
      methods: methodsOf(scope.method),
      remaining: scope.times ?? Infinity,
      failure: () => {
        const metadata = new grpc.Metadata();
        metadata.add('exception', 'not-leader');
        metadata.add('leader-endpoint-host', leader.host);
        metadata.add('leader-endpoint-port', String(leader.port));
        return new RpcFailure(grpc.status.NOT_FOUND, 'Leader info available', metadata);
      },
    });
  }

  delay(ms: number, scope: FaultScope = {}): void {
    if (!(ms >= 0)) throw new RangeError(`delay must be >= 0 ms, got ${ms}`);
    this.delays.push({ methods: methodsOf(scope.method), remaining: scope.times ?? Infinity, ms });
  }

  /** Ends matching calls in flight now; returns how many. */
  drop(options: DropOptions = {}): number {
    const methods = methodsOf(options.method);
    const failure = new RpcFailure(options.code ?? grpc.status.UNAVAILABLE, options.details ?? 'Dropped by the KurrentDB emulator');
    let dropped = 0;
    for (const call of [...this.inFlight]) {
      if (methods && !methods.has(call.method)) continue;
      this.inFlight.delete(call);
      call.abort(failure);
      dropped++;
    }
    return dropped;
  }

  /** Removes every refuse, notLeader and delay rule. */
  clear(): void {
    this.failures = [];
    this.delays = [];
  }

  /** Number of calls in flight, per method (streams that are open, unary calls being handled). */
  inFlightCalls(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const call of this.inFlight) counts[call.method] = (counts[call.method] ?? 0) + 1;
    return counts;
  }

  /** How many calls of each method have started since the emulator started (or since resetCounts()). */
  callCounts(): Record<string, number> {
    return Object.fromEntries(this.started);
  }

  resetCounts(): void {
    this.started.clear();
  }

  /** Calls `observer` with the method name of every call that starts (e.g. to trace them). */
  observe(observer: (method: string) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Waits for the delay that applies, then throws the failure that applies, if any. */
  async admit(method: string): Promise<void> {
    const delay = this.take(this.delays, method);
    if (delay && delay.ms > 0) await new Promise((resolve) => setTimeout(resolve, delay.ms));
    const failure = this.take(this.failures, method);
    if (failure) throw failure.failure();
  }

  /** Registers a call in flight; returns the function that unregisters it. */
  track(method: string, abort: (failure: RpcFailure) => void): () => void {
    this.started.set(method, (this.started.get(method) ?? 0) + 1);
    for (const observer of this.observers) observer(method);
    const entry: InFlight = { method, abort };
    this.inFlight.add(entry);
    return () => this.inFlight.delete(entry);
  }

  private take<R extends Rule>(rules: R[], method: string): R | undefined {
    const rule = rules.find((r) => r.remaining > 0 && (!r.methods || r.methods.has(method)));
    if (rule) rule.remaining--;
    return rule;
  }
}

/**
 * Wraps a service implementation so every call goes through the faults: tracked
 * while in flight (for drop), admitted (delay, refuse) before its handler runs.
 * Methods in `perRequest` do their own admission per request (BatchAppend).
 */
export function guardService(
  definition: grpc.ServiceDefinition,
  implementation: grpc.UntypedServiceImplementation,
  faults: Faults,
  perRequest: ReadonlySet<string> = new Set(),
): grpc.UntypedServiceImplementation {
  const guarded: grpc.UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(definition)) {
    const handler = implementation[key];
    if (!handler) continue;
    const name = methodName(method.path);
    const admit = perRequest.has(name) ? () => Promise.resolve() : () => faults.admit(name);
    if (!method.responseStream) {
      // Unary and client-streaming: answered through the callback.
      const unary = handler as grpc.handleUnaryCall<unknown, unknown>;
      guarded[key] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        let answered = false;
        const answer: grpc.sendUnaryData<unknown> = (error, value, trailer, flags) => {
          if (answered) return;
          answered = true;
          untrack();
          callback(error, value, trailer, flags);
        };
        const untrack = faults.track(name, (failure) => answer(failure));
        call.on('cancelled', untrack);
        admit().then(
          () => {
            if (!answered) unary(call, answer);
          },
          (failure: RpcFailure) => answer(failure),
        );
      }) as grpc.handleUnaryCall<unknown, unknown>;
    } else {
      // Server-streaming and bidirectional: ended by emitting an error status.
      const streaming = handler as grpc.handleServerStreamingCall<unknown, unknown>;
      guarded[key] = ((call: grpc.ServerWritableStream<unknown, unknown>) => {
        let failed = false;
        const fail = (failure: RpcFailure) => {
          if (failed || call.cancelled) return;
          failed = true;
          call.emit('error', failure);
        };
        const untrack = faults.track(name, fail);
        call.on('cancelled', untrack);
        call.on('finish', untrack);
        call.on('close', untrack);
        admit().then(
          () => {
            if (!failed && !call.cancelled) streaming(call);
          },
          (failure: RpcFailure) => fail(failure),
        );
      }) as grpc.handleServerStreamingCall<unknown, unknown>;
    }
  }
  return guarded;
}
