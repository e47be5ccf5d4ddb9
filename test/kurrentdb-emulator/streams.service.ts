/**
 * event_store.client.streams.Streams: every method of the service the client package
 * defines, implemented over the in-memory log.
 */
import type * as grpc from '@grpc/grpc-js';
import { append, batchAppend, type AppendLimits } from './appends';
import { softDelete, tombstone } from './deletes';
import type { Faults } from './faults';
import type { EventLog } from './log';
import type { IStreamsServer, streamsPb } from './protocol';
import { decodeReadRequest } from './read-request';
import { readAll, readStream } from './reads';
import { ResponseSink } from './response-sink';
import { toRpcFailure } from './rpc-errors';
import { subscribeToAll, subscribeToStream } from './subscriptions';

async function read(log: EventLog, call: grpc.ServerWritableStream<streamsPb.ReadReq, streamsPb.ReadResp>): Promise<void> {
  const sink = new ResponseSink(call);
  try {
    const request = decodeReadRequest(call.request);
    switch (request.kind) {
      case 'read-stream':
        await readStream(log, request, sink);
        sink.end();
        return;
      case 'read-all':
        await readAll(log, request, sink);
        sink.end();
        return;
      case 'subscribe-all':
        // Stays open until the client cancels, the server stops, or a fault drops it.
        await subscribeToAll(log, request, sink);
        return;
      case 'subscribe-stream':
        await subscribeToStream(log, request, sink);
        return;
    }
  } catch (error) {
    sink.fail(toRpcFailure(error));
  }
}

export function streamsService(log: EventLog, limits: AppendLimits, faults: Faults): IStreamsServer {
  return {
    read: (call) => void read(log, call),
    append: (call, callback) => append(log, limits, call, callback),
    delete: (call, callback) => softDelete(log, call, callback),
    tombstone: (call, callback) => tombstone(log, call, callback),
    batchAppend: (call) => batchAppend(log, limits, call, () => faults.admit('Streams.BatchAppend')),
  };
}
