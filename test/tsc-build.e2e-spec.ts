/**
 * Nothing in the product may depend on which compiler emitted it. The build is
 * SWC's (nest-cli.json, .swcrc), but tsc emits other decorator metadata: for
 * the live gateway's subscribe(socket: Socket, payload: unknown, ack?: Reply),
 * design:paramtypes [Function, Object, Function] where SWC has Object for all
 * three. Once, the global validation pipe took the socket for a DTO and every
 * subscribe failed in the tsc build only. So the service is built here with
 * tsc too (`nest build` with the tsc builder, in a copy of the tree) and its
 * live feed is used with a plain socket.io-client.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { freePort, waitForHealth } from './support/free-port';
import { REPO_ROOT } from './support/ts-child';

jest.setTimeout(120_000);

const SLUG = 'japan-ukraine-support';
const MAIN_DIR = (tree: string) => join(tree, 'dist', 'apps', 'timeline-service', 'src');

describe('the service built by tsc instead of SWC', () => {
  let tree: string;
  let service: ChildProcess | undefined;
  let socket: Socket | undefined;
  let url: string;

  beforeAll(async () => {
    tree = mkdtempSync(join(tmpdir(), 'tsc-build-'));
    for (const path of ['apps', 'libs', 'seeds', 'tsconfig.json', 'package.json']) cpSync(join(REPO_ROOT, path), join(tree, path), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(tree, 'node_modules'));
    const nest = JSON.parse(readFileSync(join(REPO_ROOT, 'nest-cli.json'), 'utf8'));
    nest.compilerOptions.builder = 'tsc';
    writeFileSync(join(tree, 'nest-cli.json'), JSON.stringify(nest));
    // The same layout as SWC's (dist/apps/..., dist/libs/...), so the live page's assets land beside the code.
    const app = { extends: '../../tsconfig.json', compilerOptions: { outDir: '../../dist', types: ['node'] }, include: ['src/**/*.ts'], exclude: ['**/*.spec.ts'] };
    writeFileSync(join(tree, 'apps', 'timeline-service', 'tsconfig.app.json'), JSON.stringify(app));
    // The project's build (`nest build`, then the live page's browser client), with the tsc builder.
    const build = spawnSync('npm', ['run', 'build'], { cwd: tree, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`tsc build failed:\n${build.stdout}\n${build.stderr}`);

    const gateway = readFileSync(join(MAIN_DIR(tree), 'live', 'live.gateway.js'), 'utf8');
    expect(gateway).toContain('__metadata("design:paramtypes", [Function, Object, Function])'); // what the test is about

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    service = spawn(process.execPath, [join(MAIN_DIR(tree), 'main.js')], {
      cwd: tree,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: join(tree, 'data'), LOG_LEVEL: 'error', EVENTSTORE_CONNECTION_STRING: '', API_KEYS: '', NODE_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    service.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    service.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForHealth(url, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
  });

  afterAll(async () => {
    socket?.close();
    if (service && service.exitCode === null) {
      const exited = new Promise((done) => service!.once('exit', done));
      service.kill('SIGTERM');
      await exited;
    }
    rmSync(tree, { recursive: true, force: true });
  });

  it('acks subscribe, a bad payload and unsubscribe, and never answers with a bare exception', async () => {
    socket = io(`${url}/live`, { transports: ['websocket'] });
    const exceptions: unknown[] = [];
    socket.on('exception', (e: unknown) => exceptions.push(e));
    const ask = (event: string, payload: unknown) => socket!.timeout(5_000).emitWithAck(event, payload);

    expect(await ask('subscribe', { timeline: SLUG })).toEqual({ ok: true, position: expect.stringMatching(/^\d{20}$/) });
    expect(await ask('subscribe', { timeline: 5 })).toMatchObject({ ok: false, error: { code: 'invalid', message: expect.stringContaining('timeline') } });
    expect(await ask('unsubscribe', { timeline: SLUG })).toEqual({ ok: true });
    expect(exceptions).toEqual([]);
  });
});
