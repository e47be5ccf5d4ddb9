import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTs } from '../../../../test/support/ts-child';
import { SqliteEventStore } from './sqlite-event-store';

/**
 * "Durable when append returns": a process appending with 16 concurrent
 * writers is killed with SIGKILL at a random moment; every event whose append
 * it acknowledged must be in the file when it is opened again.
 */
describe('embedded store durability', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'timeline-durability-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([1, 2, 3])('keeps every acknowledged append across kill -9 (round %i)', async () => {
    const file = join(dir, 'events.sqlite');
    const child = spawnTs(join(__dirname, 'testing', 'append-forever.ts'), [file, '16']);
    const acknowledged: string[] = [];
    let buffer = '';
    const killAfter = 200 + Math.floor(Math.random() * 800);
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stderr!.on('data', (chunk: Buffer) => reject(new Error(chunk.toString())));
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        acknowledged.push(...lines);
        if (acknowledged.length >= killAfter) child.kill('SIGKILL');
      });
    });

    const store = new SqliteEventStore(file);
    const stored = new Set<string>();
    for (let page = await store.readAll({ limit: 10_000 }); page.length > 0; page = await store.readAll({ after: page[page.length - 1].position, limit: 10_000 })) {
      for (const e of page) stored.add(e.id);
    }
    await store.close();
    expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  }, 30_000);

  it('runs in WAL mode with synchronous=FULL, so a commit is on disk when append resolves', async () => {
    const store = new SqliteEventStore(join(dir, 'events.sqlite'));
    expect(store.durability()).toEqual({ journalMode: 'wal', synchronous: 2 });
    await store.close();
  });

  it('commits concurrent appends together: one transaction for many writers', async () => {
    const store = new SqliteEventStore(join(dir, 'events.sqlite'));
    const before = store.commits;
    await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        store.append(`entry-${i}`, [{ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'Probe', data: {}, metadata: { recordedBy: 't', correlationId: 'c', causationId: null, schemaVersion: 1 } }], 'no-stream'),
      ),
    );
    expect(store.commits - before).toBe(1);
    await store.close();
  });
});
