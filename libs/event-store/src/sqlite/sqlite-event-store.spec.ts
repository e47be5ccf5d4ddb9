import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuplicateEventIdError } from '../event-store.errors';
import { describeEventStoreContract } from '../testing/event-store.contract';
import { SqliteEventStore } from './sqlite-event-store';

describeEventStoreContract('embedded SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'timeline-store-'));
  const store = new SqliteEventStore(join(dir, 'events.sqlite'));
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

/** Where the embedded store is stricter than the port promises (NewEvent.id): KurrentDB's side is in kurrentdb-failures.spec.ts. */
describe('embedded SQLite: event ids', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'timeline-ids-'));
    store = new SqliteEventStore(join(dir, 'events.sqlite'));
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const event = () => ({
    id: randomUUID(),
    type: 'Noted',
    data: {},
    metadata: { recordedBy: 'ids', correlationId: randomUUID(), causationId: null, schemaVersion: 1 },
  });

  it("recognises a retry at 'any' however long ago the original was", async () => {
    const retried = [event()];
    const original = await store.append('entry-any', retried, 'any');
    for (let i = 0; i < 300; i++) await store.append(`entry-other-${i}`, [event()], 'any');
    expect(await store.append('entry-any', retried, 'any')).toEqual(original);
    expect(await store.readStream('entry-any')).toHaveLength(1);
  });

  it('refuses an id already used in another stream', async () => {
    const reused = event();
    await store.append('entry-first', [reused], 'no-stream');
    await expect(store.append('entry-second', [reused], 'no-stream')).rejects.toBeInstanceOf(DuplicateEventIdError);
    expect(await store.readStream('entry-second')).toEqual([]);
  });
});
