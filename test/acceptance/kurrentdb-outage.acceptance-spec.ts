/**
 * Acceptance: the BUILT service through KurrentDB outages (README "Design",
 * Outages; GET /health), with KurrentDB (the emulator, its own process) taken
 * down and brought back on the same port with the same log, as a node that
 * crashed and was restarted. Spoken to only as clients do: fetch and plain
 * socket.io-client.
 *
 * It proves that:
 *   - while KurrentDB is down, commands (open, record, correct, retract) answer
 *     503 `store_unavailable` and append nothing (once it is back, the log and
 *     the entry's history hold no extra event); queries (timelines, entries)
 *     keep being served from the read model; GET /health answers 200 with
 *     status `degraded`, store `unavailable`, naming store_unavailable; a live
 *     client stays connected;
 *   - once KurrentDB is back, the service recovers by itself, with no restart,
 *     within RECOVERY_MS: writes succeed again, the live client gets the update,
 *     /health says ok;
 *   - a service started while KurrentDB is down, seeds on, answers (degraded,
 *     503 for commands), and once KurrentDB starts it becomes healthy, records
 *     its seeds and serves, live feed included, by itself.
 *
 * The tests of a describe run in order, each building on the last. KurrentDB
 * only, chosen when the file is loaded: with ACCEPTANCE_STORE unset they are
 * listed as skipped, saying so.
 *
 * No sleeps: every wait polls for a condition with a deadline.
 */
import { randomUUID } from 'node:crypto';
import { announcement, apiAt, delivery, expectStatus, signing, type Api, type Entry, type Health, type LogItem, type Page, type Reply, type Written } from './support/api';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_DIR, SEEDED, startService, type RunningService } from './support/artifact';
import { connectLive, until, type LiveClient } from './support/live';
import { describeOn, fileEmulator, POSITION, startEmulator, type Emulator } from './support/store';

jest.setTimeout(60_000);

/** How long the service may take to notice that KurrentDB is back. */
const RECOVERY_MS = 15_000;

/** GET /health in full (./support/api.ts's Health has the fields other specs read). */
interface FullHealth extends Health {
  store: 'ok' | 'unavailable';
  problems: Array<{ code: string; message: string }>;
}

interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
}

const WHY_KURRENTDB_ONLY = 'it takes KurrentDB down and up again; the embedded store is a file (test/reliability.e2e-spec.ts covers a full disk and a locked file)';

/** The reply is the documented 503: the store is unavailable, nothing was recorded. */
function expectUnavailable(reply: Reply): void {
  expect({ request: reply.request, status: reply.status, body: reply.body }).toEqual({
    request: reply.request,
    status: 503,
    body: expect.objectContaining({ statusCode: 503, error: 'Service Unavailable', code: 'store_unavailable', message: expect.any(String) }),
  });
}

/** Polls GET /health until its status is `status`; returns it. */
async function healthBecomes(api: Api, status: 'ok' | 'degraded', timeoutMs = RECOVERY_MS): Promise<FullHealth> {
  let last: FullHealth | undefined;
  return until(
    `GET /health to say ${status}`,
    async () => {
      last = await api.read<FullHealth>('/health');
      return last.status === status && last;
    },
    { timeoutMs, intervalMs: 100, seen: () => `(last: ${JSON.stringify(last)})` },
  );
}

/**
 * Sends `attempt` until the service stops answering 503 (KurrentDB is back), and
 * returns that answer. Only for commands a 503 did not record (the tests check
 * that it did not), so sending one again is safe.
 */
async function untilNot503<T>(what: string, attempt: () => Promise<Reply<T>>, timeoutMs = RECOVERY_MS): Promise<Reply<T>> {
  let last: Reply<T> | undefined;
  return until(
    what,
    async () => {
      last = await attempt();
      return last.status !== 503 && last;
    },
    { timeoutMs, intervalMs: 100, seen: () => `(last answer: ${last?.status} ${last?.text})` },
  );
}

// ---------------------------------------------------------------------------

