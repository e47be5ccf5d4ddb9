/**
 * Optimistic concurrency under fire: 50 requests at once against the real app
 * (in process, random port, temporary SQLite store), each aimed at the same
 * stream. Exactly one wins; the others get the documented refusal; the log
 * holds exactly one event for it, and nothing else is appended.
 *
 * Each scenario runs several times over fresh streams, since a race shows
 * only when the requests interleave the wrong way; and once more across two
 * service processes that share one embedded store.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/free-port';
import { startService, type RunningService } from './support/service';
import { startServiceProcess, type ServiceProcess } from './support/service-process';
import { apiAt, delivery, signing, type Api, type Reply } from './support/http';
import { watchProcess, type ProcessWatch } from './support/process-watch';
import type { LogItem as LogEvent } from '@timeline/client';

jest.setTimeout(60_000);

const ENV = { RATE_LIMIT_WRITES_PER_MINUTE: '1000000', RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '1000000' };
const N = 50;
const REPEAT = 3;

let service: RunningService;
let api: Api;
let watch: ProcessWatch;

beforeAll(async () => {
  service = await startService(ENV);
  api = apiAt(service.url);
  watch = watchProcess();
});

afterAll(async () => {
  watch?.stop();
  await service?.stop();
});

afterEach(() => {
  expect(watch.problems).toEqual([]);
});


/** The log after `after` (everything when null). */
async function eventsAfter(after: string | null): Promise<LogEvent[]> {
  const events: LogEvent[] = [];
  for (let from = after; ; ) {
    const page = await api.get(`/events?limit=1000${from ? `&after=${from}` : ''}`);
    expect(page.status).toBe(200);
    events.push(...page.body.items);
    from = page.body.next;
    if (!from) return events;
  }
}

