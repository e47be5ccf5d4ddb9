import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { LiveUpdate } from './live-subscriptions';
import { SseClient, sseFrame } from './sse-client';

const update = (position: string, type: LiveUpdate['type'] = 'entry.recorded'): LiveUpdate =>
  ({ timeline: 't', position, type, entry: { entryId: 'e', title: 'A\nB' } }) as unknown as LiveUpdate;

/** A connection that takes `capacity` writes, then holds the rest until release(). */
function connection(capacity: number) {
  const written: string[] = [];
  const held: Array<() => void> = [];
  let flowing = false;
  const stream = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString());
      if (flowing || written.length <= capacity) done();
      else held.push(done);
    },
  });
  return { response: stream as unknown as ServerResponse, written, release: () => ((flowing = true), held.splice(0).forEach((done) => done())) };
}

describe('SseClient', () => {
  it('writes a change as one message: id its position, event its type, data its JSON on one line', () => {
    const change = update('00000000000000000042', 'entry.corrected');
    expect(sseFrame(change).toString()).toBe(`id: 00000000000000000042\nevent: entry.corrected\ndata: ${JSON.stringify(change)}\n\n`);
    expect(sseFrame(change).toString().split('\n')).toHaveLength(5); // the newline in the title stays escaped
    expect(sseFrame(change)).toBe(sseFrame(change));
  });

  it('counts the messages written since the connection last took more, and forgets them on drain', async () => {
    const { response, release } = connection(0);
    const client = new SseClient('c', response, () => undefined);
    for (let i = 1; i <= 3; i++) client.send(update(String(i).padStart(20, '0')));
    expect(client.queued()).toBe(3);
    client.heartbeat(); // nothing more for a reader that is not reading
    expect(client.queued()).toBe(3);
    const drained = new Promise((resolve) => response.once('drain', resolve));
    release();
    await drained;
    expect(client.queued()).toBe(0);
  });

  it('ends with the resync message, once, and tells its owner', () => {
    const { response, written } = connection(100);
    const ended = jest.fn();
    const client = new SseClient('c', response, ended);
    client.resync('t', 'slow_consumer');
    client.send(update('00000000000000000001'));
    client.resync('t', 'slow_consumer');
    expect(written).toEqual([`event: resync\ndata: ${JSON.stringify({ timeline: 't', reason: 'slow_consumer' })}\n\n`]);
    expect(ended).toHaveBeenCalledTimes(1);
    expect(client.open).toBe(false);
  });
});
