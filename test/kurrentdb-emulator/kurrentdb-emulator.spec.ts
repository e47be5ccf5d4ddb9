/**
 * The emulator, driven only by the real @kurrent/kurrentdb-client 1.3.1: appends
 * and subscriptions through its grpc-js code, readStream/readAll through its native
 * @kurrent/bridge (a Rust client with its own HTTP/2 connection).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  ANY,
  BACKWARDS,
  binaryEvent,
  CancelledError,
  END,
  eventTypeFilter,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  KurrentDBClient,
  NO_STREAM,
  NotLeaderError,
  persistentSubscriptionToStreamSettingsFromDefaults,
  START,
  STREAM_EXISTS,
  StreamDeletedError,
  streamNameFilter,
  StreamNotFoundError,
  UnavailableError,
  UnsupportedError,
  WrongExpectedVersionError,
  type AllStreamRecordedEvent,
  type AppendStreamState,
  type Position,
  type RecordedEvent,
} from '@kurrent/kurrentdb-client';
import { startKurrentDbEmulator, type KurrentDbEmulator } from './emulator';

jest.setTimeout(15_000);

const REPO_ROOT = join(__dirname, '..', '..');
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const event = (type: string, data: Record<string, unknown> = {}) => jsonEvent({ type, data });

async function readStream(client: KurrentDBClient, stream: string, options: Parameters<KurrentDBClient['readStream']>[1] = {}): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const resolved of client.readStream(stream, options)) if (resolved.event) out.push(resolved.event);
  return out;
}

async function readAll(client: KurrentDBClient, options: Parameters<KurrentDBClient['readAll']>[0] = {}): Promise<AllStreamRecordedEvent[]> {
  const out: AllStreamRecordedEvent[] = [];
  for await (const resolved of client.readAll(options)) if (resolved.event) out.push(resolved.event);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-error: ${String(error)}`);
  }
  throw new Error('expected a rejection, but it resolved');
}

/** What a client reports when the server cannot be reached: its UnavailableError, or the raw gRPC status 14 it sometimes lets through. */
function isUnavailable(error: Error): boolean {
  return error instanceof UnavailableError || error instanceof CancelledError || (error as { code?: unknown }).code === 14;
}

/**
 * Clients made for one test. The Rust client behind readStream/readAll sleeps its
 * discoveryInterval (500 ms by default) before its first connection, even to a single
 * node; these clients shorten it so the spec stays fast. The shared client keeps the default.
 */
const quickToConnect = (connectionString: string) => `${connectionString}&discoveryInterval=20`;

