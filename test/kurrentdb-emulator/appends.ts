/**
 * One file past 300 lines: both RPCs share the expected-revision and idempotency
 * answers below, and splitting them would put one server rule in two files.
 *
 * Streams.Append (client streaming: options, then one message per event) and
 * Streams.BatchAppend (bidirectional: many appends multiplexed by correlation id,
 * each possibly split over several requests, the last one flagged is_final).
 * The client uses BatchAppend whenever ServerFeatures lists it (it does here),
 * Append otherwise or with per-call credentials.
 *
 * Answers as in Streams.Append.cs / Streams.BatchAppend.cs:
 * - success: the current revision (or no_stream when nothing was ever written) and
 *   the position of the last event, reported as both commit and prepare
 *   (WriteEvents.ClientSuccessMsg passes CommitPosition twice); an idempotent retry
 *   gets the original last event's revision and position.
 * - wrong expected version: Append answers a WrongExpectedVersion message
 *   (current revision / current no_stream, and the expectation as sent);
 *   BatchAppend answers google.rpc.Status ALREADY_EXISTS with an
 *   event_store.client.WrongExpectedVersion detail.
 * - deleted stream: Append fails the call (FAILED_PRECONDITION, `exception:
 *   stream-deleted`); BatchAppend answers Status NOT_FOUND with a StreamDeleted detail.
 * - a request the server cannot take (missing `type`/`content-type`, malformed id):
 *   Append fails the call; BatchAppend answers Status BadRequest.
 * Not sent: the deprecated "_20_6_0" fields of AppendResp.WrongExpectedVersion, read
 * only by clients older than 20.6.1 (and one of them, ulong.MaxValue as a JS
 * number, is not representable by the generated code).
 */
import type * as grpc from '@grpc/grpc-js';
import type { EventLog, Expected, ProposedEvent, WriteOutcome } from './log';
import { ExpectedVersion } from './positions';
import { GoogleEmpty, sharedPb, streamsPb } from './protocol';
import { streamIdentifier, streamNameOf } from './read-responses';
import { batchAppendStatus, RpcFailure, rpcErrors, toRpcFailure } from './rpc-errors';
import { uuidFromDto } from './uuid';

export interface AppendLimits {
  /** ClusterVNodeOptions.MaxAppendSize (default TFConsts.ChunkSize, 256 MiB), in Event.SizeOnDisk bytes. */
  maxAppendSize: number;
  /** ClusterVNodeOptions.WriteTimeoutMs (default 2000): caps a batch append's own deadline. */
  writeTimeoutMs: number;
}

export const DEFAULT_APPEND_LIMITS: AppendLimits = { maxAppendSize: 256 * 1024 * 1024, writeTimeoutMs: 2_000 };

/** A hook run before each BatchAppend request (fault injection); rejects to end the call. */
export type RequestGate = () => Promise<void>;

interface ProposedMessage {
  getId(): sharedPb.UUID | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
}

/** MetadataHelpers.ParseGrpcMetadata + Uuid.FromDto. */
function proposedEvent(message: ProposedMessage): ProposedEvent {
  const metadata = message.getMetadataMap();
  const type = metadata.get('type');
  if (type === undefined) throw rpcErrors.requiredMetadataPropertyMissing('type');
  const contentType = metadata.get('content-type');
  if (contentType === undefined) throw rpcErrors.requiredMetadataPropertyMissing('content-type');
  const id = uuidFromDto(message.getId());
  if (id === null) throw new RpcFailure(rpcErrors.handlerThrew().code, 'Unrecognized Guid format.');
  return {
    id,
    type,
    isJson: contentType === 'application/json',
    data: message.getData_asU8(),
    metadata: message.getCustomMetadata_asU8(),
  };
}

/** Event.SizeOnDisk: data + metadata + 2 bytes per UTF-16 unit of the type. */
function sizeOnDisk(event: ProposedEvent): number {
  return event.data.length + event.metadata.length + event.type.length * 2;
}

/** StreamRevision(ulong).ToInt64(): ulong.MaxValue (StreamRevision.End) is -1. */
function revisionToExpected(revision: string): Expected {
  const value = BigInt(revision);
  return value === (1n << 64n) - 1n ? ExpectedVersion.NoStream : value;
}

