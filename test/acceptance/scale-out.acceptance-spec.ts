/**
 * Acceptance: scaling out (README "Scaling out"). Two processes of the BUILT
 * service, A and B, each with its own DATA_DIR (its own read model), on one
 * KurrentDB (the test file's emulator, its own process). Spoken to only as
 * clients do: fetch, and plain socket.io-client on /live.
 *
 * It proves that:
 *   - an entry recorded through A reaches a live client subscribed on B, and
 *     both instances serve it;
 *   - positions mean the same on both: writes through A and B are ordered in
 *     one log; a client that must see its write everywhere waits until the
 *     other instance's page reaches the position its write returned, and then
 *     sees it; as-of, /events and a live resume on one instance take a
 *     position the other returned; both serve the same pages;
 *   - when B is killed (SIGKILL), its live client resumes on A, subscribing
 *     after the last position it saw, and receives exactly what it missed
 *     (recorded, corrected and retracted meanwhile through A), in order, with
 *     no duplicate.
 *
 * KurrentDB only: instances on the embedded store share one DATA_DIR and one
 * machine, another set-up (test/live-instances.e2e-spec.ts covers it). Chosen
 * when the file is loaded: with ACCEPTANCE_STORE unset the tests are listed as
 * skipped, saying so.
 *
 * No sleeps: every wait polls for a condition with a deadline.
 */
import { announcement, apiAt, delivery, signing, type Api, type Entry, type LogItem, type Page, type Written } from './support/api';
import { SEEDED, startService, type RunningService } from './support/artifact';
import { connectLive, outOfOrder, positionsOf, until, type LiveClient, type Update } from './support/live';
import { describeOn, fileEmulator } from './support/store';

jest.setTimeout(60_000);

/** How long one instance may take to see what another wrote (normally milliseconds). */
const CATCH_UP_MS = 10_000;

