/**
 * Observability (issue 7): structured logs with request and correlation ids,
 * GET /metrics in Prometheus text format, and the terminus probes
 * GET /health/live and GET /health/ready, against the real app on a random
 * port over a temporary SQLite store. The store outage is a real SQLITE_FULL
 * (as in reliability.e2e-spec.ts); the lag is real: the projector is stopped
 * while events are appended.
 */
import { SqliteEventStore, type EventStore } from '@timeline/event-store';
import { Projector } from '@timeline/projections';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../apps/timeline-service/src/app.factory';
import { loadConfig } from '../apps/timeline-service/src/config/app-config';
import { MonitoredEventStore } from '../apps/timeline-service/src/health/monitored-event-store';
import { pinoLevelFor } from '../apps/timeline-service/src/logging/logging.module';
import { EVENT_STORE } from '../apps/timeline-service/src/store/store.tokens';
import { announcement } from './support/http';
import { closeAllLive, connectLive, record, subscribe, subscribeOk, unsubscribe } from './support/live-client';

jest.setTimeout(60_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EDITOR = '0123456789abcdef-editor';
const READER = '0123456789abcdef-reader';
const AUDITOR = '0123456789abcdef-auditor';

/** Log lines written by an app, parsed. */
class Lines extends Writable {
  readonly lines: Record<string, any>[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line.trim()) this.lines.push(JSON.parse(line));
    done();
  }
}

interface Running {
  url: string;
  app: NestExpressApplication;
  logs: Lines;
  stop(): Promise<void>;
}

async function start(env: Record<string, string> = {}, options: { logger?: ['error'] | false } = {}): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'timeline-obs-'));
  const config = loadConfig({ SEED_ON_START: 'false', ...env, DATA_DIR: dir, PORT: '0', LOG_FORMAT: 'json' });
  const logs = new Lines();
  const app = await createApp(config, { ...options, logDestination: logs });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    logs,
    async stop() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const json = (headers: Record<string, string> = {}) => ({ 'content-type': 'application/json', ...headers });

async function openTimeline(url: string, headers: Record<string, string> = {}): Promise<{ slug: string; response: Response }> {
  const slug = `obs-${randomUUID().slice(0, 8)}`;
  const response = await fetch(`${url}/timelines`, { method: 'POST', headers: json(headers), body: JSON.stringify({ slug, title: 'Observed' }) });
  expect(response.status).toBe(201);
  return { slug, response };
}

