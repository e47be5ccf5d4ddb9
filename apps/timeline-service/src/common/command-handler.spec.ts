import { verifyChains } from '@timeline/audit';
import { CorruptLogError, entryDecider, type Decider } from '@timeline/domain';
import { SqliteEventStore } from '@timeline/event-store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleCommand } from './command-handler';
import { newId } from './ids';
import type { CommandContext } from './command-context';

/** A counter: each Add appends Added with the next number, so a decision made on the wrong history shows in the data. */
type Added = { type: 'Added'; data: { n: number } };
const counter: Decider<{ type: 'Add' }, Added, number> = {
  decide: (_command, count) => [{ type: 'Added', data: { n: count + 1 } }],
  evolve: (_count, event) => event.data.n,
  initialState: () => 0,
  eventTypes: new Set(['Added']),
};

const context: CommandContext = { recordedBy: 'test', correlationId: 'c-1', causationId: null };

describe('handleCommand', () => {
  let dir: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'command-handler-'));
    store = new SqliteEventStore(join(dir, 'events.sqlite'));
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the stream and decides on its history', async () => {
    await handleCommand(store, 'counter-a', counter, { type: 'Add' }, context);
    const { appended, state } = await handleCommand(store, 'counter-a', counter, { type: 'Add' }, context);
    expect(state).toBe(1);
    expect(appended?.revision).toBe(1);
    expect((await store.readStream('counter-a')).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('newStream: a stream named for this command is not read before the first attempt', async () => {
    const reads = jest.spyOn(store, 'readStream');
    const { appended, history } = await handleCommand(store, 'counter-new', counter, { type: 'Add' }, context, { newStream: true });
    expect(reads).not.toHaveBeenCalled();
    expect(history).toEqual([]);
    expect(appended?.revision).toBe(0);
    const events = await store.readStream('counter-new');
    expect(events.map((e) => e.data)).toEqual([{ n: 1 }]);
    expect((await verifyChains(store)).problems).toEqual([]);
  });

  it('newStream guessed wrong (the stream exists): the append is refused, the retry reads and decides on the real history', async () => {
    await handleCommand(store, 'counter-b', counter, { type: 'Add' }, context);
    await handleCommand(store, 'counter-b', counter, { type: 'Add' }, context);
    const { appended, state } = await handleCommand(store, 'counter-b', counter, { type: 'Add' }, context, { newStream: true });
    expect(state).toBe(2);
    expect(appended?.revision).toBe(2);
    const events = await store.readStream('counter-b');
    expect(events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect((await verifyChains(store)).problems).toEqual([]); // chained to the history it was decided on
  });

  it('a stream that cannot be folded (a correction with no recording before it) is a damaged log, not an unknown entry', async () => {
    const entryId = newId();
    const data = { entryId, timeline: 't', changes: { title: 'x' }, reason: 'r' };
    const metadata = { recordedBy: 'test', correlationId: 'c-1', causationId: null, schemaVersion: 1 };
    await store.append(`entry-${entryId}`, [{ id: newId(), type: 'EntryCorrected', data, metadata }], 'no-stream');
    const retract = { type: 'RetractEntry' as const, entryId, reason: 'r' };
    await expect(handleCommand(store, `entry-${entryId}`, entryDecider, retract, context)).rejects.toBeInstanceOf(CorruptLogError);
  });
});
