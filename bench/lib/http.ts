/** autocannon, run programmatically, and the bare NestJS floor apps. */
import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, Module, Post, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';

export interface LoadResult {
  rps: number;
  p99_ms: number;
  p50_ms: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  method?: 'GET' | 'POST';
  /** Sent as JSON with every request. A recording without an entryId records a new entry each time. */
  body?: unknown;
  path: string;
}

/**
 * autocannon runs in a child process (not a worker thread: autocannon treats
 * a worker thread as one of its own workers and answers raw histograms), so
 * the load generator does not share the event loop with the server under
 * test, which runs in this process as the service does in production.
 */
const WORKER = `
const workerData = JSON.parse(process.argv[1]);
const parentPort = { postMessage: (m) => process.stdout.write(JSON.stringify(m)) };
const autocannon = require(workerData.autocannon);
const o = workerData.options;
autocannon({
  url: o.url,
  connections: o.connections,
  duration: o.durationS,
  requests: [o.body === undefined
    ? { method: o.method, path: o.path }
    : { method: o.method, path: o.path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(o.body) }],
}, (error, result) => {
  if (error) parentPort.postMessage({ error: String(error && error.stack || error) });
  else parentPort.postMessage({ result: {
    ok: result['2xx'], duration: result.duration, p99: result.latency.p99, p50: result.latency.p50,
    errors: result.errors + result.timeouts, non2xx: result.non2xx,
  } });
});
`;

/** Runs autocannon against `url + path` and returns requests/s (2xx only) and latency. */
export function load(options: LoadOptions): Promise<LoadResult> {
  const method = options.method ?? 'GET';
  const workerData = { autocannon: require.resolve('autocannon'), options: { ...options, method } };
  const child = spawn(process.execPath, ['-e', WORKER, JSON.stringify(workerData)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      let message: { error?: string; result?: { ok: number; duration: number; p99: number; p50: number; errors: number; non2xx: number } };
      try {
        message = JSON.parse(out) as typeof message;
      } catch {
        return reject(new Error(`autocannon exited with ${code} and no result: ${out}`));
      }
      if (message.error || !message.result) return reject(new Error(message.error ?? 'autocannon gave no result'));
      const r = message.result;
      const seconds = r.duration > 0 ? r.duration : options.durationS;
      resolve({ rps: r.ok / seconds, p99_ms: r.p99, p50_ms: r.p50, errors: r.errors, non2xx: r.non2xx });
    });
  });
}

/** Listens on a random local port; returns the base url. */
export async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

/**
 * The floor for HTTP: a bare NestJS app on the same adapter (Express, the
 * default), no guards, pipes, filters or helmet: one POST route answering 201
 * with a body shaped like ours, and one GET route answering `page` from memory.
 */
export async function createFloorApp(page: unknown = {}): Promise<NestExpressApplication> {
  @Controller()
  class FloorController {
    private position = 0;

    @Post('timelines/:slug/entries')
    @HttpCode(201)
    record(@Body() body: Record<string, unknown>): { entryId: string; revision: number; position: string } {
      const entryId = typeof body?.entryId === 'string' ? body.entryId : randomUUID();
      return { entryId, revision: 0, position: String(++this.position).padStart(20, '0') };
    }

    @Get('timelines/:slug/entries')
    entries(): unknown {
      return page;
    }
  }

  @Module({ controllers: [FloorController] })
  class FloorModule {
    static register(): DynamicModule {
      return { module: FloorModule };
    }
  }

  return NestFactory.create<NestExpressApplication>(FloorModule.register(), { logger: ['error'] });
}
