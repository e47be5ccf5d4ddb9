/**
 * event_store.client.server_features.ServerFeatures/GetSupportedMethods.
 *
 * Clients ask this first and choose their code paths from it (the Node client
 * uses BatchAppend only if it is listed, and refuses multiStreamAppend /
 * appendRecords unless the v2 methods are; the Rust client behind readStream /
 * readAll calls it before its first read). So it lists exactly the methods this
 * emulator implements, in the server's shape (ServerFeatures.cs): service and
 * method names lower-cased, the features the server attaches ("position",
 * "events" for Streams.Read, "deadline_duration" for BatchAppend), and the
 * server version as major.minor.patch.
 */
import * as grpc from '@grpc/grpc-js';
import { type IServerFeaturesServer, serverFeaturesPb } from './protocol';

export interface SupportedMethod {
  service: string;
  method: string;
  features?: readonly string[];
}

/** What this emulator implements (the other services answer UNIMPLEMENTED). */
export const SUPPORTED_METHODS: readonly SupportedMethod[] = [
  { service: 'event_store.client.streams.Streams', method: 'Read', features: ['position', 'events'] },
  { service: 'event_store.client.streams.Streams', method: 'Append' },
  { service: 'event_store.client.streams.Streams', method: 'Delete' },
  { service: 'event_store.client.streams.Streams', method: 'Tombstone' },
  { service: 'event_store.client.streams.Streams', method: 'BatchAppend', features: ['deadline_duration'] },
  { service: 'event_store.client.server_features.ServerFeatures', method: 'GetSupportedMethods' },
];

/** The KurrentDB release the product pins in docker-compose.yml (26.0.3). */
export const DEFAULT_SERVER_VERSION = '26.0.3';

export function serverFeaturesService(serverVersion: string): IServerFeaturesServer {
  return {
    getSupportedMethods: (_call: grpc.ServerUnaryCall<unknown, serverFeaturesPb.SupportedMethods>, callback) => {
      const response = new serverFeaturesPb.SupportedMethods();
      response.setEventStoreServerVersion(serverVersion.split('.').slice(0, 3).join('.'));
      for (const supported of SUPPORTED_METHODS) {
        const method = new serverFeaturesPb.SupportedMethod();
        method.setServiceName(supported.service.toLowerCase());
        method.setMethodName(supported.method.toLowerCase());
        method.setFeaturesList([...(supported.features ?? [])]);
        response.addMethods(method);
      }
      callback(null, response);
    },
  };
}
