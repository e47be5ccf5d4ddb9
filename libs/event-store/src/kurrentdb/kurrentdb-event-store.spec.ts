import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../../../test/kurrentdb-emulator/emulator';
import { describeEventStoreContract } from '../testing/event-store.contract';
import { KurrentDbEventStore } from './kurrentdb-event-store';

/**
 * The port's contract on the KurrentDB adapter: in every run through the
 * wire-level emulator (test/kurrentdb-emulator: the real client over real
 * HTTP/2), and against a real server as well whenever
 * EVENTSTORE_CONNECTION_STRING is set (`docker compose up kurrentdb`).
 */
describe('KurrentDB adapter', () => {
  let emulator: KurrentDbEmulator;
  beforeAll(async () => {
    emulator = await startKurrentDbEmulator();
  });
  afterAll(async () => emulator?.close());

  describeEventStoreContract('KurrentDB (emulator)', async () => {
    const store = KurrentDbEventStore.fromConnectionString(emulator.connectionString);
    return { store, dispose: () => store.close() };
  });
});

const server = process.env.EVENTSTORE_CONNECTION_STRING;
if (server) {
  describeEventStoreContract(`KurrentDB (${server})`, async () => {
    const store = KurrentDbEventStore.fromConnectionString(server);
    return { store, dispose: () => store.close() };
  });
}