describeOn('kurrentdb', 'two instances on one KurrentDB', 'instances on the embedded store share one DATA_DIR instead (see test/live-instances.e2e-spec.ts)', () => {
  let a: RunningService;
  let b: RunningService;
  let atA: Api;
  let atB: Api;
  const sockets: LiveClient[] = [];
  let opened = 0;

  beforeAll(async () => {
    const kurrentdb = await fileEmulator();
    // One after the other: B's seeding then only finds A's seeds in the log.
    a = await startService({ kurrentdb });
    b = await startService({ kurrentdb });
    expect(b.dataDir).not.toBe(a.dataDir);
    atA = apiAt(a.url);
    atB = apiAt(b.url);
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  async function live(service: RunningService): Promise<LiveClient> {
    const client = await connectLive(service.url);
    sockets.push(client);
    return client;
  }

  /** Opens a timeline through `api`; returns its slug and the position that opened it. */
  async function openTimeline(api: Api, prefix: string): Promise<{ slug: string; position: string }> {
    const slug = `scale-${prefix}-${++opened}-${Math.random().toString(36).slice(2, 8)}`;
    const reply = await api.post<{ slug: string; position: string }>('/timelines', { slug, title: `Scale-out ${prefix}` });
    if (reply.status !== 201) throw new Error(`opening ${slug} answered ${reply.status}: ${reply.text}`);
    return reply.body;
  }

  /** README's way to see a write everywhere: wait until the instance's page of `slug` is at or past `position`. */
  async function pageAtLeast(api: Api, slug: string, position: string, query = '?limit=500&includeRetracted=true'): Promise<Page> {
    let last = '';
    return until(
      `the page of ${slug} to reach ${position}`,
      async () => {
        const reply = await api.get<Page>(`/timelines/${slug}/entries${query}`);
        last = `${reply.status} at ${reply.body?.position}`;
        return reply.status === 200 && reply.body.position !== null && reply.body.position >= position && reply.body;
      },
      { timeoutMs: CATCH_UP_MS, intervalMs: 20, seen: () => `(last answer: ${last})` },
    );
  }

  /** Until the instance's read model has applied `position` (its /health checkpoint). */
  async function caughtUp(api: Api, position: string): Promise<void> {
    await until(`the read model to reach ${position}`, async () => ((await api.health()).checkpoint ?? '') >= position, { timeoutMs: CATCH_UP_MS, intervalMs: 20 });
  }

  it('an entry recorded through A reaches a live client subscribed on B, and both serve it', async () => {
    const { slug, position: openedAt } = await openTimeline(atA, 'a-to-b');
    await caughtUp(atB, openedAt); // B knows the timeline: it can be subscribed to there
    const onB = await live(b);
    await onB.subscribe({ timeline: slug });

    const written = await atA.record(slug, signing({ title: 'Recorded through A' }));
    const [update] = await onB.updateAt(written.position);
    expect(onB.updates).toHaveLength(1);
    expect(update).toMatchObject({ timeline: slug, position: written.position, type: 'entry.recorded' });
    expect(update.entry).toMatchObject({ entryId: written.entryId, title: 'Recorded through A', revision: 0, position: written.position });
    // Pushed after B's projector committed it: B serves it as A does.
    expect(update.entry).toEqual(await atB.read<Entry>(`/entries/${written.entryId}`));
    expect(update.entry).toEqual(await atA.read<Entry>(`/entries/${written.entryId}`));
    expect(onB.exceptions).toEqual([]);
  });

  it('positions mean the same on A and B: one log order for writes through either, and a position from one is valid on the other', async () => {
    const { slug, position: openedAt } = await openTimeline(atA, 'positions');
    // Writes through A and B in turn, one after the other, none waiting for the other instance to catch up
    // (commands decide on the log, not on the read model): a correction through B of an entry recorded through A, too.
    const w: Written[] = [];
    w.push(await atA.record(slug, announcement({ title: 'w0 through A' })));
    w.push(await atB.record(slug, delivery({ title: 'w1 through B' })));
    w.push(await atB.correct(w[0].entryId, { title: 'w0 corrected through B' }, { revision: 0 }));
    w.push(await atA.record(slug, signing({ title: 'w3 through A' })));
    w.push(await atA.retract(w[1].entryId, 'retracted through A'));
    expect(outOfOrder(w.map((x) => x.position))).toEqual([]);
    expect(w.map((x) => x.position > openedAt)).toEqual(w.map(() => true));

    // Read-your-writes on the other instance: once B's page reaches A's last position, it shows A's write.
    const last = w[w.length - 1];
    const pageOnB = await pageAtLeast(atB, slug, last.position);
    const pageOnA = await pageAtLeast(atA, slug, last.position);
    expect(pageOnB).toEqual(pageOnA);
    expect(pageOnB.items.map((e) => [e.title, e.status, e.revision])).toEqual([
      ['w1 through B', 'retracted', 1], // 2022-03
      ['w0 corrected through B', 'active', 1], // 2024-06-13, recorded first
      ['w3 through A', 'active', 0], // 2024-06-13
    ]);

    // as-of at a position B returned, asked of A, and at one A returned, asked of B: the same past.
    for (const [i, asOf] of [w[1].position, w[3].position].entries()) {
      const onA = await atA.read<Page>(`/timelines/${slug}/entries?includeRetracted=true&asOf=${asOf}`);
      const onB = await atB.read<Page>(`/timelines/${slug}/entries?includeRetracted=true&asOf=${asOf}`);
      expect({ i, page: onA }).toEqual({ i, page: onB });
      expect(onA.position).toBe(asOf);
    }
    expect((await atA.read<Page>(`/timelines/${slug}/entries?asOf=${w[1].position}`)).items.map((e) => e.title)).toEqual(['w1 through B', 'w0 through A']);

    // The log after a position from A, asked of B: the same events, starting right after it.
    const onA = await atA.read<{ items: LogItem[] }>(`/events?after=${w[0].position}&limit=1000`);
    const onB = await atB.read<{ items: LogItem[] }>(`/events?after=${w[0].position}&limit=1000`);
    expect(onB.items).toEqual(onA.items);
    expect(onB.items.filter((e) => e.data.timeline === slug).map((e) => e.position)).toEqual(w.slice(1).map((x) => x.position));

    // A live subscribe on A after a position B returned: exactly the later changes.
    const onLiveA = await live(a);
    await onLiveA.subscribe({ timeline: slug, after: w[2].position });
    await onLiveA.updateAt(last.position);
    expect(positionsOf(onLiveA.updates)).toEqual([w[3].position, w[4].position]);
  });

  it('every instance serves the same pages, whether it projected an event live or caught up with it later (the seeded timeline: A recorded it, B caught up)', async () => {
    const head = (await atA.health()).head!;
    await caughtUp(atB, head);
    const [onA, onB] = [await atA.read<Page>(`/timelines/${SEEDED}/entries?limit=500&includeRetracted=true`), await atB.read<Page>(`/timelines/${SEEDED}/entries?limit=500&includeRetracted=true`)];
    expect(onB.items.length).toBeGreaterThan(0);
    expect(onB).toEqual(onA);
  });

  it('when B is killed, its live client resumes on A after the last position it saw: exactly what it missed, in order, no duplicate', async () => {
    const { slug, position: openedAt } = await openTimeline(atA, 'failover');
    const { slug: elsewhere } = await openTimeline(atA, 'failover-noise');
    await caughtUp(atB, openedAt);

    // The reader follows the timeline on B, remembering the last position it saw.
    const onB = await live(b);
    await onB.subscribe({ timeline: slug });
    const seen = [await atA.record(slug, announcement({ title: 'Seen on B' })), await atB.record(slug, signing({ title: 'Also seen on B' }))];
    await onB.updateAt(seen[1].position);
    expect(positionsOf(onB.updates)).toEqual(seen.map((x) => x.position));
    const lastSeen = onB.updates[onB.updates.length - 1].position;

    expect(await b.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    await onB.disconnected();

    // While it is away: a new entry, a correction and a retraction of the ones it saw, and noise elsewhere, all through A.
    const missed: Array<[Written, Update['type']]> = [];
    missed.push([await atA.record(slug, delivery({ title: 'Recorded while B was down' })), 'entry.recorded']);
    await atA.record(elsewhere, signing());
    missed.push([await atA.correct(seen[0].entryId, { title: 'Corrected while B was down' }, { revision: 0 }), 'entry.corrected']);
    missed.push([await atA.retract(seen[1].entryId, 'retracted while B was down'), 'entry.retracted']);

    // The reader reconnects to A (as a balancer would send it) and resumes after what it saw.
    const onA = await live(a);
    const ack = await onA.subscribe({ timeline: slug, after: lastSeen });
    expect(ack).toBe((await atA.health()).checkpoint);
    await onA.updateAt(missed[missed.length - 1][0].position);
    // A live change after the replay is the barrier: nothing else came before or in between.
    const afterwards = await atA.record(slug, announcement({ title: 'Recorded after resuming on A' }));
    await onA.updateAt(afterwards.position);

    expect(onA.updates.map((u) => [u.position, u.type, u.entry.entryId])).toEqual([
      ...missed.map(([x, type]) => [x.position, type, x.entryId]),
      [afterwards.position, 'entry.recorded', afterwards.entryId],
    ]);
    const everything = [...onB.updates, ...onA.updates];
    expect(outOfOrder(positionsOf(everything))).toEqual([]); // in log order across both instances, hence no duplicate
    expect(everything.every((u) => u.timeline === slug)).toBe(true);
    expect(onA.updates[1].entry).toMatchObject({ entryId: seen[0].entryId, title: 'Corrected while B was down', revision: 1 });
    expect(onA.updates[2].entry).toEqual(await atA.read<Entry>(`/entries/${seen[1].entryId}`));
    expect([...onB.exceptions, ...onA.exceptions]).toEqual([]);
  });

  it('A still serves after B is gone', async () => {
    const health = await atA.health();
    expect(health).toMatchObject({ status: 'ok', lag: 0 });
  });
});
