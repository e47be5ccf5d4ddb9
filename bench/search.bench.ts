/**
 * search: latency of one search at a time over 100,000 entries (one timeline
 * per 20,000; titles and summaries of varied lengths drawn from a 5,000-word
 * vocabulary with a Zipf-like spread, so some words are in thousands of entries and most in a
 * few), the same single-word queries for everyone, 20 hits a page:
 *
 * - ours:  GET /search?q=<word>&limit=20 through the real app (createApp on a
 *          data dir imported with importEvents and rebuilt), sequential fetch,
 *          body read; `port_`: TimelineReadModel.search on the app's own read
 *          model (query translation, ranking, paging, JSON parse), no HTTP.
 * - floor: bare better-sqlite3 on the same read-model file: the FTS5 MATCH
 *          (bm25 rank, the same join to the entries, the same status filter,
 *          LIMIT 20), rows returned as stored, no parse.
 * - peer:  what a read model without a full-text index does: a LIKE '%word%'
 *          scan of the entries' JSON, newest first, LIMIT 20, on the same file.
 *
 * p50 and p99 of per-query wall time (ms). Options: overrides.entries, overrides.queries.
 */
import 'reflect-metadata';
import { SampleLog } from '../libs/projections/src/testing/sample-log';
import { openSqlite } from '@timeline/event-store';
import { TIMELINE_READ_MODEL, type TimelineReadModel } from '@timeline/projections';
import type { EntryDetails } from '@timeline/domain';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../apps/timeline-service/src/app.factory';
import { loadConfig } from '../apps/timeline-service/src/config/app-config';
import type { BenchFigures, Benchmark, BenchOptions } from './lib/bench';
import { listen } from './lib/http';
import { medianOf, nowMs, round, sleep } from './lib/stats';
import { prepareDataDir } from './lib/workload';
import { seededRandom } from '../libs/projections/src/testing/seeded-random';

const PER_TIMELINE = 20_000;
const LIMIT = 20;

/** Pronounceable made-up words ("kasoti"): no stemming collisions with English, none a substring of JSON keys. */
function vocabulary(size: number): string[] {
  const syllables = ['ka', 'so', 'ti', 'mu', 're', 'no', 'va', 'pe', 'lu', 'zi', 'go', 'ha', 'bi', 'de', 'fo', 'yu'];
  return Array.from({ length: size }, (_, i) => {
    let word = '';
    for (let n = i + 16 * 16; n > 0; n = Math.floor(n / 16)) word += syllables[n % 16];
    return `q${word}`;
  });
}

/** A Zipf-like pick: rank r with weight about 1/r. */
function zipf(words: readonly string[], random: () => number): () => string {
  const n = words.length;
  return () => words[Math.min(n - 1, Math.floor(Math.exp(random() * Math.log(n + 1))) - 1)];
}

export function searchLog(entries: number): SampleLog {
  const random = seededRandom(11);
  const word = zipf(vocabulary(5000), random);
  // Lengths vary, as a newsroom's do (bm25 weighs a word by the length of what holds it).
  const words = (min: number, max: number) => Array.from({ length: min + Math.floor(random() * (max - min + 1)) }, word).join(' ');
  const log = new SampleLog({ recordedBy: 'bench' });
  const timelines = Math.max(1, Math.ceil(entries / PER_TIMELINE));
  for (let t = 0; t < timelines; t++) log.openTimeline(`search-${t}`, 'Search benchmark');
  for (let i = 0; i < entries; i++) {
    const details: EntryDetails = {
      kind: 'signing',
      occurredOn: `20${10 + (i % 15)}-0${1 + (i % 9)}`,
      title: words(3, 10),
      summary: words(5, 30),
      actors: ['JP', 'UA'],
      sources: [{ title: words(2, 8) }],
      tags: [],
      relatedTo: [],
      parties: ['JP', 'UA'],
      instrument: words(1, 5),
    };
    log.decide({ type: 'RecordEntry', entryId: log.nextId(), timeline: `search-${i % timelines}`, details });
  }
  return log;
}

