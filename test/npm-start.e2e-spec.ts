import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForHealth } from './support/free-port';
import { REPO_ROOT } from './support/ts-child';

const SEED = JSON.parse(readFileSync(join(REPO_ROOT, 'seeds', 'japan-ukraine-support.json'), 'utf8')) as { entries: unknown[] };
const MAIN = join(REPO_ROOT, 'dist', 'apps', 'timeline-service', 'src', 'main.js');

/**
 * What a newsroom engineer does first: `npm start` on a fresh checkout, then
 * restarts. The service builds, seeds the story, and keeps everything (and adds
 * nothing) across a graceful stop and a kill -9.
 */
describe('npm start', () => {
  let dataDir: string;
  let port: number;
  let url: string;
  let child: ChildProcess | null = null;
  let output = '';

  const launch = (command: string, args: string[]) => {
    output = '';
    child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so npm and the node it starts stop together
    });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    return child;
  };
  const exited = (c: ChildProcess) => new Promise<number | null>((resolve) => c.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const getJson = async (path: string) => (await fetch(`${url}${path}`)).json() as Promise<Record<string, unknown>>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'timeline-start-'));
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => {
    try {
      if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  let checkpoint: unknown;

  it('builds, listens on PORT, stores under DATA_DIR and serves the seeded timeline', async () => {
    launch('npm', ['start']);
    await waitForHealth(url, 90_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${output}`);
    });
    const timeline = await getJson('/timelines/japan-ukraine-support');
    expect(timeline.entryCount).toBe(SEED.entries.length);
    const page = await getJson('/timelines/japan-ukraine-support/entries?limit=500');
    expect((page.items as unknown[]).length).toBe(SEED.entries.length);
    checkpoint = (await getJson('/health')).checkpoint;
    expect(readFileSync(join(dataDir, 'events.sqlite')).length).toBeGreaterThan(0);
  }, 120_000);

  it('stops on SIGTERM', async () => {
    const running = child!;
    const code = exited(running);
    process.kill(-running.pid!, 'SIGTERM');
    await code;
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  }, 20_000);

  it('starts again on the same data with everything kept and nothing seeded twice', async () => {
    launch(process.execPath, [MAIN]);
    await waitForHealth(url, 30_000);
    expect((await getJson('/health')).checkpoint).toBe(checkpoint);
    expect((await getJson('/timelines/japan-ukraine-support')).entryCount).toBe(SEED.entries.length);
  }, 40_000);

  it('keeps everything across kill -9', async () => {
    const running = child!;
    const code = exited(running);
    process.kill(-running.pid!, 'SIGKILL');
    await code;
    launch(process.execPath, [MAIN]);
    await waitForHealth(url, 30_000);
    expect((await getJson('/health')).checkpoint).toBe(checkpoint);
    const page = await getJson('/timelines/japan-ukraine-support/entries?limit=500');
    expect((page.items as unknown[]).length).toBe(SEED.entries.length);
  }, 40_000);

  it('exits 0 on SIGTERM once it has closed the store', async () => {
    const running = child!;
    const code = exited(running);
    process.kill(running.pid!, 'SIGTERM');
    expect(await code).toBe(0);
    expect(output).toContain('SIGTERM: closing');
  }, 20_000);
});
