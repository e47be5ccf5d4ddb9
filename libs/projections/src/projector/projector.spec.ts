import { SqliteEventStore, type RecordedEvent } from '@timeline/event-store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModel } from '../read-model/sqlite-read-model';
import { writeSampleLog } from '../testing/sample-log';
import { Projector } from './projector';
import { seededRandom } from '../testing/seeded-random';


async function readEverything(store: SqliteEventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (let page = await store.readAll({ limit: 1000 }); page.length > 0; page = await store.readAll({ after: page[page.length - 1].position, limit: 1000 })) {
    all.push(...page);
  }
  return all;
}

describe('Projector', () => {
  let dir: string;
  let store: SqliteEventStore;
  const open = (name: string) => new SqliteReadModel(join(dir, name));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'timeline-projector-'));
    store = new SqliteEventStore(join(dir, 'events.sqlite'));
    await writeSampleLog(store, { timelines: 3, commands: 300, random: seededRandom(7) });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows the log to its head and releases waiters at their position', async () => {
    const readModel = open('read.sqlite');
    const projector = new Projector(store, readModel);
    projector.start();
    const head = (await store.headPosition())!;
    await expect(projector.waitFor(head, 5000)).resolves.toBe(true);
    expect(readModel.checkpoint()).toBe(head);
    const timelines = readModel.timelines();
    expect(timelines.map((t) => t.slug)).toEqual(['story-0', 'story-1', 'story-2']);
    // Counts agree with the entries themselves: nothing applied twice, nothing skipped.
    for (const t of timelines) {
      const all = readModel.entries({ timeline: t.slug, order: 'asc', limit: 500, includeRetracted: true }).items;
      expect(all.filter((e) => e.status === 'active')).toHaveLength(t.entryCount);
      expect(all.filter((e) => e.status === 'retracted')).toHaveLength(t.retractedCount);
    }
    await projector.stop();
    readModel.close();
  });

  it('resumes after a stop from its checkpoint and ends where a single run would', async () => {
    const events = await readEverything(store);
    const interrupted = open('interrupted.sqlite');
    interrupted.apply(events.slice(0, 137)); // the process "dies" here, between two transactions
    interrupted.close();

    const resumed = open('interrupted.sqlite');
    expect(resumed.checkpoint()).toBe(events[136].position);
    const projector = new Projector(store, resumed);
    projector.start();
    await projector.waitFor(events[events.length - 1].position, 5000);
    await projector.stop();

    const single = open('single.sqlite');
    single.apply(events);
    expect(resumed.digest()).toBe(single.digest());
    resumed.close();
    single.close();
  });

  it('ignores events it has already applied (re-delivery is harmless)', async () => {
    const events = await readEverything(store);
    const readModel = open('read.sqlite');
    readModel.apply(events.slice(0, 200));
    const digest = readModel.digest();
    expect(readModel.apply(events.slice(50, 200))).toEqual([]);
    expect(readModel.digest()).toBe(digest);
    readModel.close();
  });

  it('rebuild reproduces the read model exactly', async () => {
    const readModel = open('read.sqlite');
    const projector = new Projector(store, readModel);
    projector.start();
    await projector.waitFor((await store.headPosition())!, 5000);
    const before = readModel.digest();
    const progress: number[] = [];
    const rebuilt = await projector.rebuild((p) => progress.push(p.events));
    expect(rebuilt.digest).toBe(before);
    expect(rebuilt.events).toBe((await readEverything(store)).length);
    expect(progress[progress.length - 1]).toBe(rebuilt.events);
    await projector.stop();
    readModel.close();
  });

  it('stops right before an event it cannot apply, never skipping it, and says so', async () => {
    const readModel = open('read.sqlite');
    const errors: unknown[] = [];
    const projector = new Projector(store, readModel, { log: () => undefined, error: (_m, e) => errors.push(e) }, 20);
    projector.start();
    await projector.waitFor((await store.headPosition())!, 5000);

    const good = await store.append('timeline-late', [{ id: '00000000-0000-4000-8000-000000000001', type: 'TimelineOpened', data: { slug: 'late', title: 'Late', description: '' }, metadata: { recordedBy: 't', correlationId: 'c', causationId: null, schemaVersion: 1 } }], 'no-stream');
    const poison = await store.append('entry-00000000-0000-4000-8000-00000000dead', [{ id: '00000000-0000-4000-8000-000000000002', type: 'EntryRetracted', data: { entryId: '00000000-0000-4000-8000-00000000dead', timeline: 'late', reason: 'x' }, metadata: { recordedBy: 't', correlationId: 'c', causationId: null, schemaVersion: 1 } }], 'no-stream');

    await expect(projector.waitFor(good.position, 5000)).resolves.toBe(true);
    await expect(projector.waitFor(poison.position, 300)).resolves.toBe(false);
    expect(readModel.checkpoint()).toBe(good.position);
    expect(readModel.timeline('late')).toBeDefined();
    expect(projector.lastError).toBeInstanceOf(Error);
    expect(errors.length).toBeGreaterThan(0);
    await projector.stop();
    readModel.close();
  });
});