/** p50 and p99 of `run` over every query, one at a time, after a warm-up pass over the first few. */
async function latencies(queries: readonly string[], run: (q: string) => unknown): Promise<{ p50: number; p99: number }> {
  for (const q of queries.slice(0, 20)) await run(q);
  const times: number[] = [];
  for (const q of queries) {
    const start = nowMs();
    await run(q);
    times.push(nowMs() - start);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)];
  return { p50: round(at(0.5), 3), p99: round(at(0.99), 3) };
}

export const search: Benchmark = {
  name: 'search',
  description:
    'Latency of one search at a time over 100,000 entries (5,000-word vocabulary, Zipf-like), single-word queries, 20 hits. ' +
    'ours: GET /search through the real app (port_: TimelineReadModel.search, no HTTP); floor: the bare FTS5 MATCH in better-sqlite3 on the same file; ' +
    "peer: a LIKE '%word%' scan of the entries (no full-text index), newest first.",
  async run(options: BenchOptions): Promise<BenchFigures> {
    const entries = options.overrides?.entries ?? 100_000;
    const count = options.overrides?.queries ?? (options.quick ? 300 : 1000);
    const dataDir = join(options.workDir, 'search');
    mkdirSync(dataDir, { recursive: true });
    let started = nowMs();
    await prepareDataDir(dataDir, searchLog(entries).events);
    options.log(`imported and projected ${entries} entries in ${((nowMs() - started) / 1000).toFixed(1)} s`);

    const random = seededRandom(5);
    const pick = zipf(vocabulary(5000), random);
    const queries = Array.from({ length: count }, pick);
    // The scan costs tens of ms a query: fewer of them, still enough for a p99.
    const peerQueries = queries.slice(0, Math.min(count, 200));

    const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', NODE_ENV: 'development', SEED_ON_START: 'false' });
    const app = await createApp(config, { logger: ['error'] });
    const url = await listen(app);
    const readModel = app.get<TimelineReadModel>(TIMELINE_READ_MODEL);
    const db = openSqlite(join(dataDir, 'read-model.sqlite'), { readonly: true });
    try {
      const probe = await fetch(`${url}/search?q=${queries[0]}&limit=${LIMIT}`);
      if (probe.status !== 200) throw new Error(`GET /search answered ${probe.status}: ${await probe.text()}`);
      const floorQuery = db.prepare(
        `SELECT e.body FROM entries_fts f JOIN entries e ON e.rowid = f.rowid
         WHERE entries_fts MATCH ? AND e.status = 'active' ORDER BY f.rank LIMIT ${LIMIT}`,
      );
      const peerQuery = db.prepare(`SELECT body FROM entries WHERE status = 'active' AND body LIKE ? ORDER BY occurred_on DESC LIMIT ${LIMIT}`);
      started = nowMs();
      const figures = await medianOf(options.trials, async () => {
        // The synchronous passes below block the event loop for seconds: let the idle keep-alive
        // timers of the server and of fetch fire first, or fetch reuses a socket the server is closing.
        await sleep(100);
        const http = await latencies(queries, async (q) => {
          const reply = await fetch(`${url}/search?q=${q}&limit=${LIMIT}`);
          if (reply.status !== 200) throw new Error(`GET /search?q=${q} answered ${reply.status}`);
          await reply.text();
        });
        const port = await latencies(queries, (q) => readModel.search({ q, limit: LIMIT, includeRetracted: false }));
        const floor = await latencies(queries, (q) => floorQuery.all(`"${q}"`));
        const peer = await latencies(peerQueries, (q) => peerQuery.all(`%${q}%`));
        options.log(`p99 ms: ours ${http.p99} (port ${port.p99}), floor ${floor.p99}, peer ${peer.p99}`);
        return {
          ours_p50_ms: http.p50,
          ours_p99_ms: http.p99,
          port_p50_ms: port.p50,
          port_p99_ms: port.p99,
          floor_p50_ms: floor.p50,
          floor_p99_ms: floor.p99,
          peer_p50_ms: peer.p50,
          peer_p99_ms: peer.p99,
        };
      });
      const hits = queries.slice(0, 100).map((q) => floorQuery.all(`"${q}"`).length);
      return { ...figures, entries, queries: count, mean_hits: round(hits.reduce((a, b) => a + b, 0) / hits.length, 1) };
    } finally {
      db.close();
      await app.close();
    }
  },
};
