import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { freePort, waitForHealth } from './support/free-port';
import { spawnTs } from './support/ts-child';

/**
 * Two instances of the service share one embedded event store (SQLite in WAL
 * mode admits several processes); each runs its own projector into its own
 * read model. Positions are positions in the shared log, so they mean the same
 * on both: a client can move from one instance to the other and resume.
 */
describe('two instances on one event store', () => {
  const MAIN = join(__dirname, '..', 'apps', 'timeline-service', 'src', 'main.ts');
  let dataDir: string;
  const instances: Record<'a' | 'b', { url: string; process: ChildProcess; output: string }> = {} as never;
  const sockets: Socket[] = [];

  async function launch(name: 'a' | 'b'): Promise<void> {
    const port = await freePort();
    const child = spawnTs(MAIN, [], {
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        READ_MODEL_FILE: join(dataDir, `read-model-${name}.sqlite`),
        SEED_ON_START: 'false',
      },
    });
    const instance = { url: `http://127.0.0.1:${port}`, process: child, output: '' };
    child.stdout!.on('data', (c: Buffer) => (instance.output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (instance.output += c.toString()));
    instances[name] = instance;
    await waitForHealth(instance.url, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${instance.output}`);
    });
  }

  const exited = (child: ChildProcess) =>
    new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

  const post = async (url: string, path: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status).toBe(201);
    return (await response.json()) as { entryId: string; position: string };
  };

  const record = (url: string, title: string) =>
    post(url, '/timelines/shared-story/entries', {
      kind: 'announcement',
      occurredOn: '2025-04-09',
      title,
      actors: ['JP', 'NATO'],
      announcer: 'JP',
      stage: 'announced',
    });

  function connect(url: string): Socket {
    const socket = io(`${url}/live`, { transports: ['websocket'], reconnection: false });
    sockets.push(socket);
    return socket;
  }

  /** Subscribes, retrying while this instance's projector has not yet seen the timeline. */
  async function subscribe(socket: Socket, after?: string): Promise<{ ok: boolean; position?: string }> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const ack = (await socket.timeout(5000).emitWithAck('subscribe', after ? { timeline: 'shared-story', after } : { timeline: 'shared-story' })) as {
        ok: boolean;
        position?: string;
        error?: { code: string };
      };
      if (ack.ok || ack.error?.code !== 'not_found') return ack;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the timeline never reached this instance');
  }

  function collect(socket: Socket): string[] {
    const positions: string[] = [];
    socket.on('update', (u: { position: string }) => positions.push(u.position));
    return positions;
  }

  async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'timeline-instances-'));
    await Promise.all([launch('a'), launch('b')]);
  }, 60_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    for (const { process: child } of Object.values(instances)) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('pushes to a client on B what was recorded through A, then resumes it on A after B is killed', async () => {
    const { a, b } = instances;
    await post(a.url, '/timelines', { slug: 'shared-story', title: 'A story both instances serve' });

    const onB = connect(b.url);
    const seenOnB = collect(onB);
    expect((await subscribe(onB)).ok).toBe(true);

    const before = [await record(a.url, 'First, through A'), await record(a.url, 'Second, through A')];
    await until(() => seenOnB.length === 2, 'B to push both changes');
    expect(seenOnB).toEqual(before.map((w) => w.position));

    b.process.kill('SIGKILL');
    await exited(b.process);
    const missed = [await record(a.url, 'Third, while the client was away'), await record(a.url, 'Fourth, while away')];

    const onA = connect(a.url);
    const seenOnA = collect(onA);
    const ack = await subscribe(onA, seenOnB[seenOnB.length - 1]);
    expect(ack.ok).toBe(true);
    const live = await record(a.url, 'Fifth, live on A');
    await until(() => seenOnA.length === 3, 'A to replay the missed changes and push the live one');
    expect(seenOnA).toEqual([...missed, live].map((w) => w.position));
  }, 60_000);

  it('tells its clients on SIGTERM, then exits 0', async () => {
    const { a } = instances;
    const client = connect(a.url);
    expect((await subscribe(client)).ok).toBe(true);
    const told = new Promise<unknown>((resolve) => client.once('shutdown', resolve));
    const disconnected = new Promise<string>((resolve) => client.once('disconnect', resolve));
    const code = exited(a.process);
    a.process.kill('SIGTERM');
    await expect(told).resolves.toMatchObject({ reason: expect.any(String) });
    // A transport close, not 'io server disconnect': socket.io clients reconnect
    // on their own after it, which through a load balancer means elsewhere.
    await expect(disconnected).resolves.toBe('transport close');
    expect(await code).toBe(0);
  }, 30_000);
});
