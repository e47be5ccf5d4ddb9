import { KurrentDBClient, jsonEvent } from '@kurrent/kurrentdb-client';
import { randomUUID } from 'node:crypto';
import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../../../test/kurrentdb-emulator/emulator';
import { StoreUnavailableError, StreamDeletedError, WrongExpectedVersionError } from '../event-store.errors';
import type { NewEvent, RecordedEvent } from '../event-store.port';
import { KurrentDbEventStore } from './kurrentdb-event-store';

/**
 * What the KurrentDB adapter does when the server or the client misbehaves,
 * through the wire-level emulator and its faults: the real client, real HTTP/2.
 * Each case is a finding of issue 16 that the adapter once got wrong.
 */
jest.setTimeout(30_000);

let emulator: KurrentDbEmulator;
const stores: KurrentDbEventStore[] = [];

beforeAll(async () => {
  emulator = await startKurrentDbEmulator();
});
afterEach(async () => {
  emulator.faults.clear();
  if (!emulator.running) await emulator.start();
  await Promise.all(stores.splice(0).map((s) => s.close()));
});
afterAll(async () => emulator?.close());

function open(options = ''): KurrentDbEventStore {
  const store = KurrentDbEventStore.fromConnectionString(`${emulator.connectionString}${options}`);
  stores.push(store);
  return store;
}

const stream = () => `entry-${randomUUID()}`;
const event = (): NewEvent => ({
  id: randomUUID(),
  type: 'Noted',
  data: { n: Math.random() },
  metadata: { recordedBy: 'failures', correlationId: randomUUID(), causationId: null, schemaVersion: 1 },
});

/** Retries `run` until it resolves, for at most `ms`. */
async function eventually<T>(run: () => Promise<T>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('reconnecting', () => {
  it('reads recover by themselves when KurrentDB was down at the first read', async () => {
    await emulator.stop();
    const store = open();
    await expect(store.readStream(stream())).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailableError);
    await emulator.start();
    const s = stream();
    await eventually(() => store.append(s, [event()], 'no-stream'));
    expect(await eventually(() => store.readStream(s))).toHaveLength(1);
    expect(await store.headPosition()).not.toBeNull();
    expect((await store.readAll()).some((e) => e.stream === s)).toBe(true);
  });

  it('reads and appends recover after a later outage', async () => {
    const store = open();
    const s = stream();
    await store.append(s, [event()], 'no-stream');
    expect(await store.readStream(s)).toHaveLength(1);
    await emulator.stop();
    await expect(store.readStream(s)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.append(s, [event()], 0)).rejects.toBeInstanceOf(StoreUnavailableError);
    await emulator.start();
    await eventually(() => store.append(s, [event()], 0));
    expect(await eventually(() => store.readStream(s))).toHaveLength(2);
  });
});

describe('appending', () => {
  it("answers with the append's own position, without reading it back", async () => {
    const store = open();
    const s = stream();
    await store.readStream(s); // connected
    const reads = () => emulator.faults.callCounts()['Streams.Read'] ?? 0;
    const before = reads();
    const first = await store.append(s, [event()], 'no-stream');
    const second = await store.append(s, [event(), event()], 0);
    expect(reads()).toBe(before);
    const recorded = await store.readStream(s);
    expect(first.position).toBe(recorded[0].position);
    expect(second).toEqual({ revision: 2, position: recorded[2].position });
  });

  it('never reports a committed write as failed when reads fail', async () => {
    const store = open();
    const s = stream();
    await store.readStream(s);
    emulator.faults.refuse({ method: 'Streams.Read' });
    const appended = await store.append(s, [event()], 'no-stream');
    emulator.faults.clear();
    const [recorded] = await store.readStream(s);
    expect(appended).toEqual({ revision: 0, position: recorded.position });
  });

  it('a retry of an append that succeeded answers as the original did', async () => {
    const store = open();
    const s = stream();
    const events = [event()];
    const original = await store.append(s, events, 'no-stream');
    expect(await store.append(s, events, 'no-stream')).toEqual(original);
    expect(await store.readStream(s)).toHaveLength(1);
  });

  it('reports the actual revision of a wrong expected one, even with throwOnAppendFailure=false', async () => {
    const store = open('&throwOnAppendFailure=false');
    const s = stream();
    await store.append(s, [event(), event(), event()], 'no-stream');
    const refused = await store.append(s, [event()], 0).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WrongExpectedVersionError);
    expect((refused as WrongExpectedVersionError).actual).toBe(2);
  });
});

