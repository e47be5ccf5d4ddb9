/**
 * Errors the way KurrentDB sends them, because clients decode them by shape:
 *
 * - call failures are gRPC statuses whose trailers carry `exception: <kind>` plus
 *   details (RpcExceptions.cs; keys in Transport/Grpc/Constants.cs). The Node client
 *   maps those trailers to its errors (convertToCommandError), the Rust client of
 *   the read bridge looks at `exception: stream-deleted` / `not-leader` and the code.
 * - BatchAppend never fails the call for a bad write: each answer carries a
 *   google.rpc.Status whose `details` Any packs an event_store.client message
 *   (Status.cs), which the Node client unpacks by type name (unpackToCommandError).
 */
import * as grpc from '@grpc/grpc-js';
import { Any, GoogleEmpty, RpcCode, sharedPb, statusPb } from './protocol';
import { ExpectedVersion } from './positions';

/** A gRPC status to end a call with; throwable inside handlers. */
export class RpcFailure extends Error implements grpc.ServerErrorResponse {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
    readonly metadata: grpc.Metadata = new grpc.Metadata(),
  ) {
    super(details);
  }
}

function withTrailers(code: grpc.status, details: string, trailers: Record<string, string>): RpcFailure {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.add(key, value);
  return new RpcFailure(code, details, metadata);
}

/** RpcExceptions.* */
export const rpcErrors = {
  streamDeleted: (stream: string) =>
    withTrailers(grpc.status.FAILED_PRECONDITION, `Event stream '${stream}' is deleted.`, {
      exception: 'stream-deleted',
      'stream-name': stream,
    }),
  /** Delete/Tombstone only; Append reports it in its response, BatchAppend in a Status. */
  wrongExpectedVersion: (operation: string, stream: string, expected: bigint, actual: bigint) =>
    withTrailers(
      grpc.status.FAILED_PRECONDITION,
      `${operation} failed due to WrongExpectedVersion. Stream: ${stream}, Expected version: ${expected}, Actual version: ${actual}`,
      { exception: 'wrong-expected-version', 'stream-name': stream, 'expected-version': expected.toString(), 'actual-version': actual.toString() },
    ),
  requiredMetadataPropertyMissing: (property: string) =>
    withTrailers(grpc.status.INVALID_ARGUMENT, `Required Metadata Property '${property}' is missing`, {
      exception: 'missing-required-metadata-property',
      'required-metadata-properties': 'type,content-type',
    }),
  maxAppendSizeExceeded: (maxAppendSize: number) =>
    withTrailers(grpc.status.INVALID_ARGUMENT, `Maximum Append Size of ${maxAppendSize} Exceeded.`, {
      exception: 'maximum-append-size-exceeded',
      'maximum-append-size': String(maxAppendSize),
    }),
  /** Subscriptions from a position that is not a record boundary (ReadResponseException.InvalidPosition). */
  invalidPosition: () => new RpcFailure(grpc.status.INVALID_ARGUMENT, 'Trying to read from an invalid position.'),
  invalidArgument: (message: string) => new RpcFailure(grpc.status.INVALID_ARGUMENT, message),
  /** RpcExceptions.UnknownError(resultType, result, message): what reads answer for a storage error. */
  unknownResult: (resultType: string, result: string, message: string) =>
    new RpcFailure(grpc.status.UNKNOWN, `Unexpected ${resultType}: ${result} >> ${message}`),
  /** What ASP.NET Core gRPC answers when a handler throws (EnableDetailedErrors off). */
  handlerThrew: () => new RpcFailure(grpc.status.UNKNOWN, 'Exception was thrown by handler.'),
  unavailable: (details: string) => new RpcFailure(grpc.status.UNAVAILABLE, details),
  unimplemented: (what: string) =>
    new RpcFailure(grpc.status.UNIMPLEMENTED, `${what} is not implemented by the KurrentDB emulator`),
};

function packed(message: { serializeBinary(): Uint8Array }, typeName: string): Any {
  const any = new Any();
  any.pack(message.serializeBinary(), typeName);
  return any;
}

function status(code: RpcCode, message: string, details: Any): statusPb.Status {
  const result = new statusPb.Status();
  result.setCode(code);
  result.setMessage(message);
  result.setDetails(details);
  return result;
}

/** Status.* as BatchAppend answers carry them. */
export const batchAppendStatus = {
  /** Status.WrongExpectedVersion: ALREADY_EXISTS with event_store.client.WrongExpectedVersion (WrongExpectedVersion.Create). */
  wrongExpectedVersion(currentVersion: bigint, expected: bigint): statusPb.Status {
    const details = new sharedPb.WrongExpectedVersion();
    if (currentVersion < 0n) details.setCurrentNoStream(new GoogleEmpty());
    else details.setCurrentStreamRevision(currentVersion.toString());
    if (expected === ExpectedVersion.Any) details.setExpectedAny(new GoogleEmpty());
    else if (expected === ExpectedVersion.NoStream) details.setExpectedNoStream(new GoogleEmpty());
    else if (expected === ExpectedVersion.StreamExists) details.setExpectedStreamExists(new GoogleEmpty());
    else details.setExpectedStreamPosition(expected.toString());
    return status(RpcCode.ALREADY_EXISTS, 'WrongExpectedVersion', packed(details, 'event_store.client.WrongExpectedVersion'));
  },
  /** Status.StreamDeleted: NOT_FOUND with event_store.client.StreamDeleted. */
  streamDeleted(stream: string): statusPb.Status {
    const identifier = new sharedPb.StreamIdentifier();
    identifier.setStreamName(Buffer.from(stream, 'utf8'));
    const details = new sharedPb.StreamDeleted();
    details.setStreamIdentifier(identifier);
    return status(RpcCode.NOT_FOUND, 'StreamDeleted', packed(details, 'event_store.client.StreamDeleted'));
  },
  /** Status.BadRequest: what a request the server cannot take (malformed id, missing metadata) gets. */
  badRequest(message: string): statusPb.Status {
    const details = new sharedPb.BadRequest();
    details.setMessage(message);
    return status(RpcCode.INVALID_ARGUMENT, 'BadRequest', packed(details, 'event_store.client.BadRequest'));
  },
  maximumAppendSizeExceeded(maxAppendSize: number): statusPb.Status {
    const details = new sharedPb.MaximumAppendSizeExceeded();
    details.setMaxappendsize(maxAppendSize);
    return status(RpcCode.INVALID_ARGUMENT, 'MaximumAppendSizeExceeded', packed(details, 'event_store.client.MaximumAppendSizeExceeded'));
  },
  /** Status.Timeout: the write's deadline passed before it was written. */
  timeout(): statusPb.Status {
    return status(RpcCode.DEADLINE_EXCEEDED, 'Timeout', packed(new sharedPb.Timeout(), 'event_store.client.Timeout'));
  },
};

/** Turns anything a handler threw into the status to answer with. */
export function toRpcFailure(error: unknown): RpcFailure {
  return error instanceof RpcFailure ? error : rpcErrors.handlerThrew();
}