export function append(
  log: EventLog,
  limits: AppendLimits,
  call: grpc.ServerReadableStream<streamsPb.AppendReq, streamsPb.AppendResp>,
  callback: grpc.sendUnaryData<streamsPb.AppendResp>,
): void {
  let options: streamsPb.AppendReq.Options | undefined;
  const events: ProposedEvent[] = [];
  let size = 0;
  let answered = false;
  const answer = (error: RpcFailure | null, response?: streamsPb.AppendResp) => {
    if (answered) return;
    answered = true;
    if (error) callback(error);
    else callback(null, response);
  };

  call.on('data', (request: streamsPb.AppendReq) => {
    if (answered) return;
    try {
      if (!options) {
        // The first message must be the options (else InvalidOperationException).
        options = request.getOptions();
        if (!options) throw rpcErrors.handlerThrew();
        return;
      }
      const message = request.getProposedMessage();
      if (!message) throw rpcErrors.handlerThrew();
      const event = proposedEvent(message);
      size += sizeOnDisk(event);
      if (size > limits.maxAppendSize) throw rpcErrors.maxAppendSizeExceeded(limits.maxAppendSize);
      events.push(event);
    } catch (error) {
      answer(error instanceof RpcFailure ? error : toRpcFailure(error));
    }
  });
  call.on('end', () => {
    if (answered) return;
    try {
      if (!options) throw rpcErrors.handlerThrew();
      const stream = streamNameOf(options.getStreamIdentifier());
      const { ExpectedStreamRevisionCase } = streamsPb.AppendReq.Options;
      const expectedCase = options.getExpectedStreamRevisionCase();
      const expected: Expected =
        expectedCase === ExpectedStreamRevisionCase.REVISION
          ? revisionToExpected(options.getRevision())
          : expectedCase === ExpectedStreamRevisionCase.ANY
            ? ExpectedVersion.Any
            : expectedCase === ExpectedStreamRevisionCase.STREAM_EXISTS
              ? ExpectedVersion.StreamExists
              : expectedCase === ExpectedStreamRevisionCase.NO_STREAM
                ? ExpectedVersion.NoStream
                : (() => {
                    throw rpcErrors.invalidArgument(`'${expectedCase}' is not a valid ExpectedStreamRevisionOneofCase`);
                  })();
      const outcome = log.append(stream, expected, events);
      answer(null, appendResponse(stream, expectedCase, expected, outcome));
    } catch (error) {
      answer(toRpcFailure(error));
    }
  });
  call.on('error', () => undefined); // a client that goes away mid-append: nothing was written
}

function appendResponse(
  stream: string,
  expectedCase: streamsPb.AppendReq.Options.ExpectedStreamRevisionCase,
  expected: Expected,
  outcome: WriteOutcome,
): streamsPb.AppendResp {
  const response = new streamsPb.AppendResp();
  if (outcome.kind === 'stream-deleted') throw rpcErrors.streamDeleted(stream);
  if (outcome.kind === 'wrong-expected-version') {
    const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
    const { ExpectedStreamRevisionCase } = streamsPb.AppendReq.Options;
    if (expectedCase === ExpectedStreamRevisionCase.ANY) wrong.setExpectedAny(new sharedPb.Empty());
    else if (expectedCase === ExpectedStreamRevisionCase.STREAM_EXISTS) wrong.setExpectedStreamExists(new sharedPb.Empty());
    else if (expectedCase === ExpectedStreamRevisionCase.NO_STREAM) wrong.setExpectedNoStream(new sharedPb.Empty());
    else wrong.setExpectedRevision(expected.toString());
    if (outcome.currentVersion < 0n) wrong.setCurrentNoStream(new sharedPb.Empty());
    else wrong.setCurrentRevision(outcome.currentVersion.toString());
    return response.setWrongExpectedVersion(wrong);
  }
  const success = new streamsPb.AppendResp.Success();
  if (outcome.lastRevision < 0n) success.setNoStream(new sharedPb.Empty());
  else success.setCurrentRevision(outcome.lastRevision.toString());
  if (outcome.position === null || outcome.position < 0n) success.setNoPosition(new sharedPb.Empty());
  else {
    const position = new streamsPb.AppendResp.Position();
    position.setCommitPosition(outcome.position.toString());
    position.setPreparePosition(outcome.position.toString());
    success.setPosition(position);
  }
  return response.setSuccess(success);
}

interface PendingWrite {
  stream: string;
  expected: Expected;
  events: ProposedEvent[];
  size: number;
  timer: NodeJS.Timeout;
}

function batchExpected(options: streamsPb.BatchAppendReq.Options): Expected {
  const { ExpectedStreamPositionCase } = streamsPb.BatchAppendReq.Options;
  switch (options.getExpectedStreamPositionCase()) {
    case ExpectedStreamPositionCase.STREAM_POSITION:
      return revisionToExpected(options.getStreamPosition());
    case ExpectedStreamPositionCase.ANY:
      return ExpectedVersion.Any;
    case ExpectedStreamPositionCase.STREAM_EXISTS:
      return ExpectedVersion.StreamExists;
    case ExpectedStreamPositionCase.NO_STREAM:
      return ExpectedVersion.NoStream;
    default:
      throw rpcErrors.invalidArgument(`'${options.getExpectedStreamPositionCase()}' is not a valid ExpectedStreamPositionOneofCase`);
  }
}

/** The write's own timeout: its deadline (a duration, or the 21.10 absolute timestamp), capped by the server's write timeout. */
function requestedTimeoutMs(options: streamsPb.BatchAppendReq.Options, limits: AppendLimits): number {
  const duration = options.getDeadline();
  const absolute = options.getDeadline21100();
  const requested = duration
    ? duration.getSeconds() * 1000 + duration.getNanos() / 1e6
    : absolute
      ? absolute.toDate().getTime() - Date.now()
      : Number.POSITIVE_INFINITY;
  return Math.min(requested, limits.writeTimeoutMs);
}