/** Statuses counted: { 200: 1, 412: 49 }. */
function tally(replies: Reply[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of replies) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** Fires all at once: every request is started before any is awaited. */
const all = (n: number, send: (i: number) => Promise<Reply>): Promise<Reply[]> => Promise.all(Array.from({ length: n }, (_, i) => send(i)));

async function openTimeline(): Promise<string> {
  const slug = `race-${randomUUID().slice(0, 8)}`;
  expect((await api.post('/timelines', { slug, title: 'A contested story' })).status).toBe(201);
  return slug;
}

async function record(slug: string, body: Record<string, unknown> = signing()): Promise<string> {
  const reply = await api.post(`/timelines/${slug}/entries`, body);
  expect(reply.status).toBe(201);
  return reply.body.entryId as string;
}

describe(`${N} concurrent requests at one stream`, () => {
  it.each(Array.from({ length: REPEAT }, (_, i) => i + 1))(
    `${N} corrections of one entry with the same If-Match: one 200, ${N - 1} 412s, one event (run %i)`,
    async () => {
      const slug = await openTimeline();
      const entryId = await record(slug);
      const head = await api.head();

      const replies = await all(N, (i) => api.patch(`/entries/${entryId}`, { changes: { title: `Correction number ${i}` }, reason: 'racing' }, { 'If-Match': '"0"' }));

      expect(tally(replies)).toEqual({ 200: 1, 412: N - 1 });
      for (const r of replies.filter((r) => r.status === 412)) expect(r.body).toMatchObject({ statusCode: 412, code: expect.any(String) });
      const winner = replies.findIndex((r) => r.status === 200);
      expect(replies[winner].body).toMatchObject({ entryId, revision: 1, position: expect.any(String) });

      const appended = await eventsAfter(head);
      expect(appended.map((e) => `${e.stream} ${e.type} r${e.revision}`)).toEqual([`entry-${entryId} EntryCorrected r1`]);
      expect(appended[0].position).toBe(replies[winner].body.position);
      const history = await api.get(`/entries/${entryId}/history`);
      expect(history.body.items.map((e: { type: string }) => e.type)).toEqual(['SigningRecorded', 'EntryCorrected']);
      const entry = await api.get(`/entries/${entryId}`);
      expect({ etag: entry.headers.get('etag'), title: entry.body.title }).toEqual({ etag: '"1"', title: `Correction number ${winner}` });
    },
  );

  it.each(Array.from({ length: REPEAT }, (_, i) => i + 1))(
    `${N} identical creations with one entryId: ${N} × 201 with one position, one event (run %i)`,
    async () => {
      const slug = await openTimeline();
      const head = await api.head();
      const entryId = randomUUID();

      const replies = await all(N, () => api.post(`/timelines/${slug}/entries`, signing({ entryId })));

      expect(tally(replies)).toEqual({ 201: N });
      const positions = new Set(replies.map((r) => r.body.position));
      expect(positions.size).toBe(1);
      expect(replies.every((r) => r.body.entryId === entryId && r.body.revision === 0)).toBe(true);
      const appended = await eventsAfter(head);
      expect(appended.map((e) => `${e.stream} ${e.type} r${e.revision}`)).toEqual([`entry-${entryId} SigningRecorded r0`]);
      expect(appended[0].position).toBe([...positions][0]);
      expect((await api.get(`/timelines/${slug}`)).body.entryCount).toBe(1);
    },
  );

  it.each(Array.from({ length: REPEAT }, (_, i) => i + 1))(
    `${N} different creations under one entryId: one 201, ${N - 1} 409s, one event (run %i)`,
    async () => {
      const slug = await openTimeline();
      const head = await api.head();
      const entryId = randomUUID();

      const replies = await all(N, (i) => api.post(`/timelines/${slug}/entries`, delivery({ entryId, title: `Delivery version ${i}` })));

      expect(tally(replies)).toEqual({ 201: 1, 409: N - 1 });
      const winner = replies.findIndex((r) => r.status === 201);
      const appended = await eventsAfter(head);
      expect(appended.map((e) => `${e.stream} ${e.type}`)).toEqual([`entry-${entryId} DeliveryRecorded`]);
      expect(appended[0].data.title).toBe(`Delivery version ${winner}`);
      expect((await api.get(`/entries/${entryId}`)).body.title).toBe(`Delivery version ${winner}`);
    },
  );

  it.each(Array.from({ length: REPEAT }, (_, i) => i + 1))(
    `${N} creations of one timeline slug: one 201, ${N - 1} 409s, one event (run %i)`,
    async () => {
      const head = await api.head();
      const slug = `contested-${randomUUID().slice(0, 8)}`;

      const replies = await all(N, (i) => api.post('/timelines', { slug, title: `Title number ${i}` }));

      expect(tally(replies)).toEqual({ 201: 1, 409: N - 1 });
      const winner = replies.findIndex((r) => r.status === 201);
      const appended = await eventsAfter(head);
      expect(appended.map((e) => `${e.stream} ${e.type}`)).toEqual([`timeline-${slug} TimelineOpened`]);
      expect((await api.get(`/timelines/${slug}`)).body.title).toBe(`Title number ${winner}`);
    },
  );

  it.each([
    ['without If-Match', undefined],
    ['with the same If-Match', '"0"'],
  ] as const)(`${N} retractions of one entry %s: one 200, ${N - 1} 409/412s, one event`, async (_how, ifMatch) => {
    for (let run = 0; run < REPEAT; run++) {
      const slug = await openTimeline();
      const entryId = await record(slug);
      const head = await api.head();

      const headers: Record<string, string> = ifMatch ? { 'If-Match': ifMatch } : {};
      const replies = await all(N, (i) => api.post(`/entries/${entryId}/retraction`, { reason: `Retraction number ${i}` }, headers));

      const counts = tally(replies);
      expect({ 200: counts[200], refused: (counts[409] ?? 0) + (counts[412] ?? 0), other: replies.filter((r) => ![200, 409, 412].includes(r.status)).map((r) => r.status) }).toEqual({
        200: 1,
        refused: N - 1,
        other: [],
      });
      const appended = await eventsAfter(head);
      expect(appended.map((e) => `${e.stream} ${e.type} r${e.revision}`)).toEqual([`entry-${entryId} EntryRetracted r1`]);
      const history = await api.get(`/entries/${entryId}/history`);
      expect(history.body.items.map((e: { type: string }) => e.type)).toEqual(['SigningRecorded', 'EntryRetracted']);
      expect((await api.get(`/entries/${entryId}`)).body).toMatchObject({ status: 'retracted', revision: 1 });
    }
  });
});

describe('a conflict in a group commit leaves the other appends of the group alone', () => {
  it(`${N / 2} racing corrections of one entry, ${N / 2} fresh recordings and ${N / 2} corrections of distinct entries, all at once`, async () => {
    const slug = await openTimeline();
    const contested = await record(slug);
    const distinct = await Promise.all(Array.from({ length: N / 2 }, () => record(slug)));
    const head = await api.head();

    const [racing, fresh, separate] = await Promise.all([
      all(N / 2, (i) => api.patch(`/entries/${contested}`, { changes: { title: `Racing ${i}` }, reason: 'racing' }, { 'If-Match': '"0"' })),
      all(N / 2, (i) => api.post(`/timelines/${slug}/entries`, signing({ title: `Fresh ${i}` }))),
      all(N / 2, (i) => api.patch(`/entries/${distinct[i]}`, { changes: { title: `Separate ${i}` }, reason: 'no race' }, { 'If-Match': '"0"' })),
    ]);

    expect(tally(racing)).toEqual({ 200: 1, 412: N / 2 - 1 });
    expect(tally(fresh)).toEqual({ 201: N / 2 });
    expect(tally(separate)).toEqual({ 200: N / 2 });

    const appended = await eventsAfter(head);
    expect(appended).toHaveLength(1 + N / 2 + N / 2);
    expect(new Set(appended.map((e) => e.id)).size).toBe(appended.length);
    const acknowledged = [...racing, ...fresh, ...separate].filter((r) => r.status < 300).map((r) => r.body.position as string);
    expect(acknowledged.sort()).toEqual(appended.map((e) => e.position));
    for (let i = 0; i < N / 2; i++) expect((await api.get(`/entries/${distinct[i]}`)).body).toMatchObject({ title: `Separate ${i}`, revision: 1 });
    expect((await api.get(`/health`)).body).toMatchObject({ status: 'ok', head: appended[appended.length - 1].position, checkpoint: appended[appended.length - 1].position });
  });
});

describe('the same races across two processes sharing one event store', () => {
  let dataDir: string;
  const instances: ServiceProcess[] = [];
  let a: Api;
  let b: Api;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'timeline-race-'));
    for (const name of ['a', 'b']) {
      instances.push(await startServiceProcess({ port: await freePort(), dataDir, env: { ...ENV, READ_MODEL_FILE: join(dataDir, `read-model-${name}.sqlite`) } }));
    }
    [a, b] = instances.map((i) => apiAt(i.url));
  }, 60_000);

  afterAll(async () => {
    for (const instance of instances) await instance.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Half the requests through each instance, interleaved. */
  const both = (send: (api: Api, i: number) => Promise<Reply>) => all(N, (i) => send(i % 2 === 0 ? a : b, i));

  it(`${N} corrections with the same If-Match, half through each: one 200, ${N - 1} 412s`, async () => {
    const slug = `split-${randomUUID().slice(0, 8)}`;
    expect((await a.post('/timelines', { slug, title: 'Split' })).status).toBe(201);
    const created = await a.post(`/timelines/${slug}/entries`, signing());
    expect(created.status).toBe(201);
    const entryId = created.body.entryId as string;
    const head = await a.head();

    const replies = await both((api, i) => api.patch(`/entries/${entryId}`, { changes: { title: `Split correction ${i}` }, reason: 'racing' }, { 'If-Match': '"0"' }));

    expect(tally(replies)).toEqual({ 200: 1, 412: N - 1 });
    const appended = (await a.get(`/events?after=${head}`)).body.items as LogEvent[];
    expect(appended.map((e) => `${e.stream} ${e.type} r${e.revision}`)).toEqual([`entry-${entryId} EntryCorrected r1`]);
  });

  it(`${N} identical creations with one entryId, half through each: one event`, async () => {
    const slug = `split-${randomUUID().slice(0, 8)}`;
    expect((await a.post('/timelines', { slug, title: 'Split' })).status).toBe(201);
    const head = await a.head();
    const entryId = randomUUID();

    const replies = await both((api) => api.post(`/timelines/${slug}/entries`, signing({ entryId })));

    expect(tally(replies)).toEqual({ 201: N });
    expect(new Set(replies.map((r) => r.body.position)).size).toBe(1);
    const appended = (await a.get(`/events?after=${head}`)).body.items as LogEvent[];
    expect(appended.map((e) => `${e.stream} ${e.type}`)).toEqual([`entry-${entryId} SigningRecorded`]);
  });

  it(`${N} creations of one slug, half through each: one 201, ${N - 1} 409s`, async () => {
    const head = await a.head();
    const slug = `split-${randomUUID().slice(0, 8)}`;

    const replies = await both((api, i) => api.post('/timelines', { slug, title: `Split title ${i}` }));

    expect(tally(replies)).toEqual({ 201: 1, 409: N - 1 });
    const appended = (await a.get(`/events?after=${head}`)).body.items as LogEvent[];
    expect(appended.map((e) => `${e.stream} ${e.type}`)).toEqual([`timeline-${slug} TimelineOpened`]);
  });

  it(`${N} retractions, half through each: one 200, ${N - 1} 409/412s`, async () => {
    const slug = `split-${randomUUID().slice(0, 8)}`;
    expect((await a.post('/timelines', { slug, title: 'Split' })).status).toBe(201);
    const created = await b.post(`/timelines/${slug}/entries`, signing());
    expect(created.status).toBe(201);
    const entryId = created.body.entryId as string;
    const head = await a.head();

    const replies = await both((api, i) => api.post(`/entries/${entryId}/retraction`, { reason: `Split retraction ${i}` }));

    const counts = tally(replies);
    expect({ 200: counts[200], refused: (counts[409] ?? 0) + (counts[412] ?? 0), other: replies.filter((r) => ![200, 409, 412].includes(r.status)).map((r) => `${r.status} ${JSON.stringify(r.body)}`) }).toEqual({ 200: 1, refused: N - 1, other: [] });
    const appended = (await a.get(`/events?after=${head}`)).body.items as LogEvent[];
    expect(appended.map((e) => `${e.stream} ${e.type}`)).toEqual([`entry-${entryId} EntryRetracted`]);
  });
});

