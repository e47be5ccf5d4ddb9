import { describeEventStoreContract } from '../testing/event-store.contract';
import { KurrentDbEventStore } from './kurrentdb-event-store';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  describeEventStoreContract('KurrentDB', async () => {
    const store = KurrentDbEventStore.fromConnectionString(connectionString);
    return { store, dispose: () => store.close() };
  });
} else {
  describe('EventStore contract: KurrentDB', () => {
    // No KurrentDB here: say so plainly in the test report rather than passing silently.
    it.skip('SKIPPED: set EVENTSTORE_CONNECTION_STRING (e.g. kurrentdb://localhost:2113?tls=false) to run the contract suite against KurrentDB', () => undefined);
  });
}