async function metrics(url: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${url}/metrics`, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the metrics');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The value of one sample, e.g. value(text, 'timeline_events_appended_total{type="TimelineOpened"}'); 0 when absent. */
function value(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

describe('logs', () => {
  // The first app of this file: Nest's own logs outside requests go to it (see LoggingModule).
  let s: Running;
  beforeAll(async () => {
    s = await start({ LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('echoes a valid x-request-id, replaces a malformed one with a UUID, and makes one when there is none', async () => {
    const given = await fetch(`${s.url}/timelines`, { headers: { 'x-request-id': 'edge-proxy.42:a_b-c' } });
    expect(given.headers.get('x-request-id')).toBe('edge-proxy.42:a_b-c');
    const malformed = await fetch(`${s.url}/timelines`, { headers: { 'x-request-id': 'no spaces <allowed>' } });
    expect(malformed.status).toBe(200);
    expect(malformed.headers.get('x-request-id')).toMatch(UUID);
    const none = await fetch(`${s.url}/timelines`);
    expect(none.headers.get('x-request-id')).toMatch(UUID);
    expect(none.headers.get('x-request-id')).not.toBe(malformed.headers.get('x-request-id'));
  });

  it('writes the x-correlation-id into the events a request appends, or else the request id', async () => {
    const correlated = await openTimeline(s.url, { 'x-correlation-id': 'story-desk:7', 'x-request-id': 'req-1' });
    const uncorrelated = await openTimeline(s.url, { 'x-request-id': 'req-2' });
    const generated = await openTimeline(s.url);
    const generatedId = generated.response.headers.get('x-request-id')!;
    expect(generatedId).toMatch(UUID);

    const log = (await (await fetch(`${s.url}/events?limit=1000`)).json()) as { items: { stream: string; metadata: Record<string, unknown> }[] };
    const metadataOf = (slug: string) => log.items.find((e) => e.stream === `timeline-${slug}`)!.metadata;
    expect(metadataOf(correlated.slug)).toMatchObject({ correlationId: 'story-desk:7', causationId: 'story-desk:7' });
    expect(metadataOf(uncorrelated.slug)).toMatchObject({ correlationId: 'req-2' });
    expect(metadataOf(generated.slug)).toMatchObject({ correlationId: generatedId });

    // A malformed x-correlation-id is refused (it would be in the log for ever), and nothing is appended.
    const refused = await fetch(`${s.url}/timelines`, { method: 'POST', headers: json({ 'x-correlation-id': 'bad id' }), body: JSON.stringify({ slug: 'never-opened', title: 'No' }) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: { field: string }[] }).errors[0].field).toBe('x-correlation-id');
  });

  it('logs one JSON line per request with reqId, correlationId, method, URL, status and time; never the key', async () => {
    await fetch(`${s.url}/timelines?probe=1`, { headers: { 'x-request-id': 'log-line-1', 'x-correlation-id': 'corr-1', authorization: 'Bearer not-a-key-of-ours-at-all' } });
    await new Promise((r) => setTimeout(r, 50));
    const line = s.logs.lines.find((l) => l.reqId === 'log-line-1');
    expect(line).toMatchObject({
      level: 'info',
      service: 'timeline-service',
      reqId: 'log-line-1',
      correlationId: 'corr-1',
      req: { method: 'GET', url: '/timelines?probe=1' },
      res: { statusCode: 401 },
      msg: 'GET /timelines?probe=1 401 ' + line!.responseTime + ' ms',
    });
    expect(typeof line!.time).toBe('string');
    expect(JSON.stringify(s.logs.lines)).not.toContain('not-a-key-of-ours-at-all');
    // Without x-correlation-id, the correlation id is the request id.
    await fetch(`${s.url}/timelines`, { headers: { 'x-request-id': 'log-line-2' } });
    await new Promise((r) => setTimeout(r, 50));
    expect(s.logs.lines.find((l) => l.reqId === 'log-line-2')).toMatchObject({ correlationId: 'log-line-2' });
  });

  it("routes Nest's own logs through pino as JSON, and leaves probes and scrapes out", async () => {
    expect(s.logs.lines.some((l) => l.context === 'NestApplication' && l.msg === 'Nest application successfully started' && l.level === 'info')).toBe(true);
    const before = s.logs.lines.length;
    await fetch(`${s.url}/health`);
    await fetch(`${s.url}/health/live`);
    await fetch(`${s.url}/health/ready`);
    await fetch(`${s.url}/metrics`);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.logs.lines.slice(before)).toEqual([]);
  });

  it("createApp's logger option still silences: ['error'] logs no request lines, false nothing", async () => {
    expect(pinoLevelFor(['error'])).toBe('error');
    expect(pinoLevelFor(['log', 'warn', 'error'])).toBe('info');
    expect(pinoLevelFor(['verbose', 'error'])).toBe('trace');
    expect(pinoLevelFor(false)).toBe('silent');
    expect(pinoLevelFor([])).toBe('silent');
    for (const logger of [['error'] as ['error'], false as const]) {
      const quiet = await start({}, { logger });
      try {
        await openTimeline(quiet.url);
        await fetch(`${quiet.url}/timelines/does-not-exist`);
        await new Promise((r) => setTimeout(r, 50));
        expect(quiet.logs.lines).toEqual([]);
      } finally {
        await quiet.stop();
      }
    }
  });
});

const METRIC_NAMES = [
  'timeline_event_store_append_duration_seconds',
  'timeline_events_appended_total',
  'timeline_event_store_up',
  'timeline_projection_lag_events',
  'timeline_projection_lag_seconds',
  'timeline_projection_checkpoint',
  'timeline_projection_dead_letters',
  'timeline_projection_stalled',
  'timeline_http_request_duration_seconds',
  'timeline_live_sockets',
  'timeline_live_subscriptions',
  'timeline_live_subscribes_total',
  'timeline_live_unsubscribes_total',
  'timeline_live_updates_pushed_total',
  'timeline_live_resyncs_total',
  // prom-client's defaults
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
  'nodejs_heap_size_used_bytes',
];

describe('GET /metrics', () => {
  let s: Running;
  beforeAll(async () => {
    s = await start({}, { logger: ['error'] });
  });
  afterAll(async () => {
    closeAllLive();
    await s.stop();
  });

  it('exposes every metric with HELP and TYPE in the Prometheus text format', async () => {
    const text = await metrics(s.url);
    for (const name of METRIC_NAMES) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
      expect(text).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram|summary)$`, 'm'));
    }
    expect(text).toMatch(/^timeline_event_store_up 1$/m);
    expect(text).toMatch(/^timeline_projection_lag_events 0$/m);
    expect(text).toMatch(/^timeline_projection_dead_letters 0$/m);
  });

  it('moves with appends: events appended by type, append latency, the checkpoint', async () => {
    const before = await metrics(s.url);
    const { slug } = await openTimeline(s.url);
    const entry = await fetch(`${s.url}/timelines/${slug}/entries`, {
      method: 'POST',
      headers: json(),
      body: JSON.stringify({ kind: 'announcement', occurredOn: '2024-06', title: 'Counted', actors: ['JP'], announcer: 'JP', stage: 'announced' }),
    });
    expect(entry.status).toBe(201);
    const { position } = (await entry.json()) as { position: string };
    const after = await metrics(s.url);
    const opened = 'timeline_events_appended_total{type="TimelineOpened"}';
    const recorded = 'timeline_events_appended_total{type="AnnouncementRecorded"}';
    expect(value(after, opened) - value(before, opened)).toBe(1);
    expect(value(after, recorded) - value(before, recorded)).toBe(1);
    const appends = 'timeline_event_store_append_duration_seconds_count{outcome="ok"}';
    expect(value(after, appends) - value(before, appends)).toBe(2);
    expect(value(after, 'timeline_event_store_append_duration_seconds_sum{outcome="ok"}')).toBeGreaterThan(0);
    expect(value(after, 'timeline_projection_checkpoint')).toBe(Number(position));
  });

  it('times HTTP requests by method, route pattern and status', async () => {
    const { slug } = await openTimeline(s.url);
    await fetch(`${s.url}/timelines/${slug}/entries`);
    await fetch(`${s.url}/timelines/no-such-timeline/entries`);
    await fetch(`${s.url}/no/such/route`);
    const text = await metrics(s.url);
    expect(value(text, 'timeline_http_request_duration_seconds_count{method="GET",route="/timelines/:slug/entries",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'timeline_http_request_duration_seconds_count{method="GET",route="/timelines/:slug/entries",status="404"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'timeline_http_request_duration_seconds_count{method="POST",route="/timelines",status="201"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'timeline_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^timeline_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/timelines\/:slug\/entries",status="200"\} \d+$/m);
    // The URL itself (a slug) is never a label.
    expect(text).not.toContain(slug);
  });

  it('counts what the live gateway does: sockets, subscriptions, subscribes, updates pushed (replays too), unsubscribes', async () => {
    const { slug } = await openTimeline(s.url);
    const before = await metrics(s.url);
    const delta = (text: string, sample: string) => value(text, sample) - value(before, sample);
    const socket = await connectLive(s.url);
    const updates = record(socket, 'update');
    const position = await subscribeOk(socket, { timeline: slug });
    let now = await metrics(s.url);
    expect(delta(now, 'timeline_live_sockets')).toBe(1);
    expect(delta(now, 'timeline_live_subscriptions')).toBe(1);
    expect(delta(now, 'timeline_live_subscribes_total')).toBe(1);

    const recorded = await fetch(`${s.url}/timelines/${slug}/entries`, { method: 'POST', headers: json(), body: JSON.stringify(announcement()) });
    expect(recorded.status).toBe(201);
    await updates.waitUntil((items) => items.length === 1);
    expect(delta(await metrics(s.url), 'timeline_live_updates_pushed_total')).toBe(1);

    // A second socket resuming from before that entry is replayed it: one more update pushed.
    const resumer = await connectLive(s.url);
    const replayed = record(resumer, 'update'); // before subscribing: the replay follows the ack at once
    await subscribeOk(resumer, { timeline: slug, after: position! });
    await replayed.waitUntil((items) => items.length === 1);
    now = await metrics(s.url);
    expect(delta(now, 'timeline_live_updates_pushed_total')).toBe(2);
    expect(delta(now, 'timeline_live_subscriptions')).toBe(2);

    expect((await unsubscribe(socket, { timeline: slug })).ok).toBe(true);
    now = await metrics(s.url);
    expect(delta(now, 'timeline_live_unsubscribes_total')).toBe(1);
    expect(delta(now, 'timeline_live_subscriptions')).toBe(1);
    socket.disconnect();
    resumer.disconnect();
    await waitFor(async () => delta(await metrics(s.url), 'timeline_live_sockets') === 0);
    expect(delta(await metrics(s.url), 'timeline_live_subscriptions')).toBe(0);
  });

  it('counts resyncs by reason: a resume that missed too much', async () => {
    const small = await start({ LIVE_MAX_REPLAY: '1' }, { logger: false });
    try {
      const { slug } = await openTimeline(small.url);
      const socket = await connectLive(small.url);
      const position = await subscribeOk(socket, { timeline: slug });
      for (let i = 0; i < 2; i++) {
        const r = await fetch(`${small.url}/timelines/${slug}/entries`, { method: 'POST', headers: json(), body: JSON.stringify(announcement()) });
        expect(r.status).toBe(201);
      }
      const refused = await subscribe(socket, { timeline: slug, after: position! });
      expect(refused).toMatchObject({ ok: false, error: { code: 'resync_required' } });
      expect(value(await metrics(small.url), 'timeline_live_resyncs_total{reason="resync_required"}')).toBe(1);
      socket.disconnect();
    } finally {
      await small.stop();
    }
  });

  it('each app has its own registry', async () => {
    const other = await start({}, { logger: false });
    try {
      expect(value(await metrics(other.url), 'timeline_events_appended_total{type="TimelineOpened"}')).toBe(0);
      expect(value(await metrics(s.url), 'timeline_events_appended_total{type="TimelineOpened"}')).toBeGreaterThan(0);
    } finally {
      await other.stop();
    }
  });
});

describe('GET /metrics access', () => {
  const keys = { API_KEYS: `ed:editor:${EDITOR},rd:reader:${READER},au:auditor:${AUDITOR}` };

  it('needs an auditor key when keys are configured (401 without, 403 for other roles)', async () => {
    const s = await start(keys, { logger: false });
    try {
      expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${s.url}/metrics`, { headers: { authorization: 'Bearer wrong-key-0123456789' } })).status).toBe(401);
      expect((await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${READER}` } })).status).toBe(403);
      expect((await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${EDITOR}` } })).status).toBe(403);
      await metrics(s.url, { authorization: `Bearer ${AUDITOR}` });
      // The probes stay open: orchestrators send no keys.
      for (const path of ['/health', '/health/live', '/health/ready']) expect((await fetch(`${s.url}${path}`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('is open with METRICS_PUBLIC=true (a wrong key is still a 401)', async () => {
    const s = await start({ ...keys, METRICS_PUBLIC: 'true', PUBLIC_READS: 'false' }, { logger: false });
    try {
      await metrics(s.url);
      expect((await fetch(`${s.url}/metrics`, { headers: { authorization: 'Bearer wrong-key-0123456789' } })).status).toBe(401);
    } finally {
      await s.stop();
    }
  });
});

describe('GET /health/live and /health/ready', () => {
  let s: Running;
  let store: MonitoredEventStore;
  const ready = async () => {
    const response = await fetch(`${s.url}/health/ready`);
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  beforeEach(async () => {
    s = await start({ READY_MAX_LAG: '2' }, { logger: false });
    store = s.app.get<MonitoredEventStore>(EVENT_STORE);
  });
  afterEach(async () => {
    await s.stop();
  });

  it('live: 200 while the process answers; ready: 200 with what was checked', async () => {
    const live = await fetch(`${s.url}/health/live`);
    expect(live.status).toBe(200);
    expect(live.headers.get('cache-control')).toMatch(/no-cache/);
    expect(await live.json()).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    await openTimeline(s.url);
    expect(await ready()).toEqual({
      status: 200,
      body: {
        status: 'ok',
        info: { store: { status: 'up' }, projection: { status: 'up', lag: 0, maxLag: 2, checkpoint: expect.any(String), head: expect.any(String) } },
        error: {},
        details: expect.any(Object),
      },
    });
  });

  it('ready: 503 while the store refuses writes (disk full), /health still 200 degraded, and 200 again once it takes them', async () => {
    const { slug } = await openTimeline(s.url);
    const inner = store.inner as SqliteEventStore;
    inner.limitSize(1);
    const long = 'A long account. '.repeat(250);
    const refused = await fetch(`${s.url}/timelines/${slug}/entries`, {
      method: 'POST',
      headers: json(),
      body: JSON.stringify({ kind: 'announcement', occurredOn: '2024', title: 'Full', summary: long, actors: ['JP'], announcer: 'JP', stage: 'announced' }),
    });
    expect(refused.status).toBe(503);

    const down = await ready();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'error', error: { store: { status: 'down', message: expect.stringContaining('the disk is full') } }, info: { projection: { status: 'up' } } });
    const health = await fetch(`${s.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'degraded', store: 'unavailable' });
    expect(value(await metrics(s.url), 'timeline_event_store_up')).toBe(0);
    expect(value(await metrics(s.url), 'timeline_event_store_append_duration_seconds_count{outcome="unavailable"}')).toBe(1);
    expect((await fetch(`${s.url}/health/live`)).status).toBe(200);

    inner.limitSize(null);
    await openTimeline(s.url);
    expect((await ready()).status).toBe(200);
    expect(value(await metrics(s.url), 'timeline_event_store_up')).toBe(1);
  });

  it('ready: 503 while the read model is more than READY_MAX_LAG events behind, lag in the metrics, 200 once it caught up', async () => {
    await openTimeline(s.url);
    const projector = s.app.get(Projector);
    await projector.stop();
    const appendOpened = (slug: string) =>
      (store as EventStore).append(`timeline-${slug}`, [{ id: randomUUID(), type: 'TimelineOpened', data: { slug, title: 'Behind', description: '' }, metadata: { recordedBy: 'test', correlationId: 'lag', causationId: null, schemaVersion: 1 } }], 'no-stream');
    await appendOpened('behind-1');
    await appendOpened('behind-2');
    expect((await ready()).status).toBe(200); // 2 behind: at the bound, still ready
    await appendOpened('behind-3');

    const down = await ready();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      status: 'error',
      info: { store: { status: 'up' } },
      error: { projection: { status: 'down', lag: 3, maxLag: 2, message: expect.stringContaining('READY_MAX_LAG') } },
    });
    const text = await metrics(s.url);
    expect(value(text, 'timeline_projection_lag_events')).toBe(3);
    expect(value(text, 'timeline_projection_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^timeline_projection_lag_seconds \d/m);
    const health = await fetch(`${s.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ lag: 3 });

    projector.start();
    const deadline = Date.now() + 10_000;
    while ((await ready()).status !== 200) {
      if (Date.now() > deadline) throw new Error('never ready again');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(value(await metrics(s.url), 'timeline_projection_lag_events')).toBe(0);
  });
});
