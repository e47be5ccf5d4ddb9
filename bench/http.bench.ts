/**
 * http_record and query: the real app (createApp, development mode, temp
 * DATA_DIR, no seeding, write rate limit out of the way) under autocannon at
 * 64 connections, next to a bare NestJS app on the same adapter (Express).
 *
 * Options: overrides.durationS (autocannon seconds per measurement),
 * overrides.connections, overrides.entries (query: timeline size).
 */
import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../apps/timeline-service/src/app.factory';
import { loadConfig } from '../apps/timeline-service/src/config/app-config';
import type { BenchFigures, Benchmark, BenchOptions } from './lib/bench';
import { createFloorApp, listen, load } from './lib/http';
import { medianOf, round, sleep } from './lib/stats';
import { prepareDataDir, timelineLog } from './lib/workload';
import { announcement } from '../test/support/http';

const SLUG = 'bench-story';

async function startOurs(dataDir: string): Promise<{ app: NestExpressApplication; url: string }> {
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    NODE_ENV: 'development',
    SEED_ON_START: 'false',
    RATE_LIMIT_WRITES_PER_MINUTE: '100000000',
    RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '100000000',
  });
  const app = await createApp(config, { logger: ['error'] });
  const url = await listen(app);
  return { app, url };
}

async function startFloor(page?: unknown): Promise<{ app: NestExpressApplication; url: string }> {
  const app = await createFloorApp(page);
  return { app, url: await listen(app) };
}

/** The body every recording sends: a valid announcement without an entryId, so each request records a new entry. */
const ENTRY = announcement({ title: 'Japan pledges support for Ukraine' });

function sizes(options: BenchOptions): { durationS: number; connections: number } {
  return {
    durationS: options.overrides?.durationS ?? (options.quick ? 4 : 10),
    connections: options.overrides?.connections ?? 64,
  };
}

async function warm(url: string, path: string, method: 'GET' | 'POST', body?: unknown): Promise<void> {
  await load({ url, path, method, body, connections: 8, durationS: 1 });
}

export const httpRecord: Benchmark = {
  name: 'http_record',
  description:
    'POST /timelines/:slug/entries (a valid announcement without an entryId: each a new entry) with autocannon, 64 connections. ours: the real app (createApp, ' +
    'development mode, embedded store); floor: a bare NestJS app on Express with one POST route answering 201 {entryId, revision, position}.',
  async run(options: BenchOptions): Promise<BenchFigures> {
    const { durationS, connections } = sizes(options);
    return medianOf(options.trials, async (trial) => {
      const dataDir = join(options.workDir, `record-${trial}`);
      mkdirSync(dataDir, { recursive: true });
      const figures: BenchFigures = {};

      const ours = await startOurs(dataDir);
      try {
        const opened = await fetch(`${ours.url}/timelines`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ slug: SLUG, title: 'Benchmark story' }),
        });
        if (opened.status !== 201) throw new Error(`opening the timeline answered ${opened.status}: ${await opened.text()}`);
        // One valid request first, so a broken body shows as an error, not as a fast 400 rate.
        const probe = await fetch(`${ours.url}/timelines/${SLUG}/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ENTRY) });
        if (probe.status !== 201) throw new Error(`recording an entry answered ${probe.status}: ${await probe.text()}`);
        await warm(ours.url, `/timelines/${SLUG}/entries`, 'POST', ENTRY);
        const r = await load({ url: ours.url, path: `/timelines/${SLUG}/entries`, method: 'POST', body: ENTRY, connections, durationS });
        if (r.non2xx > 0 || r.errors > 0) options.log(`ours: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
        figures.ours_rps = round(r.rps);
        figures.ours_p99_ms = r.p99_ms;
        figures.ours_p50_ms = r.p50_ms;
        options.log(`ours ${round(r.rps)} req/s, p99 ${r.p99_ms} ms`);
      } finally {
        await ours.app.close();
      }
      await sleep(200);

      const floor = await startFloor();
      try {
        await warm(floor.url, `/timelines/${SLUG}/entries`, 'POST', ENTRY);
        const r = await load({ url: floor.url, path: `/timelines/${SLUG}/entries`, method: 'POST', body: ENTRY, connections, durationS });
        figures.floor_rps = round(r.rps);
        figures.floor_p99_ms = r.p99_ms;
        options.log(`floor ${round(r.rps)} req/s, p99 ${r.p99_ms} ms`);
      } finally {
        await floor.app.close();
      }
      return figures;
    });
  },
};

export const query: Benchmark = {
  name: 'query',
  description:
    'GET /timelines/:slug/entries?limit=50 (the first 50-entry page) of a timeline of 100,000 entries, autocannon, 64 connections. ' +
    'ours: the real app over a store imported with importEvents and projected with Projector.rebuild; floor: a bare NestJS route returning the same JSON from memory.',
  async run(options: BenchOptions): Promise<BenchFigures> {
    const { durationS, connections } = sizes(options);
    const entries = options.overrides?.entries ?? 100_000;
    const dataDir = join(options.workDir, 'query');
    mkdirSync(dataDir, { recursive: true });
    let started = Date.now();
    await prepareDataDir(dataDir, timelineLog(SLUG, entries));
    options.log(`imported and projected ${entries} entries in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const path = `/timelines/${SLUG}/entries?limit=50`;

    const ours = await startOurs(dataDir);
    let page: unknown;
    try {
      const reply = await fetch(`${ours.url}${path}`);
      if (reply.status !== 200) throw new Error(`GET ${path} answered ${reply.status}: ${await reply.text()}`);
      page = await reply.json();
      const items = (page as { entries?: unknown[]; items?: unknown[] }).entries ?? (page as { items?: unknown[] }).items;
      if (Array.isArray(items) && items.length !== Math.min(50, entries)) throw new Error(`expected a page of 50 entries, got ${items.length}`);
    } catch (error) {
      await ours.app.close();
      throw error;
    }
    const floor = await startFloor(page);
    try {
      await warm(ours.url, path, 'GET');
      await warm(floor.url, path, 'GET');
      started = Date.now();
      return await medianOf(options.trials, async () => {
        const figures: BenchFigures = {};
        const o = await load({ url: ours.url, path, connections, durationS });
        if (o.non2xx > 0 || o.errors > 0) options.log(`ours: ${o.non2xx} non-2xx answers, ${o.errors} errors`);
        figures.ours_rps = round(o.rps);
        figures.ours_p99_ms = o.p99_ms;
        figures.ours_p50_ms = o.p50_ms;
        const f = await load({ url: floor.url, path, connections, durationS });
        figures.floor_rps = round(f.rps);
        figures.floor_p99_ms = f.p99_ms;
        figures.entries = entries;
        options.log(`ours ${round(o.rps)} req/s p99 ${o.p99_ms} ms; floor ${round(f.rps)} req/s p99 ${f.p99_ms} ms`);
        return figures;
      });
    } finally {
      await ours.app.close();
      await floor.app.close();
    }
  },
};