describe('two processes writing at once to different streams', () => {
  let dataDir: string;
  const instances: ServiceProcess[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'timeline-race-'));
    for (const name of ['a', 'b']) {
      instances.push(await startServiceProcess({ port: await freePort(), dataDir, env: { ...ENV, READ_MODEL_FILE: join(dataDir, `read-model-${name}.sqlite`) } }));
    }
  }, 60_000);

  afterAll(async () => {
    for (const instance of instances) await instance.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`${2 * N} fresh recordings, half through each instance, all at once, ten times: every one 201 (busy_timeout waits; nothing is refused)`, async () => {
    const [a, b] = instances.map((i) => apiAt(i.url));
    const slug = `busy-${randomUUID().slice(0, 8)}`;
    expect((await a.post('/timelines', { slug, title: 'Both instances write' })).status).toBe(201);
    const head = await a.head();
    const failures: string[] = [];
    let created = 0;
    for (let round = 0; round < 10; round++) {
      const replies = await all(2 * N, (i) => (i % 2 === 0 ? a : b).post(`/timelines/${slug}/entries`, signing({ title: `Round ${round} entry ${i}` })));
      created += replies.filter((r) => r.status === 201).length;
      failures.push(...replies.filter((r) => r.status !== 201).map((r) => `round ${round}: ${r.status} ${JSON.stringify(r.body)}`));
    }
    // Whatever was refused was refused honestly: the log holds exactly the acknowledged recordings...
    const appended = await a.get(`/events?after=${head}&limit=1000`);
    expect(appended.body.items).toHaveLength(created);
    // ...but nothing should have been refused: the store waits for the other process's write lock (busy_timeout).
    expect(failures).toEqual([]);
  });
});
