/**
 * Streams.Delete (soft delete) and Streams.Tombstone (hard delete), as
 * Streams.Delete.cs and StorageWriterService.WriteDelete do them:
 *
 * - soft delete writes `{"$tb": 2^63-1}` as the stream's metadata: reads then say
 *   StreamNotFound, the events stay in $all, and a later append brings the stream
 *   back with revisions continuing (the server rewrites `$tb` to the first new one).
 *   Deleting a stream that never existed is a WrongExpectedVersion, whatever was expected.
 * - tombstone writes a `$streamDeleted` record (event number 2^63-1, visible in
 *   $all); afterwards reads and appends fail with `exception: stream-deleted`, for good.
 * - the expected revision is checked like an append's; failures are call errors
 *   (FAILED_PRECONDITION with `exception: wrong-expected-version` or `stream-deleted`).
 * - the answer carries the position of the record written.
 */
import type * as grpc from '@grpc/grpc-js';
import type { EventLog, Expected } from './log';
import { ExpectedVersion } from './positions';
import { sharedPb, streamsPb } from './protocol';
import { streamNameOf } from './read-responses';
import { rpcErrors, toRpcFailure } from './rpc-errors';

interface DeleteOptions {
  getStreamIdentifier(): sharedPb.StreamIdentifier | undefined;
  hasRevision(): boolean;
  getRevision(): string;
  hasAny(): boolean;
  hasNoStream(): boolean;
  hasStreamExists(): boolean;
}

function expectedOf(options: DeleteOptions): Expected {
  if (options.hasRevision()) {
    const value = BigInt(options.getRevision());
    return value === (1n << 64n) - 1n ? ExpectedVersion.NoStream : value;
  }
  if (options.hasAny()) return ExpectedVersion.Any;
  if (options.hasNoStream()) return ExpectedVersion.NoStream;
  if (options.hasStreamExists()) return ExpectedVersion.StreamExists;
  throw rpcErrors.invalidArgument("'None' is not a valid ExpectedStreamRevisionOneofCase");
}

function deleteStream(log: EventLog, options: DeleteOptions | undefined, hard: boolean, operation: string): bigint | null {
  if (!options) throw rpcErrors.handlerThrew();
  const stream = streamNameOf(options.getStreamIdentifier());
  const expected = expectedOf(options);
  const outcome = log.delete(stream, expected, hard);
  if (outcome.kind === 'stream-deleted') throw rpcErrors.streamDeleted(stream);
  if (outcome.kind === 'wrong-expected-version') throw rpcErrors.wrongExpectedVersion(operation, stream, expected, outcome.currentVersion);
  return outcome.position;
}

/** DeleteResp and TombstoneResp: the same answer in two generated classes. */
interface PositionMessage {
  setCommitPosition(value: string): void;
  setPreparePosition(value: string): void;
}
interface DeleteAnswer<P extends PositionMessage> {
  setNoPosition(value: sharedPb.Empty): void;
  setPosition(value: P): void;
}

/** The record's position as both commit and prepare (self-committed, as the server writes it), or no_position. */
function answer<P extends PositionMessage, R extends DeleteAnswer<P>>(response: R, Position: new () => P, position: bigint | null): R {
  if (position === null) {
    response.setNoPosition(new sharedPb.Empty());
    return response;
  }
  const p = new Position();
  p.setCommitPosition(position.toString());
  p.setPreparePosition(position.toString());
  response.setPosition(p);
  return response;
}

export function softDelete(
  log: EventLog,
  call: grpc.ServerUnaryCall<streamsPb.DeleteReq, streamsPb.DeleteResp>,
  callback: grpc.sendUnaryData<streamsPb.DeleteResp>,
): void {
  try {
    const position = deleteStream(log, call.request.getOptions(), false, 'Delete');
    callback(null, answer(new streamsPb.DeleteResp(), streamsPb.DeleteResp.Position, position));
  } catch (error) {
    callback(toRpcFailure(error));
  }
}

export function tombstone(
  log: EventLog,
  call: grpc.ServerUnaryCall<streamsPb.TombstoneReq, streamsPb.TombstoneResp>,
  callback: grpc.sendUnaryData<streamsPb.TombstoneResp>,
): void {
  try {
    // Streams.Tombstone reports a wrong expected version with the operation name "Delete" too.
    const position = deleteStream(log, call.request.getOptions(), true, 'Delete');
    callback(null, answer(new streamsPb.TombstoneResp(), streamsPb.TombstoneResp.Position, position));
  } catch (error) {
    callback(toRpcFailure(error));
  }
}
