/**
 * A load-generating worker: many Server-Sent Events streams (plain node:http,
 * one connection each) on GET /timelines/:slug/stream, noting when each
 * message arrives. Only the `id:` lines are read: the payload is the server's
 * cost, not the reader's.
 *
 * IPC requests (as clients.ts):
 * - `connect` {url, timeline, count} → opens `count` streams, answers once each has its 200
 * - `collect` {t0: {position: wallMs}, last, timeoutMs} → once every stream has
 *   received `last`: the latencies (receipt − t0) of every delivery of a position
 *   in t0, and per position the time the last stream got it (`allAt`)
 * - `disconnect` → closes every stream
 */
import { get, type IncomingMessage } from 'node:http';
import { inPool, serveRequests, wallNow } from './protocol';

interface Stream {
  response: IncomingMessage;
  last: string | null;
  /** The highest position received (the floor may broadcast out of order). */
  max: string | null;
  duplicates: number;
}

const streams: Stream[] = [];
const receipts = new Map<string, number[]>();
let waiter: { target: string; done: number; resolve: () => void } | null = null;

function onId(stream: Stream, position: string): void {
  const at = wallNow();
  if (stream.last !== null && position <= stream.last) stream.duplicates++;
  stream.last = position;
  if (stream.max === null || position > stream.max) stream.max = position;
  let times = receipts.get(position);
  if (!times) receipts.set(position, (times = []));
  times.push(at);
  if (waiter && position === waiter.target && ++waiter.done === streams.length) waiter.resolve();
}

function open(url: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`stream answered ${response.statusCode}`));
      const stream: Stream = { response, last: null, max: null, duplicates: 0 };
      let tail = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        const text = tail + chunk;
        const end = text.lastIndexOf('\n');
        tail = text.slice(end + 1);
        for (const match of text.slice(0, end + 1).matchAll(/^id: (.+)$/gm)) onId(stream, match[1]!);
      });
      resolve(stream);
    }).on('error', reject);
  });
}

function waitForAll(target: string, timeoutMs: number): Promise<void> {
  const already = streams.filter((s) => s.max !== null && s.max >= target).length;
  if (already === streams.length) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const done = (waiter as { done: number } | null)?.done ?? 0;
      waiter = null;
      reject(new Error(`${streams.length - done} of ${streams.length} streams did not receive ${target} within ${timeoutMs} ms`));
    }, timeoutMs);
    waiter = {
      target,
      done: already,
      resolve: () => {
        clearTimeout(timer);
        waiter = null;
        resolve();
      },
    };
  });
}

serveRequests(async (request) => {
  switch (request.cmd) {
    case 'connect': {
      const url = `${String(request['url'])}/timelines/${String(request['timeline'])}/stream`;
      await inPool(Array.from({ length: Number(request['count']) }, (_, i) => i), 50, async () => streams.push(await open(url)));
      return { connected: streams.length };
    }
    case 'collect': {
      const t0 = request['t0'] as Record<string, number>;
      await waitForAll(String(request['last']), Number(request['timeoutMs'] ?? 30_000));
      return collected(t0);
    }
    case 'disconnect': {
      for (const stream of streams) stream.response.destroy();
      streams.length = 0;
      return {};
    }
    default:
      throw new Error(`unknown command ${request.cmd}`);
  }
});

function collected(t0: Record<string, number>): Record<string, unknown> {
  const latencies: number[] = [];
  const allAt: Record<string, number> = {};
  let missing = 0;
  for (const [position, start] of Object.entries(t0)) {
    const times = receipts.get(position) ?? [];
    missing += streams.length - times.length;
    for (const at of times) latencies.push(Math.round((at - start) * 100) / 100);
    if (times.length > 0) allAt[position] = Math.max(...times);
  }
  return { latencies, allAt, missing, duplicates: streams.reduce((n, s) => n + s.duplicates, 0) };
}