/** Where KurrentDB gives less than the embedded store (NewEvent.id states both): the port promises only what both keep. */
describe('event ids', () => {
  it("recognises a retry at 'any' only while its ids are in the server's cache of recent ids; then it writes a duplicate", async () => {
    const store = open();
    const s = stream();
    const retried = [event()];
    const original = await store.append(s, retried, 'any');
    expect(await store.append(s, retried, 'any')).toEqual(original);
    expect(await store.readStream(s)).toHaveLength(1);
    for (let i = 0; i < 300; i++) await store.append(stream(), [event()], 'any'); // the emulator keeps 256, as a small server cache would
    await store.append(s, retried, 'any');
    expect((await store.readStream(s)).map((e) => e.id)).toEqual([retried[0].id, retried[0].id]);
  });

  it('accepts an id used in another stream as a new event', async () => {
    const store = open();
    const reused = event();
    await store.append(stream(), [reused], 'no-stream');
    const s = stream();
    const appended = await store.append(s, [reused], 'no-stream');
    expect((await store.readStream(s)).map((e) => [e.id, e.position])).toEqual([[reused.id, appended.position]]);
  });
});

describe('recordedAt', () => {
  it('is the same, to the millisecond, through readStream, readAll and a live subscription', async () => {
    const store = open();
    const s = stream();
    const head = await store.headPosition();
    // Live first, so that the event reaches the subscription through the server's push, not a history read.
    const subscription = store.subscribeToAll(head ? { after: head } : {});
    const iterator = subscription[Symbol.asyncIterator]();
    const arrived = (async () => {
      for (;;) {
        const next = await iterator.next();
        const live = next.done ? undefined : next.value.find((e) => e.stream === s);
        if (live || next.done) return live;
      }
    })();
    await eventually(async () => {
      if (!(emulator.faults.inFlightCalls()['Streams.Read'] >= 1)) throw new Error('not subscribed yet');
    });
    const before = Date.now();
    await store.append(s, [event()], 'no-stream');
    const after = Date.now();
    const live = await arrived;
    await subscription.close();

    const [fromStream] = await store.readStream(s);
    const fromAll = (await store.readAll(head ? { after: head } : {})).find((e) => e.stream === s)!;
    expect(fromAll.recordedAt).toBe(fromStream.recordedAt);
    expect(live!.recordedAt).toBe(fromStream.recordedAt);
    // To the millisecond: within the append's call, not rounded down to the second.
    expect(Date.parse(fromStream.recordedAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(fromStream.recordedAt)).toBeLessThanOrEqual(after);
    expect(fromStream.metadata).not.toHaveProperty('$recordedAt'); // the store's key, not the writer's metadata
  });
});

describe('deleted streams', () => {
  it('reading or appending to a tombstoned stream is a StreamDeletedError, not the client raw error', async () => {
    const store = open();
    const s = stream();
    await store.append(s, [event()], 'no-stream');
    const client = KurrentDBClient.connectionString(emulator.connectionString);
    try {
      await client.tombstoneStream(s);
    } finally {
      await client.dispose();
    }
    await expect(store.readStream(s)).rejects.toBeInstanceOf(StreamDeletedError);
    await expect(store.append(s, [event()], 0)).rejects.toBeInstanceOf(StreamDeletedError);
  });
});

describe('metadata', () => {
  it('refuses an event whose metadata is not ours, naming it, instead of passing it off as EventMetadata', async () => {
    const store = open();
    const s = stream();
    const client = KurrentDBClient.connectionString(emulator.connectionString);
    try {
      await client.appendToStream(s, jsonEvent({ type: 'Foreign', data: { x: 1 }, metadata: { source: 'another tool' } }));
    } finally {
      await client.dispose();
    }
    await expect(store.readStream(s)).rejects.toThrow(new RegExp(`${s}@0.*metadata`));
  });
});