describeOn('kurrentdb', 'KurrentDB goes down under a running service, and comes back', WHY_KURRENTDB_ONLY, () => {
  let kurrentdb: Emulator;
  let service: RunningService;
  let api: Api;
  let live: LiveClient | undefined;
  let slug: string;
  /** Recorded before the outage. */
  let before: Written;
  /** The log's head before the outage. */
  let headBefore: string;
  /** What the service was asked to do while KurrentDB was down, and refused. */
  const refusedEntryId = randomUUID();
  const refusedSlug = `outage-refused-${Math.random().toString(36).slice(2, 8)}`;
  /** Recorded once KurrentDB was back. */
  let after: Written;

  beforeAll(async () => {
    kurrentdb = await fileEmulator();
    service = await startService({ kurrentdb });
    api = apiAt(service.url);
    slug = await api.openTimeline({ slug: `outage-${Math.random().toString(36).slice(2, 8)}`, title: 'Through an outage' });
    before = await api.record(slug, signing({ title: 'Recorded before the outage' }));
    headBefore = (await api.health()).head!;
    expect(headBefore).toBe(before.position);
    live = await connectLive(service.url);
    expect(await live.subscribe({ timeline: slug, after: before.position })).toBe(before.position);
  });

  afterAll(async () => {
    live?.close();
    await service?.stop();
  });

  it('while KurrentDB is down, commands answer 503 store_unavailable', async () => {
    await kurrentdb.kill(); // a crash: connections reset, the port refuses them
    expect(kurrentdb.running).toBe(false);

    expectUnavailable(await api.post(`/timelines/${slug}/entries`, delivery({ entryId: refusedEntryId, title: 'Refused during the outage' })));
    expectUnavailable(await api.post('/timelines', { slug: refusedSlug, title: 'Refused during the outage' }));
    expectUnavailable(await api.patch(`/entries/${before.entryId}`, { changes: { title: 'Refused correction' }, reason: 'r' }, { 'if-match': '"0"' }));
    expectUnavailable(await api.post(`/entries/${before.entryId}/retraction`, { reason: 'refused retraction' }));
  });

  it('while KurrentDB is down, queries are served from the read model', async () => {
    const page = await api.read<Page>(`/timelines/${slug}/entries`);
    expect(page.items.map((e) => [e.entryId, e.title, e.revision])).toEqual([[before.entryId, 'Recorded before the outage', 0]]);
    expect(page.position).toBe(before.position);
    expect(await api.read<Entry>(`/entries/${before.entryId}`)).toMatchObject({ entryId: before.entryId, revision: 0, status: 'active' });
    expect(await api.read(`/timelines/${slug}`)).toMatchObject({ slug, entryCount: 1, retractedCount: 0 });
    expect((await api.read<{ items: Array<{ slug: string }> }>('/timelines')).items.map((t) => t.slug)).toContain(slug);
    // What the refused commands would have made is not there.
    expect((await api.get(`/entries/${refusedEntryId}`)).status).toBe(404);
    expect((await api.get(`/timelines/${refusedSlug}`)).status).toBe(404);
  });

  it('while KurrentDB is down, GET /health answers 200 degraded: store unavailable, naming store_unavailable; the live client stays connected', async () => {
    const reply = await api.get<FullHealth>('/health');
    expectStatus(reply, 200);
    expect(reply.body).toMatchObject({ status: 'degraded', store: 'unavailable', checkpoint: before.position });
    expect(reply.body.problems).toEqual(expect.arrayContaining([{ code: 'store_unavailable', message: expect.any(String) }]));
    expect(live!.socket.connected).toBe(true);
    expect(live!.updates).toEqual([]);
  });

  it(`once KurrentDB is back (same port, same log), the service recovers by itself within ${RECOVERY_MS / 1000} s: writes succeed, the live client gets the update, /health says ok`, async () => {
    await kurrentdb.start();
    const started = Date.now();
    const recorded = await untilNot503('a recording to be accepted', () =>
      api.post<Written>(`/timelines/${slug}/entries`, announcement({ entryId: randomUUID(), title: 'Recorded after the outage' })),
    );
    expectStatus(recorded, 201);
    after = recorded.body;
    expect(after.position).toMatch(POSITION);
    expect(after.position > before.position).toBe(true);

    await live!.updateAt(after.position, Math.max(1, RECOVERY_MS - (Date.now() - started)));
    expect(live!.updates.map((u) => [u.position, u.type, u.entry.entryId])).toEqual([[after.position, 'entry.recorded', after.entryId]]);
    expect(live!.exceptions).toEqual([]);

    const health = await healthBecomes(api, 'ok', Math.max(1, RECOVERY_MS - (Date.now() - started)));
    expect(health).toMatchObject({ status: 'ok', store: 'ok', problems: [], head: after.position, checkpoint: after.position, lag: 0 });
    const page = await api.read<Page>(`/timelines/${slug}/entries`);
    expect(page.items.map((e) => e.entryId)).toEqual([before.entryId, after.entryId]);
  });

  it('the commands refused during the outage appended nothing: the log holds only what was accepted', async () => {
    const log = await api.read<{ items: LogItem[] }>(`/events?after=${headBefore}&limit=1000`);
    expect(log.items.map((e) => [e.position, e.stream, e.type])).toEqual([[after.position, `entry-${after.entryId}`, 'AnnouncementRecorded']]);
    const history = await api.read<{ items: Array<{ type: string; revision: number }> }>(`/entries/${before.entryId}/history`);
    expect(history.items.map((h) => [h.type, h.revision])).toEqual([['SigningRecorded', 0]]);
    expect((await api.get(`/entries/${refusedEntryId}/history`)).status).toBe(404);
    expect((await api.get(`/timelines/${refusedSlug}`)).status).toBe(404);
  });

  it('and everything works as before: a correction, pushed live', async () => {
    const corrected = await api.correct(before.entryId, { title: 'Corrected after the outage' }, { revision: 0 });
    const updates = await live!.updateAt(corrected.position);
    expect(updates[updates.length - 1]).toMatchObject({ type: 'entry.corrected', entry: { entryId: before.entryId, revision: 1, title: 'Corrected after the outage' } });
  });
});