describe('KurrentDB emulator, through the real client', () => {
  let emulator: KurrentDbEmulator;
  let client: KurrentDBClient;
  const extraClients: KurrentDBClient[] = [];
  const connect = (connectionString = emulator.connectionString) => {
    const created = KurrentDBClient.connectionString(quickToConnect(connectionString));
    extraClients.push(created);
    return created;
  };

  beforeAll(async () => {
    emulator = await startKurrentDbEmulator({ recentEventIds: 8 });
    client = KurrentDBClient.connectionString(emulator.connectionString);
  });
  afterEach(async () => {
    await Promise.all(extraClients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => {
    await client.dispose();
    await emulator.close();
  });

  describe('append and read back', () => {
    it('round-trips JSON and binary events: ids, types, data, custom metadata, content type, revisions, positions', async () => {
      const stream = unique('roundtrip');
      const id = randomUUID().toUpperCase();
      const announced = jsonEvent({ id, type: 'Announced', data: { title: 'Lift-off', n: 1 }, metadata: { recordedBy: 'spec' } });
      const blob = binaryEvent({ type: 'Blob', data: Uint8Array.from([0, 1, 2, 255]), metadata: Uint8Array.from([0xff, 0x00, 0x7b]) });

      const result = await client.appendToStream(stream, [announced, blob], { streamState: NO_STREAM });
      expect(result).toMatchObject({ success: true, nextExpectedRevision: 1n });

      const [first, second] = await readStream(client, stream);
      expect(first).toMatchObject({
        streamId: stream,
        id: id.toLowerCase(), // the server answers Guid.ToString(): lower case
        type: 'Announced',
        revision: 0n,
        isJson: true,
        data: { title: 'Lift-off', n: 1 },
        metadata: { recordedBy: 'spec' },
      });
      expect(second).toMatchObject({ type: 'Blob', revision: 1n, isJson: false });
      expect(Buffer.from(second.data as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 255]));
      expect(Buffer.from(second.metadata as Uint8Array)).toEqual(Buffer.from([0xff, 0x00, 0x7b])); // not JSON: passed through as bytes
      // Commit = prepare = the record's offset; the append answers the last event's position.
      expect(first.position?.commit).toBe(first.position?.prepare);
      expect(second.position).toEqual(result.position);
      expect(second.position!.commit).toBeGreaterThan(first.position!.commit);
      expect(second.position!.commit).toBeLessThan(10n ** 20n);

      const inAll = await readAll(client, { filter: streamNameFilter({ prefixes: [stream] }) });
      expect(inAll.map((e) => [e.id, e.position])).toEqual([
        [first.id, first.position],
        [second.id, second.position],
      ]);
    });

    it('spaces positions by the size of the record the server would write', async () => {
      const stream = unique('sizes');
      await client.appendToStream(stream, [event('A'), jsonEvent({ type: 'B', data: { payload: 'x'.repeat(100) } })]);
      const [a, b] = await readStream(client, stream);
      const record = emulator.log.all.find((r) => r.id === a.id)!;
      expect(b.position!.commit - a.position!.commit).toBe(record.size);
      // 2 x 4 length prefix/suffix + 72 fixed bytes + stream + type + data(2 bytes "{}") + no metadata
      expect(record.size).toBe(BigInt(80 + 1 + stream.length + 1 + 1 + 4 + 2 + 4));
    });
  });

  // BatchAppend is what the client uses when ServerFeatures lists it; it falls back to
  // Append when a call carries credentials (ignored on an insecure connection).
  describe.each([
    ['BatchAppend', {}],
    ['Append', { credentials: { username: 'admin', password: 'changeit' } }],
  ] as const)('expected revision (%s)', (method, callOptions) => {
    const append = (stream: string, streamState: AppendStreamState, events = [event('E')]) =>
      client.appendToStream(stream, events, { streamState, ...callOptions });

    it(`goes through Streams.${method}`, async () => {
      emulator.faults.resetCounts();
      await append(unique('path'), ANY);
      if (method === 'Append') expect(emulator.faults.callCounts()['Streams.Append']).toBe(1);
      else {
        // One long-lived BatchAppend call carries every append of the client.
        expect(emulator.faults.callCounts()['Streams.Append']).toBeUndefined();
        expect(emulator.faults.inFlightCalls()['Streams.BatchAppend']).toBe(1);
      }
    });

    it('no_stream: only on a stream without events', async () => {
      const stream = unique('no-stream');
      expect(await append(stream, NO_STREAM)).toMatchObject({ success: true, nextExpectedRevision: 0n });
      const error = await rejection(append(stream, NO_STREAM));
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ streamName: stream, expectedState: NO_STREAM, actualState: 0n });
    });

    it('any: whatever the state', async () => {
      const stream = unique('any');
      expect(await append(stream, ANY)).toMatchObject({ nextExpectedRevision: 0n });
      expect(await append(stream, ANY)).toMatchObject({ nextExpectedRevision: 1n });
    });

    it('stream_exists: fails on a missing stream with actual no_stream, passes on an existing one', async () => {
      const stream = unique('exists');
      const error = await rejection(append(stream, STREAM_EXISTS));
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ expectedState: STREAM_EXISTS, actualState: NO_STREAM });
      await append(stream, NO_STREAM);
      expect(await append(stream, STREAM_EXISTS)).toMatchObject({ nextExpectedRevision: 1n });
    });

    it('exact revision: must be the last event; a failure reports the actual revision and writes nothing', async () => {
      const stream = unique('exact');
      await append(stream, NO_STREAM, [event('E0'), event('E1'), event('E2')]);
      for (const stale of [0n, 1n, 5n]) {
        const error = await rejection(append(stream, stale));
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        expect(error).toMatchObject({ expectedState: stale, actualState: 2n });
      }
      expect(await append(stream, 2n)).toMatchObject({ success: true, nextExpectedRevision: 3n });
      expect((await readStream(client, stream)).map((e) => e.type)).toEqual(['E0', 'E1', 'E2', 'E']);
    });
  });

  describe('idempotent retries (the cache of recent ids holds 8 here)', () => {
    const fill = async (count: number) => {
      for (let i = 0; i < count; i++) await client.appendToStream(unique('filler'), event('Filler'));
    };

    it('exact revision and no_stream: a retry answers the original result, however old it is', async () => {
      const stream = unique('strong');
      const first = [event('A'), event('B')];
      const third = [event('C')];
      const original = await client.appendToStream(stream, first, { streamState: NO_STREAM });
      const next = await client.appendToStream(stream, third, { streamState: 1n });
      await fill(10); // evicts both writes from the cache: the server then compares with the stream itself

      expect(await client.appendToStream(stream, first, { streamState: NO_STREAM })).toEqual(original);
      expect(await client.appendToStream(stream, third, { streamState: 1n })).toEqual(next);
      expect(await readStream(client, stream)).toHaveLength(3);
    });

    it('a retry that matches only in part is a wrong expected version', async () => {
      const stream = unique('partial');
      const a = event('A');
      await client.appendToStream(stream, [a, event('B')], { streamState: NO_STREAM });
      const error = await rejection(client.appendToStream(stream, [a, event('Other')], { streamState: NO_STREAM }));
      expect(error).toMatchObject({ actualState: 1n });
      expect(await readStream(client, stream)).toHaveLength(2);
    });

    it('any / stream_exists: recognised while the ids are cached, written again once evicted (as the server does)', async () => {
      const stream = unique('weak');
      const x = event('X');
      const original = await client.appendToStream(stream, x, { streamState: ANY });
      expect(await client.appendToStream(stream, x, { streamState: ANY })).toEqual(original);
      expect(await client.appendToStream(stream, x, { streamState: STREAM_EXISTS })).toEqual(original);
      expect(await readStream(client, stream)).toHaveLength(1);

      await fill(10);
      const duplicate = await client.appendToStream(stream, x, { streamState: ANY });
      expect(duplicate.nextExpectedRevision).toBe(1n);
      expect((await readStream(client, stream)).map((e) => e.id)).toEqual([x.id, x.id]);
    });
  });

  describe('reads', () => {
    let stream: string;
    let positions: Position[];
    beforeAll(async () => {
      stream = unique('reads');
      for (let i = 0; i < 5; i++) {
        await client.appendToStream(stream, event(`E${i}`));
        await client.appendToStream(unique('between'), event('Noise')); // other streams interleave in $all
      }
      positions = (await readStream(client, stream)).map((e) => e.position!);
    });
    const types = (events: { type: string }[]) => events.map((e) => e.type);
    const onlyOurs = () => streamNameFilter({ prefixes: [stream] });

    it('one stream, forwards and backwards, from a revision (inclusive), the start or the end, with a count', async () => {
      expect(types(await readStream(client, stream))).toEqual(['E0', 'E1', 'E2', 'E3', 'E4']);
      expect(types(await readStream(client, stream, { fromRevision: 2n, maxCount: 2 }))).toEqual(['E2', 'E3']);
      expect(types(await readStream(client, stream, { fromRevision: 3n, direction: BACKWARDS }))).toEqual(['E3', 'E2', 'E1', 'E0']);
      expect(types(await readStream(client, stream, { fromRevision: END, direction: BACKWARDS, maxCount: 2 }))).toEqual(['E4', 'E3']);
      expect(types(await readStream(client, stream, { fromRevision: 50n, direction: BACKWARDS, maxCount: 1 }))).toEqual(['E4']);
      expect(await readStream(client, stream, { fromRevision: 5n })).toEqual([]);
    });

    it('a missing stream is StreamNotFoundError', async () => {
      const error = await rejection(readStream(client, unique('missing')));
      expect(error).toBeInstanceOf(StreamNotFoundError);
    });

    it('$all forwards from a position includes the event there; backwards excludes it', async () => {
      expect(types(await readAll(client, { fromPosition: positions[2], filter: onlyOurs() }))).toEqual(['E2', 'E3', 'E4']);
      expect(types(await readAll(client, { fromPosition: positions[2], direction: BACKWARDS, filter: onlyOurs() }))).toEqual(['E1', 'E0']);
      const unfiltered = await readAll(client, { fromPosition: positions[2], maxCount: 2 });
      expect(unfiltered[0].position).toEqual(positions[2]);
      expect(unfiltered[1].type).toBe('Noise');
    });

    it('$all from the start and from the end, with counts', async () => {
      const everything = await readAll(client);
      expect(everything.length).toBeGreaterThanOrEqual(10);
      expect(everything.map((e) => e.position.commit)).toEqual([...everything.map((e) => e.position.commit)].sort((a, b) => (a < b ? -1 : 1)));
      expect(await readAll(client, { fromPosition: START, maxCount: 3 })).toEqual(everything.slice(0, 3));
      const [last] = await readAll(client, { fromPosition: END, direction: BACKWARDS, maxCount: 1 });
      expect(last).toEqual(everything[everything.length - 1]);
      expect(types(await readAll(client, { fromPosition: END, direction: BACKWARDS, maxCount: 2, filter: onlyOurs() }))).toEqual(['E4', 'E3']);
    });

    it('(client quirk) the bridge reads START forwards and END backwards, whatever direction is asked', async () => {
      // kurrentdb (Rust) 1.1.0: ReadAllOptions/ReadStreamOptions.position(Start|End) overwrite the direction.
      const everything = await readAll(client);
      expect(await readAll(client, { fromPosition: END, direction: FORWARDS })).toEqual([...everything].reverse());
      expect(await readAll(client, { fromPosition: START, direction: BACKWARDS })).toEqual(everything);
      expect(types(await readStream(client, stream, { fromRevision: END, direction: FORWARDS, maxCount: 1 }))).toEqual(['E4']);
    });
  });

  describe('server-side filters', () => {
    const id = randomUUID().slice(0, 8);
    const a = `flt-${id}-a`;
    const b = `flt-${id}-b`;
    beforeAll(async () => {
      await client.appendToStream(a, [event(`T${id}-OrderPlaced`), event(`T${id}-OrderShipped`), event(`$T${id}-system`)]);
      await client.appendToStream(b, [event(`T${id}-Invoice`)]);
      await client.setStreamMetadata(a, { maxCount: 100 }); // a $metadata event in the system stream $$flt-…-a
    });
    const seen = async (filter: Parameters<KurrentDBClient['readAll']>[0]) =>
      (await readAll(client, filter)).filter((e) => e.streamId.includes(id)).map((e) => `${e.streamId}:${e.type}`);

    it('excludeSystemEvents drops event types starting with $', async () => {
      expect(await seen({ filter: excludeSystemEvents() })).toEqual([`${a}:T${id}-OrderPlaced`, `${a}:T${id}-OrderShipped`, `${b}:T${id}-Invoice`]);
      expect(await seen({})).toContain(`$$${a}:$metadata`);
    });

    it('event type and stream name prefixes', async () => {
      expect(await seen({ filter: eventTypeFilter({ prefixes: [`T${id}-Order`] }) })).toEqual([`${a}:T${id}-OrderPlaced`, `${a}:T${id}-OrderShipped`]);
      expect(await seen({ filter: streamNameFilter({ prefixes: [b, `$$${a}`] }) })).toEqual([`${b}:T${id}-Invoice`, `$$${a}:$metadata`]);
    });

    it('regular expressions, forwards and backwards', async () => {
      expect(await seen({ filter: eventTypeFilter({ regex: `^T${id}-(Invoice|OrderShipped)$` }) })).toEqual([`${a}:T${id}-OrderShipped`, `${b}:T${id}-Invoice`]);
      expect(await seen({ direction: BACKWARDS, fromPosition: END, filter: streamNameFilter({ regex: `^flt-${id}-` }) })).toEqual([
        `${b}:T${id}-Invoice`,
        `${a}:$T${id}-system`,
        `${a}:T${id}-OrderShipped`,
        `${a}:T${id}-OrderPlaced`,
      ]);
    });
  });

  describe('subscriptions to $all', () => {
    it('confirm, deliver history after the position (exclusive), catch up, then hand over to live events', async () => {
      const stream = unique('sub');
      await client.appendToStream(stream, [event('H0'), event('H1'), event('H2')]);
      const [, h1] = await readStream(client, stream);
      const log: string[] = [];
      const subscription = client.subscribeToAll({ fromPosition: h1.position!, filter: streamNameFilter({ prefixes: [stream] }) });
      subscription.on('confirmation', () => log.push('confirmation'));
      subscription.on('caughtUp', () => {
        log.push('caughtUp');
        void client.appendToStream(stream, event('Live'));
      });
      for await (const resolved of subscription) {
        log.push(resolved.event!.type);
        if (resolved.event!.type === 'Live') break;
      }
      await subscription.unsubscribe();
      expect(log).toEqual(['confirmation', 'H2', 'caughtUp', 'Live']);
    });

    it('from the start sees everything; from the end only what comes next', async () => {
      const stream = unique('sub-ends');
      await client.appendToStream(stream, [event('Old')]);
      const fromStart = client.subscribeToAll({ fromPosition: START, filter: streamNameFilter({ prefixes: [stream] }) });
      const fromEnd = client.subscribeToAll({ fromPosition: END, filter: streamNameFilter({ prefixes: [stream] }) });
      await new Promise((resolve) => fromEnd.once('caughtUp', resolve));
      await client.appendToStream(stream, [event('New')]);
      const first = async (subscription: typeof fromStart, count: number) => {
        const types: string[] = [];
        for await (const resolved of subscription) if (types.push(resolved.event!.type) === count) break;
        await subscription.unsubscribe();
        return types;
      };
      expect(await first(fromStart, 2)).toEqual(['Old', 'New']);
      expect(await first(fromEnd, 1)).toEqual(['New']);
    });

    it('sends filter checkpoints when the client asks for them, in order, also while live', async () => {
      const checkpoints: Position[] = [];
      let live = false;
      let liveCheckpoint: () => void = () => undefined;
      const gotLiveCheckpoint = new Promise<void>((resolve) => (liveCheckpoint = resolve));
      const subscription = client.subscribeToAll({
        fromPosition: START,
        filter: eventTypeFilter({
          prefixes: ['nothing-matches-'],
          maxSearchWindow: 2,
          checkpointInterval: 1,
          checkpointReached: (_subscription, position) => {
            checkpoints.push(position);
            if (live) liveCheckpoint();
          },
        }),
      });
      subscription.on('data', () => undefined);
      await new Promise((resolve) => subscription.once('caughtUp', resolve));
      const duringCatchUp = checkpoints.length;
      expect(duringCatchUp).toBeGreaterThan(2); // every 2 considered events, and one on reaching the end
      live = true;
      await client.appendToStream(unique('cp'), [event('A'), event('B')]);
      await gotLiveCheckpoint;
      await subscription.unsubscribe();
      const commits = checkpoints.map((p) => p.commit);
      expect(commits).toEqual([...commits].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
      expect(checkpoints.length).toBeGreaterThan(duringCatchUp);
    });
  });

  it('`created` is the append time: to the millisecond on the grpc-js subscription, truncated to whole seconds by the bridge (readAll)', async () => {
    const stream = unique('created');
    const before = Date.now();
    await client.appendToStream(stream, event('Timed'));
    const after = Date.now();
    const subscription = client.subscribeToAll({ fromPosition: START, filter: streamNameFilter({ prefixes: [stream] }) });
    let viaSubscription: Date | undefined;
    for await (const resolved of subscription) {
      viaSubscription = resolved.event!.created;
      break;
    }
    await subscription.unsubscribe();
    const [viaReadAll] = await readAll(client, { filter: streamNameFilter({ prefixes: [stream] }) });
    const [viaReadStream] = await readStream(client, stream);

    expect(viaSubscription!.getTime()).toBeGreaterThanOrEqual(before);
    expect(viaSubscription!.getTime()).toBeLessThanOrEqual(after);
    // kurrentdb (Rust) 1.1.0 keeps ticks / 10_000_000: whole seconds.
    const wholeSecond = Math.floor(viaSubscription!.getTime() / 1000) * 1000;
    expect(viaReadAll.created.getTime()).toBe(wholeSecond);
    expect(viaReadStream.created.getTime()).toBe(wholeSecond);
  });

  describe('deleting streams', () => {
    it('soft delete: reads say not found, $all keeps the events, a new append continues the revisions', async () => {
      const stream = unique('soft');
      await client.appendToStream(stream, [event('A'), event('B')]);
      const deleted = await client.deleteStream(stream, { expectedRevision: 1n });
      expect(deleted.position).toBeDefined();
      expect(await rejection(readStream(client, stream))).toBeInstanceOf(StreamNotFoundError);
      expect((await readAll(client, { filter: streamNameFilter({ prefixes: [stream] }) })).map((e) => e.type)).toEqual(['A', 'B']);

      expect(await client.appendToStream(stream, event('C'), { streamState: NO_STREAM })).toMatchObject({ nextExpectedRevision: 2n });
      expect((await readStream(client, stream)).map((e) => [e.type, e.revision])).toEqual([['C', 2n]]);
    });

    it('soft delete: of a missing stream, or at the wrong revision, is WrongExpectedVersionError', async () => {
      expect(await rejection(client.deleteStream(unique('never')))).toBeInstanceOf(WrongExpectedVersionError);
      const stream = unique('soft-wev');
      await client.appendToStream(stream, [event('A')]);
      const error = await rejection(client.deleteStream(stream, { expectedRevision: 5n }));
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ streamName: stream, expectedState: 5n, actualState: 0n });
    });

    it('tombstone: reads and appends fail with StreamDeletedError for good', async () => {
      const stream = unique('tomb');
      await client.appendToStream(stream, [event('A')]);
      await client.tombstoneStream(stream);
      expect(await rejection(readStream(client, stream))).toBeInstanceOf(StreamDeletedError);
      expect(await rejection(client.appendToStream(stream, event('B')))).toBeInstanceOf(StreamDeletedError);
      expect(await rejection(client.tombstoneStream(stream))).toBeInstanceOf(StreamDeletedError);
      const inAll = await readAll(client, { filter: streamNameFilter({ prefixes: [stream] }) });
      expect(inAll.map((e) => [e.type, e.revision])).toEqual([
        ['A', 0n],
        ['$streamDeleted', 2n ** 63n - 1n],
      ]);
    });
  });

  describe('what the emulator does not implement', () => {
    it('answers UNIMPLEMENTED (gRPC status 12), e.g. persistent subscriptions and projections', async () => {
      const persistent = await rejection(
        client.createPersistentSubscriptionToStream(unique('ps'), 'group', persistentSubscriptionToStreamSettingsFromDefaults()),
      );
      expect(persistent).toMatchObject({ code: 12 });
      expect(await rejection(client.getProjectionStatus('projection'))).toMatchObject({ code: 12 });
    });

    it('does not advertise the v2 append methods, so the client refuses them itself', async () => {
      const error = await rejection(client.multiStreamAppend([{ streamName: unique('v2'), expectedState: ANY, events: [event('A')] }]));
      expect(error).toBeInstanceOf(UnsupportedError);
    });
  });

  describe('faults', () => {
    let faulty: KurrentDbEmulator;
    beforeEach(async () => {
      faulty = await startKurrentDbEmulator();
    });
    afterEach(async () => {
      await faulty.close();
    });

    it('stop: calls fail as unavailable; start: the same port serves again, with the same log, to a new client', async () => {
      const before = connect(faulty.connectionString);
      const stream = unique('restart');
      await before.appendToStream(stream, event('BeforeStop'));
      const port = faulty.port;

      await faulty.stop();
      expect(isUnavailable(await rejection(before.appendToStream(stream, event('WhileDown'))))).toBe(true);
      expect(await rejection(readAll(before))).toBeInstanceOf(UnavailableError);

      await faulty.start();
      expect(faulty.port).toBe(port);
      const after = connect(faulty.connectionString);
      await after.appendToStream(stream, event('AfterStart'), { streamState: 0n });
      expect((await readStream(after, stream)).map((e) => e.type)).toEqual(['BeforeStop', 'AfterStart']);
    });

    it('refuse: the call is answered UNAVAILABLE; the next one goes through', async () => {
      const c = connect(faulty.connectionString);
      const stream = unique('refuse');
      await c.appendToStream(stream, event('A'));
      faulty.faults.refuse({ method: 'Streams.BatchAppend', times: 1 });
      expect(await rejection(c.appendToStream(stream, event('Refused')))).toBeInstanceOf(UnavailableError);
      faulty.faults.refuse({ method: 'Streams.Read', times: 1 });
      expect(await rejection(readStream(c, stream))).toBeInstanceOf(UnavailableError);
      await c.appendToStream(stream, event('B'));
      expect((await readStream(c, stream)).map((e) => e.type)).toEqual(['A', 'B']);
    });

    it('notLeader: the call fails with NotLeaderError naming the leader; the client reconnects there', async () => {
      const c = connect(faulty.connectionString);
      const stream = unique('leader');
      await c.appendToStream(stream, event('A'));
      faulty.faults.notLeader({ method: 'Streams.BatchAppend', times: 1 });
      const error = await rejection(c.appendToStream(stream, event('ToAFollower')));
      expect(error).toBeInstanceOf(NotLeaderError);
      expect(error).toMatchObject({ leader: { address: '127.0.0.1', port: faulty.port } });
      faulty.faults.notLeader({ method: 'Streams.Read', times: 1 });
      expect(await rejection(readStream(c, stream))).toBeInstanceOf(NotLeaderError);
      await c.appendToStream(stream, event('B'));
      expect((await readStream(c, stream)).map((e) => e.type)).toEqual(['A', 'B']);
    });

    it('delay: the call waits the given time', async () => {
      const c = connect(faulty.connectionString);
      const stream = unique('delay');
      await c.appendToStream(stream, event('Warm-up'));
      faulty.faults.delay(300, { method: 'Streams.BatchAppend', times: 1 });
      const started = Date.now();
      await c.appendToStream(stream, event('Slow'));
      expect(Date.now() - started).toBeGreaterThanOrEqual(295);
      const quick = Date.now();
      await c.appendToStream(stream, event('Quick'));
      expect(Date.now() - quick).toBeLessThan(250);
    });

    it('drop: a subscription is cut off mid-stream with UNAVAILABLE', async () => {
      const c = connect(faulty.connectionString);
      await c.appendToStream(unique('drop'), event('A'));
      const subscription = c.subscribeToAll({ fromPosition: START });
      subscription.on('error', () => undefined); // the iteration below sees the error; later ones (teardown) are noise
      let dropped = 0;
      subscription.once('caughtUp', () => (dropped = faulty.faults.drop({ method: 'Streams.Read' })));
      const seen: string[] = [];
      const error = await rejection(
        (async () => {
          for await (const resolved of subscription) seen.push(resolved.event!.type);
        })(),
      );
      expect(dropped).toBe(1);
      expect(seen).toEqual(['A']);
      expect(error).toBeInstanceOf(UnavailableError);
    });
  });

  it('--data: the log survives a restart of the emulator, with the same positions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kurrentdb-emulator-'));
    const dataFile = join(dir, 'log.jsonl');
    try {
      const first = await startKurrentDbEmulator({ dataFile });
      const c1 = connect(first.connectionString);
      const stream = unique('durable');
      await c1.appendToStream(stream, [event('A', { n: 1 }), event('B', { n: 2 })]);
      await c1.appendToStream(unique('durable-other'), event('C'));
      await c1.tombstoneStream(unique('durable-gone'));
      const written = await readAll(c1);
      await c1.dispose();
      await first.close();
      appendFileSync(dataFile, '{"format":"kurrentdb-emulator-journal/1","reco'); // a torn, unacknowledged write

      const second = await startKurrentDbEmulator({ dataFile });
      try {
        const c2 = connect(second.connectionString);
        const reloaded = await readAll(c2);
        expect(reloaded.map((e) => [e.streamId, e.id, e.type, e.revision, e.position, e.data, e.created])).toEqual(
          written.map((e) => [e.streamId, e.id, e.type, e.revision, e.position, e.data, e.created]),
        );
        const next = await c2.appendToStream(stream, event('D'), { streamState: 1n });
        expect(next.nextExpectedRevision).toBe(2n);
        expect(next.position!.commit).toBeGreaterThan(written[written.length - 1].position.commit);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs as its own process: prints the connection string, serves a client, exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'main.ts'), '--port', '0'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SWC_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json') },
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const lines = createInterface({ input: child.stdout! });
      const connectionString = await new Promise<string>((resolve, reject) => {
        lines.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before printing its connection string`)));
      });
      expect(connectionString).toMatch(/^kurrentdb:\/\/127\.0\.0\.1:\d+\?tls=false$/);
      const c = connect(connectionString);
      const stream = unique('standalone');
      expect(await c.appendToStream(stream, event('Hello'))).toMatchObject({ success: true });
      expect((await readStream(c, stream)).map((e) => e.type)).toEqual(['Hello']);
      await c.dispose();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
