/**
 * The client package's other services, registered so that every call the client
 * can make gets an answer from this server: UNIMPLEMENTED (gRPC status 12), never
 * an invented result. ServerFeatures does not list them, so clients that check
 * capabilities first fail on their side (the Node client's UnsupportedError);
 * the others reach these handlers.
 */
import type * as grpc from '@grpc/grpc-js';
import { methodName } from './faults';
import {
  GossipService,
  OperationsService,
  PersistentSubscriptionsService,
  ProjectionsService,
  ServerInfoV2Service,
  StreamsV2Service,
  UsersService,
} from './protocol';
import { rpcErrors } from './rpc-errors';

export const UNIMPLEMENTED_SERVICES: readonly grpc.ServiceDefinition[] = [
  GossipService,
  OperationsService,
  PersistentSubscriptionsService,
  ProjectionsService,
  UsersService,
  StreamsV2Service,
  ServerInfoV2Service,
];

export function unimplementedService(definition: grpc.ServiceDefinition): grpc.UntypedServiceImplementation {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(definition)) {
    const failure = rpcErrors.unimplemented(methodName(method.path));
    implementation[key] = method.responseStream
      ? ((call: grpc.ServerWritableStream<unknown, unknown>) => void call.emit('error', failure)) as grpc.handleServerStreamingCall<unknown, unknown>
      : ((_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(failure)) as grpc.handleUnaryCall<unknown, unknown>;
  }
  return implementation;
}
