/**
 * A KurrentDB stand-in that speaks the server's gRPC API over real HTTP/2, so the
 * real @kurrent/kurrentdb-client (grpc-js for appends and subscriptions, the
 * native @kurrent/bridge for readStream/readAll) can be tested without a server.
 *
 *   const emulator = await startKurrentDbEmulator();
 *   const client = KurrentDBClient.connectionString(emulator.connectionString);
 *   ...
 *   await client.dispose();
 *   await emulator.close();
 *
 * It encodes our reading of the server (see README.md in this folder): it proves
 * our code and the client's wire paths, not KurrentDB's behaviour.
 */
import * as grpc from '@grpc/grpc-js';
import { DEFAULT_APPEND_LIMITS, type AppendLimits } from './appends';
import { Faults, guardService } from './faults';
import { Journal } from './journal';
import { EventLog } from './log';
import { ServerFeaturesService, StreamsService } from './protocol';
import { DEFAULT_SERVER_VERSION, serverFeaturesService } from './server-features.service';
import { streamsService } from './streams.service';
import { UNIMPLEMENTED_SERVICES, unimplementedService } from './unimplemented.services';

export interface KurrentDbEmulatorOptions {
  /** TCP port; 0 or omitted: a free one, kept across stop()/start(). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Persist the log to this file (JSON lines, fsync'd per write) and reload it at start. */
  dataFile?: string;
  /** Capacity of the weak-idempotency cache of recent event ids (default 256). */
  recentEventIds?: number;
  /** Reported by ServerFeatures (default: the version docker-compose.yml pins). */
  serverVersion?: string;
  appendLimits?: Partial<AppendLimits>;
}

export interface KurrentDbEmulator {
  readonly host: string;
  readonly port: number;
  /** e.g. kurrentdb://127.0.0.1:41234?tls=false */
  readonly connectionString: string;
  readonly faults: Faults;
  /** The log itself, for assertions a client cannot make (positions, sizes). Do not write to it. */
  readonly log: EventLog;
  readonly running: boolean;
  /** Takes the server down: connections reset, calls in flight fail, the port refuses connections. */
  stop(): Promise<void>;
  /** Brings it back on the same port, with the same log (a restarted node: its id cache is empty). */
  start(): Promise<void>;
  /** Stops for good and closes the data file. */
  close(): Promise<void>;
}

/** Streams.Read, ServerFeatures and the rest: gRPC's own receive limit, set as the server sets it (TFConsts.EffectiveMaxLogRecordSize). */
const MAX_RECEIVE_MESSAGE_LENGTH = 16 * 1024 * 1024 - 10_000;

export async function startKurrentDbEmulator(options: KurrentDbEmulatorOptions = {}): Promise<KurrentDbEmulator> {
  const host = options.host ?? '127.0.0.1';
  const opened = options.dataFile ? Journal.open(options.dataFile) : null;
  const log = new EventLog({ recentEventIds: options.recentEventIds, journal: opened?.journal, history: opened?.writes });
  const faults = new Faults();
  const limits: AppendLimits = { ...DEFAULT_APPEND_LIMITS, ...options.appendLimits };
  const serverVersion = options.serverVersion ?? DEFAULT_SERVER_VERSION;

  let port = options.port ?? 0;
  let server: grpc.Server | null = null;
  let closed = false;

  const createServer = (): grpc.Server => {
    const created = new grpc.Server({ 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_LENGTH });
    created.addService(
      StreamsService,
      guardService(StreamsService, streamsService(log, limits, faults), faults, new Set(['Streams.BatchAppend'])),
    );
    created.addService(ServerFeaturesService, guardService(ServerFeaturesService, serverFeaturesService(serverVersion), faults));
    for (const definition of UNIMPLEMENTED_SERVICES) {
      created.addService(definition, guardService(definition, unimplementedService(definition), faults));
    }
    return created;
  };

  const start = async (): Promise<void> => {
    if (closed) throw new Error('the emulator is closed');
    if (server) return;
    const created = createServer();
    port = await new Promise<number>((resolve, reject) =>
      created.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    server = created;
    faults.self = { host, port };
  };

  const stop = async (): Promise<void> => {
    const running = server;
    if (!running) return;
    server = null;
    // forceShutdown, not tryShutdown: a server that goes down does not wait for subscriptions to end.
    running.forceShutdown();
    // A restarted node has lost its in-memory cache of recent event ids.
    log.forgetRecentEventIds();
  };

  await start();

  return {
    host,
    get port() {
      return port;
    },
    get connectionString() {
      return `kurrentdb://${host}:${port}?tls=false`;
    },
    faults,
    log,
    get running() {
      return server !== null;
    },
    start,
    stop,
    async close() {
      if (closed) return;
      await stop();
      closed = true;
      opened?.journal.close();
    },
  };
}