export function batchAppend(
  log: EventLog,
  limits: AppendLimits,
  call: grpc.ServerDuplexStream<streamsPb.BatchAppendReq, streamsPb.BatchAppendResp>,
  gate: RequestGate,
): void {
  const pending = new Map<string, PendingWrite>();
  let ended = false;
  // Requests are handled one after the other, in arrival order, even when a gate delays one.
  let queue: Promise<void> = Promise.resolve();

  const respond = (correlation: sharedPb.UUID | undefined, stream: sharedPb.StreamIdentifier | undefined, fill: (r: streamsPb.BatchAppendResp) => void) => {
    if (ended || call.cancelled || call.writableEnded) return;
    const response = new streamsPb.BatchAppendResp();
    response.setCorrelationId(correlation);
    response.setStreamIdentifier(stream);
    fill(response);
    call.write(response);
  };

  const handle = (request: streamsPb.BatchAppendReq): void => {
    const correlation = request.getCorrelationId();
    const correlationId = uuidFromDto(correlation) ?? '';
    const options = request.getOptions();
    try {
      if (options) {
        if (!options.hasStreamIdentifier()) {
          respond(correlation, undefined, (r) => r.setError(batchAppendStatus.badRequest('Required field StreamIdentifier not set.')));
          return;
        }
        const timeoutMs = requestedTimeoutMs(options, limits);
        if (timeoutMs <= 0) {
          respond(correlation, options.getStreamIdentifier(), (r) => r.setError(batchAppendStatus.timeout()));
          return;
        }
        if (!pending.has(correlationId)) {
          const stream = streamNameOf(options.getStreamIdentifier());
          const timer = setTimeout(() => {
            // Still waiting for its final request when its time is up.
            if (pending.delete(correlationId)) respond(correlation, streamIdentifier(stream), (r) => r.setError(batchAppendStatus.timeout()));
          }, timeoutMs);
          timer.unref();
          pending.set(correlationId, { stream, expected: batchExpected(options), events: [], size: 0, timer });
        }
      }
      const write = pending.get(correlationId);
      if (!write) return; // parts of a write that already failed or timed out
      try {
        for (const message of request.getProposedMessagesList()) {
          const event = proposedEvent(message);
          write.size += sizeOnDisk(event);
          write.events.push(event);
        }
      } catch (error) {
        pending.delete(correlationId);
        clearTimeout(write.timer);
        throw error;
      }
      if (write.size > limits.maxAppendSize) {
        pending.delete(correlationId);
        clearTimeout(write.timer);
        respond(correlation, streamIdentifier(write.stream), (r) => r.setError(batchAppendStatus.maximumAppendSizeExceeded(limits.maxAppendSize)));
        return;
      }
      if (!request.getIsFinal()) return;
      pending.delete(correlationId);
      clearTimeout(write.timer);
      const outcome = log.append(write.stream, write.expected, write.events);
      respond(correlation, streamIdentifier(write.stream), (response) => {
        if (outcome.kind === 'stream-deleted') response.setError(batchAppendStatus.streamDeleted(write.stream));
        else if (outcome.kind === 'wrong-expected-version') {
          response.setError(batchAppendStatus.wrongExpectedVersion(outcome.currentVersion, write.expected));
        } else {
          // BatchAppendResp.Success.Completed
          const success = new streamsPb.BatchAppendResp.Success();
          if (outcome.lastRevision >= 0n) success.setCurrentRevision(outcome.lastRevision.toString());
          else success.setNoStream(new GoogleEmpty());
          if (outcome.position !== null && outcome.position >= 0n) {
            const position = new sharedPb.AllStreamPosition();
            position.setCommitPosition(outcome.position.toString());
            position.setPreparePosition(outcome.position.toString());
            success.setPosition(position);
          } else success.setNoPosition(new GoogleEmpty());
          response.setSuccess(success);
        }
      });
    } catch (error) {
      // Any exception while taking a request becomes a BadRequest answer for it.
      const message = error instanceof RpcFailure ? error.details : error instanceof Error ? error.message : String(error);
      respond(correlation, options?.getStreamIdentifier(), (r) => r.setError(batchAppendStatus.badRequest(message)));
    }
  };

  const fail = (failure: RpcFailure) => {
    if (ended) return;
    ended = true;
    for (const write of pending.values()) clearTimeout(write.timer);
    pending.clear();
    call.emit('error', failure);
  };

  call.on('data', (request: streamsPb.BatchAppendReq) => {
    queue = queue.then(async () => {
      if (ended || call.cancelled) return;
      try {
        await gate();
      } catch (error) {
        fail(toRpcFailure(error));
        return;
      }
      if (!ended && !call.cancelled) handle(request);
    });
  });
  call.on('end', () => {
    // The client is done sending: answer what is queued, then complete the call.
    void queue.then(() => {
      if (ended || call.cancelled) return;
      ended = true;
      for (const write of pending.values()) clearTimeout(write.timer);
      call.end();
    });
  });
  const release = () => {
    ended = true;
    for (const write of pending.values()) clearTimeout(write.timer);
    pending.clear();
  };
  call.on('cancelled', release);
  call.on('error', () => undefined);
}
