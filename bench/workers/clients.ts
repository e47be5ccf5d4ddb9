/**
 * A load-generating worker: many socket.io-client connections to /live,
 * each subscribed to one timeline, noting when each update arrives.
 *
 * IPC requests:
 * - `connect` {url, timeline, count} → opens and subscribes `count` sockets; {positions}
 * - `collect` {t0: {position: wallMs}, last, timeoutMs} → once every socket has
 *   received `last`, the latencies (receipt − t0) of every delivery of a position in t0,
 *   and per position the time the last socket got it (`allAt`)
 * - `disconnect` → closes every socket (client side)
 * - `reconnect` {last, timeoutMs, batch} → every socket reconnects at once and subscribes
 *   after the last position it saw (with `batch: true` when `batch`, as our own
 *   client resumes: the missed changes then come as `updates` messages); answers once
 *   every socket has received `last`, with the wall time the last one did and how
 *   many updates each got
 */
import { io, type Socket } from 'socket.io-client';
import { inPool, serveRequests, wallNow } from './protocol';

interface Update {
  timeline: string;
  position: string;
  type: string;
}

interface Client {
  socket: Socket;
  last: string | null;
  /** The highest position received (the floor may broadcast out of order). */
  max: string | null;
  /** Updates received since the last reconnect. */
  received: number;
  /** Updates at or below the previous one: a duplicate, or (floor) out of order. */
  duplicates: number;
}

const clients: Client[] = [];
let timeline = '';
/** position → receipt times, across all sockets */
const receipts = new Map<string, number[]>();
let recording = true;
let waiter: { target: string; done: number; resolve: () => void; lastAt: number } | null = null;

function onUpdate(client: Client, update: Update): void {
  const at = wallNow();
  if (client.last !== null && update.position <= client.last) client.duplicates++;
  client.last = update.position;
  if (client.max === null || update.position > client.max) client.max = update.position;
  client.received++;
  if (recording) {
    let times = receipts.get(update.position);
    if (!times) receipts.set(update.position, (times = []));
    times.push(at);
  }
  if (waiter && update.position === waiter.target) {
    waiter.done++;
    waiter.lastAt = at;
    if (waiter.done === clients.length) waiter.resolve();
  }
}

function connectOne(url: string): Promise<Client> {
  const socket = io(`${url}/live`, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 90_000 });
  const client: Client = { socket, last: null, max: null, received: 0, duplicates: 0 };
  socket.on('update', (update: Update) => onUpdate(client, update));
  // A batched replay: each of its updates counts as if it had come alone.
  socket.on('updates', (batch: { updates: Update[] }) => {
    for (const update of batch.updates) onUpdate(client, update);
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', (error) => reject(error));
  });
}

async function subscribe(client: Client, after?: string, batch = false): Promise<void> {
  const payload = after === undefined ? { timeline } : batch ? { timeline, after, batch: true } : { timeline, after };
  const ack = (await client.socket.timeout(30_000).emitWithAck('subscribe', payload)) as { ok: boolean; position?: string | null };
  if (!ack.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
  if (after === undefined && client.last === null) client.last = client.max = ack.position ?? null;
}

/** Resolves once every socket has received `target` (or already had), rejects after timeoutMs. */
function waitForAll(target: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const already = clients.filter((c) => c.max !== null && c.max >= target).length;
    let timer: NodeJS.Timeout;
    const state = {
      target,
      done: already,
      lastAt: wallNow(),
      resolve: () => {
        clearTimeout(timer);
        waiter = null;
        resolve(state.lastAt);
      },
    };
    if (already === clients.length) return resolve(state.lastAt);
    waiter = state;
    timer = setTimeout(() => {
      waiter = null;
      reject(new Error(`${clients.length - state.done} of ${clients.length} sockets did not receive ${target} within ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

serveRequests(async (request) => {
  switch (request.cmd) {
    case 'connect': {
      timeline = String(request['timeline']);
      const url = String(request['url']);
      const count = Number(request['count']);
      const indexes = Array.from({ length: count }, (_, i) => i);
      await inPool(indexes, 50, async () => {
        const client = await connectOne(url);
        clients.push(client);
        await subscribe(client);
      });
      return { connected: clients.length };
    }
    case 'collect': {
      const t0 = request['t0'] as Record<string, number>;
      await waitForAll(String(request['last']), Number(request['timeoutMs'] ?? 30_000));
      const latencies: number[] = [];
      const allAt: Record<string, number> = {};
      let missing = 0;
      for (const [position, start] of Object.entries(t0)) {
        const times = receipts.get(position) ?? [];
        missing += clients.length - times.length;
        for (const at of times) latencies.push(Math.round((at - start) * 100) / 100);
        if (times.length > 0) allAt[position] = Math.max(...times);
      }
      const duplicates = clients.reduce((n, c) => n + c.duplicates, 0);
      return { latencies, allAt, missing, duplicates };
    }
    case 'disconnect': {
      recording = false;
      for (const client of clients) client.socket.disconnect();
      if (request['forget'] === true) clients.length = 0; // gone for good (sse-fanout), not to reconnect (resume)
      return {};
    }
    case 'reconnect': {
      const target = String(request['last']);
      const batch = request['batch'] === true;
      const done = waitForAll(target, Number(request['timeoutMs'] ?? 60_000));
      done.catch(() => undefined);
      const subscribes: Promise<void>[] = [];
      for (const client of clients) {
        client.received = 0;
        client.duplicates = 0;
        subscribes.push(
          new Promise<void>((resolve, reject) => {
            client.socket.once('connect', () => subscribe(client, client.max ?? undefined, batch).then(resolve, reject));
            client.socket.once('connect_error', reject);
          }),
        );
        client.socket.connect();
      }
      await Promise.all(subscribes);
      const subscribedAt = wallNow();
      const lastAt = await done;
      const counts = clients.map((c) => c.received);
      return {
        lastAt,
        subscribedAt,
        minReceived: Math.min(...counts),
        maxReceived: Math.max(...counts),
        duplicates: clients.reduce((n, c) => n + c.duplicates, 0),
      };
    }
    default:
      throw new Error(`unknown command ${request.cmd}`);
  }
});