// ---------------------------------------------------------------------------

describeOn('kurrentdb', 'a service started while KurrentDB is down', WHY_KURRENTDB_ONLY, () => {
  let kurrentdb: Emulator;
  let service: RunningService;
  let api: Api;
  let live: LiveClient | undefined;
  const slug = `late-store-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    // A KurrentDB of its own, stopped before the service starts: its port is known and refuses connections.
    kurrentdb = await startEmulator();
    await kurrentdb.stop();
    service = await startService({ kurrentdb }); // the seeds on, as a user runs it
    api = apiAt(service.url);
  });

  afterAll(async () => {
    live?.close();
    await service?.stop();
  });

  it('answers while KurrentDB is down: /health degraded, commands 503 store_unavailable', async () => {
    const health = await healthBecomes(api, 'degraded', 5_000);
    expect(health).toMatchObject({ store: 'unavailable', checkpoint: null });
    expectUnavailable(await api.post('/timelines', { slug, title: 'Opened once KurrentDB is up' }));
  });

  it(`once KurrentDB starts, it becomes healthy by itself within ${RECOVERY_MS / 1000} s, and records and serves, live feed included`, async () => {
    await kurrentdb.start();
    const health = await healthBecomes(api, 'ok');
    expect(health).toMatchObject({ store: 'ok', problems: [] });

    const opened = await untilNot503(`opening ${slug}`, () => api.post<{ slug: string; position: string }>('/timelines', { slug, title: 'Opened once KurrentDB is up' }));
    expectStatus(opened, 201);
    live = await connectLive(service.url);
    expect(await live.subscribe({ timeline: slug })).toBe(opened.body.position);
    const recorded = await api.record(slug, signing({ title: 'Recorded once KurrentDB is up' }));
    await live.updateAt(recorded.position);
    expect(live.updates.map((u) => [u.position, u.type, u.entry.entryId])).toEqual([[recorded.position, 'entry.recorded', recorded.entryId]]);
    expect((await api.read<Page>(`/timelines/${slug}/entries`)).items.map((e) => e.entryId)).toEqual([recorded.entryId]);
    expect(await api.health()).toMatchObject({ status: 'ok', head: recorded.position, checkpoint: recorded.position });
  });

  it('records its seeds once KurrentDB is up, without a restart', async () => {
    const seeds = (JSON.parse(readFileSync(join(APP_DIR, 'seeds', `${SEEDED}.json`), 'utf8')) as { entries: unknown[] }).entries.length;
    const seeded = await until('every seed recorded', async () => {
      const reply = await api.get<{ entryCount: number }>(`/timelines/${SEEDED}`);
      return reply.status === 200 && reply.body.entryCount === seeds ? reply.body : undefined;
    }, { timeoutMs: RECOVERY_MS });
    expect(seeded.entryCount).toBe(seeds);
  });
});
