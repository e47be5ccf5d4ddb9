import { Decoder, Encoder, PacketType, type Packet } from 'socket.io-parser';
import type { Socket } from 'socket.io';
import type { EntryChange } from '@timeline/projections';
import { chunk, DEFAULT_BATCH_LIMITS, ReplayBatches } from './live-session';

/** An update as the read model publishes it, about `size` bytes as JSON. */
function update(n: number, size = 200): EntryChange {
  const position = String(n).padStart(20, '0');
  return {
    timeline: 'news',
    position,
    type: 'entry.recorded',
    entry: { entryId: `e${n}`, position, title: 'x'.repeat(Math.max(1, size - 120)) },
  } as unknown as EntryChange;
}

/** Just what ReplayBatches touches of a socket.io Socket: its namespace's encoder and the client's packet writer. */
function fakeSocket(encoder: { encode(packet: unknown): unknown[] } = new Encoder()) {
  const written: Array<{ packets: unknown[]; options: { preEncoded?: boolean } }> = [];
  const emitted: unknown[][] = [];
  const socket = {
    nsp: { name: '/live', server: { encoder } },
    client: { _packet: (packets: unknown[], options: { preEncoded?: boolean }) => written.push({ packets, options }) },
    emit: (...args: unknown[]) => emitted.push(args),
  };
  return { socket: socket as unknown as Socket, written, emitted };
}

/** Decodes what was written as socket.io-client would: the event and its argument. */
function decode(text: unknown): [string, { timeline: string; updates: EntryChange[] }] {
  let packet: Packet | undefined;
  const decoder = new Decoder();
  decoder.on('decoded', (p: Packet) => (packet = p));
  decoder.add(text as string);
  expect(packet).toMatchObject({ type: PacketType.EVENT, nsp: '/live' });
  return packet!.data as [string, { timeline: string; updates: EntryChange[] }];
}

describe('chunk', () => {
  const size = (n: number) => n;

  it('keeps every item, in order, in chunks within the count and the size limits', () => {
    const items = Array.from({ length: 23 }, (_, i) => 10 + (i % 5));
    for (const limits of [
      { maxUpdates: 1, maxBytes: 1000 },
      { maxUpdates: 5, maxBytes: 1000 },
      { maxUpdates: 500, maxBytes: 40 },
      { maxUpdates: 3, maxBytes: 30 },
    ]) {
      const chunks = chunk(items, size, limits);
      expect(chunks.flat()).toEqual(items);
      for (const part of chunks) {
        expect(part.length).toBeGreaterThan(0);
        expect(part.length).toBeLessThanOrEqual(limits.maxUpdates);
        if (part.length > 1) expect(part.reduce((n, s) => n + s + 1, 0)).toBeLessThanOrEqual(limits.maxBytes);
      }
    }
    expect(chunk(items, size, { maxUpdates: 5, maxBytes: 1000 }).map((c) => c.length)).toEqual([5, 5, 5, 5, 3]);
  });

  it('sends an item larger than the size limit alone, and nothing for no items', () => {
    expect(chunk([5, 100, 5, 5], size, { maxUpdates: 10, maxBytes: 20 })).toEqual([[5], [100], [5, 5]]);
    expect(chunk([], size, DEFAULT_BATCH_LIMITS)).toEqual([]);
  });
});

describe('ReplayBatches', () => {
  const updates = Array.from({ length: 7 }, (_, i) => update(i + 1));

  it("writes exactly the bytes socket.io's encoder would for emit('updates', {timeline, updates}), pre-encoded", () => {
    const { socket, written } = fakeSocket();
    new ReplayBatches().send(socket, 'news', updates);
    expect(written).toHaveLength(1);
    expect(written[0]!.options.preEncoded).toBe(true);
    const expected = new Encoder().encode({ type: PacketType.EVENT, nsp: '/live', data: ['updates', { timeline: 'news', updates }] });
    expect(written[0]!.packets).toEqual(expected);
    expect(decode(written[0]!.packets[0])).toEqual(['updates', { timeline: 'news', updates: JSON.parse(JSON.stringify(updates)) }]);
  });

  it('cuts a replay into several messages within the limits: together, the replay in order', () => {
    const { socket, written } = fakeSocket();
    new ReplayBatches({ maxUpdates: 3, maxBytes: 1 << 20 }).send(socket, 'news', updates);
    const decoded = written.map((w) => decode(w.packets[0]));
    expect(decoded.map(([event, { updates: part }]) => [event, part.length])).toEqual([
      ['updates', 3],
      ['updates', 3],
      ['updates', 1],
    ]);
    expect(decoded.flatMap(([, { updates: part }]) => part.map((u) => u.position))).toEqual(updates.map((u) => u.position));

    const bySize = fakeSocket();
    const json = JSON.stringify(updates[0]).length;
    new ReplayBatches({ maxUpdates: 500, maxBytes: 2 * (json + 1) }).send(bySize.socket, 'news', updates);
    expect(bySize.written.map((w) => decode(w.packets[0])[1].updates.length)).toEqual([2, 2, 2, 1]);
  });

  it('encodes a replay once and writes the same packets to every client resuming from the same position', () => {
    const batches = new ReplayBatches({ maxUpdates: 3, maxBytes: 1 << 20 });
    const a = fakeSocket();
    const b = fakeSocket();
    const stringify = jest.spyOn(JSON, 'stringify');
    batches.send(a.socket, 'news', updates);
    const calls = stringify.mock.calls.length;
    batches.send(b.socket, 'news', [...updates]); // another array of the same changes, as each subscribe gets
    expect(stringify.mock.calls.length).toBe(calls);
    stringify.mockRestore();
    expect(b.written.map((w) => w.packets)).toEqual(a.written.map((w) => w.packets));
    b.written.forEach((w, i) => expect(w.packets).toBe(a.written[i]!.packets));
    expect(batches.size()).toBe(1);

    // Another position, another batch; new limits forget the old ones.
    batches.send(a.socket, 'news', updates.slice(2));
    expect(batches.size()).toBe(2);
    batches.limits = { maxUpdates: 2, maxBytes: 1 << 20 };
    expect(batches.size()).toBe(0);
  });

  it('keeps encoded batches within its memory budget, dropping the least recently used', () => {
    const big = Array.from({ length: 20 }, (_, i) => update(i + 1, 1000));
    const batches = new ReplayBatches(DEFAULT_BATCH_LIMITS, 3 * 2 * 20 * 1000);
    const { socket } = fakeSocket();
    for (let from = 0; from < 6; from++) batches.send(socket, 'news', big.slice(from));
    expect(batches.size()).toBeGreaterThan(0);
    expect(batches.size()).toBeLessThanOrEqual(3);
  });

  it('lets socket.io encode each message when the namespace uses another parser', () => {
    const binary = { encode: () => [Buffer.from('x'), Buffer.from('y')] };
    const { socket, written, emitted } = fakeSocket(binary);
    new ReplayBatches({ maxUpdates: 4, maxBytes: 1 << 20 }).send(socket, 'news', updates);
    expect(written).toEqual([]);
    expect(emitted).toEqual([
      ['updates', { timeline: 'news', updates: updates.slice(0, 4) }],
      ['updates', { timeline: 'news', updates: updates.slice(4) }],
    ]);
  });
});
