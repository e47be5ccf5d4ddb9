/**
 * The server under test in its own process, so that its CPU and memory are
 * apart from the load generator's. `server.ts ours <dataDir>` runs the real
 * service (createApp); `server.ts floor` runs a plain socket.io server that
 * broadcasts to a room what POST /broadcast gives it; `server.ts sse-floor` a
 * bare node:http server that writes what POST /broadcast gives it, as one SSE
 * message, to every open GET /timelines/:slug/stream response.
 *
 * IPC requests: `start` → {port}; `mem` → process.memoryUsage() after a full
 * GC (run with --expose-gc); `subscriptions` {count, timeoutMs} → resolves once
 * the server holds that many live subscriptions (ours) or sockets in the room
 * (floor). Like every worker it also serves `profile` and `cpu` (see serveRequests).
 */
import 'reflect-metadata';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeHeapSnapshot } from 'node:v8';
import { Server } from 'socket.io';
import { createApp } from '../../apps/timeline-service/src/app.factory';
import { loadConfig } from '../../apps/timeline-service/src/config/app-config';
import { LiveGateway } from '../../apps/timeline-service/src/live/live.gateway';
import { serveRequests } from './protocol';

const mode = process.argv[2];
const dataDir = process.argv[3];

let countSubscriptions: () => number = () => 0;

async function startOurs(): Promise<number> {
  if (!dataDir) throw new Error('server.ts ours needs a data dir');
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    SEED_ON_START: 'false',
    NODE_ENV: 'development',
    RATE_LIMIT_WRITES_PER_MINUTE: '100000000',
    RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '100000000',
    LIVE_MAX_REPLAY: '5000',
    LIVE_MAX_QUEUED: '100000',
  });
  const app = await createApp(config, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const gateway = app.get(LiveGateway);
  countSubscriptions = () => gateway.subscriptionCount();
  return (app.getHttpServer().address() as AddressInfo).port;
}

/** The floor of SSE fan-out: res.write of one preformatted message to every open response. */
async function startSseFloor(): Promise<number> {
  const streams = new Set<ServerResponse>();
  let sent = 0;
  const http = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET' && request.url?.endsWith('/stream')) {
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform' });
      response.write('retry: 2000\n\n');
      streams.add(response);
      response.on('close', () => streams.delete(response));
      return;
    }
    if (request.method !== 'POST' || request.url !== '/broadcast') return void response.writeHead(404).end();
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      // Numbered here, as they are written: concurrent POSTs may arrive out of the order they were sent in.
      const update = { ...(JSON.parse(Buffer.concat(chunks).toString()) as { type: string }), position: String(++sent).padStart(20, '0') };
      const frame = Buffer.from(`id: ${update.position}\nevent: ${update.type}\ndata: ${JSON.stringify(update)}\n\n`);
      for (const stream of streams) stream.write(frame);
      response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ position: update.position }));
    });
  });
  countSubscriptions = () => streams.size;
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return (http.address() as AddressInfo).port;
}

async function startFloor(): Promise<number> {
  const http = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST' || request.url !== '/broadcast') {
      response.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const update = JSON.parse(Buffer.concat(chunks).toString()) as { timeline: string; position: string };
      live.to(update.timeline).emit('update', update);
      response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ position: update.position }));
    });
  });
  const io = new Server(http, { maxHttpBufferSize: 64 * 1024, transports: ['websocket', 'polling'] });
  const live = io.of('/live');
  live.on('connection', (socket) => {
    socket.on('subscribe', (payload: { timeline: string }, ack?: (a: unknown) => void) => {
      void socket.join(payload.timeline);
      if (typeof ack === 'function') ack({ ok: true, position: null });
    });
  });
  countSubscriptions = () => {
    let count = 0;
    for (const room of live.adapter.rooms.values()) count += room.size;
    // every socket is in its own room (its id) too
    return count - live.sockets.size;
  };
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return (http.address() as AddressInfo).port;
}

serveRequests(async (request) => {
  switch (request.cmd) {
    case 'start':
      return { port: mode === 'floor' ? await startFloor() : mode === 'sse-floor' ? await startSseFloor() : await startOurs() };
    case 'mem': {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) {
        gc();
        gc();
      }
      return { ...process.memoryUsage(), gc: Boolean(gc) };
    }
    case 'snapshot': {
      // For finding what a connection costs: a V8 heap snapshot at `path` (after a full GC).
      (globalThis as { gc?: () => void }).gc?.();
      return { path: writeHeapSnapshot(String(request['path'])) };
    }
    case 'subscriptions': {
      const want = Number(request['count']);
      const deadline = Date.now() + Number(request['timeoutMs'] ?? 10_000);
      // No event says "the server has processed these disconnects": a bounded check every 20 ms.
      for (let i = 0; i < 10_000 && countSubscriptions() !== want && Date.now() < deadline; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const count = countSubscriptions();
      if (count !== want) throw new Error(`${count} subscriptions, expected ${want}`);
      return { count };
    }
    default:
      throw new Error(`unknown command ${request.cmd}`);
  }
});
