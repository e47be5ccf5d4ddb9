/**
 * The built artifact, run as a user runs it: `node dist/apps/timeline-service/src/main.js`
 * as its own process, from the folder that holds it, on a random port over a fresh
 * DATA_DIR, the seeds on. Nothing of the service is imported here: tests speak to
 * it over HTTP, socket.io and the CLI's command line only.
 *
 * ACCEPTANCE_APP_DIR points at another install of the artifact (CI's production
 * install: package.json, package-lock.json, dist/, seeds/ and `npm ci --omit=dev`),
 * ACCEPTANCE_NODE at another Node (CI runs the suite on Node 24 that way).
 *
 * ACCEPTANCE_STORE=kurrentdb runs every service on KurrentDB instead of the embedded
 * store (see ./store.ts): startService passes it the test file's KurrentDB emulator
 * as EVENTSTORE_CONNECTION_STRING; the read model stays a SQLite file in DATA_DIR.
 *
 * Every service and emulator a test file started is stopped after the file, even
 * when a test failed or forgot to (see the afterAll at the end).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../support/free-port';
import { closeEmulators, fileEmulator, ON_KURRENTDB, type Emulator } from './store';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const APP_DIR = resolve(process.env.ACCEPTANCE_APP_DIR || REPO_ROOT);
export const NODE = process.env.ACCEPTANCE_NODE || process.execPath;
export const SERVICE_MAIN = join(APP_DIR, 'dist', 'apps', 'timeline-service', 'src', 'main.js');
export const CLI_MAIN = join(APP_DIR, 'dist', 'apps', 'timeline-cli', 'src', 'main.js');

/** The seeded timeline (seeds/japan-ukraine-support.json). */
export const SEEDED = 'japan-ukraine-support';

/** Settings of the test's shell that would change what the service does: each test says its own. */
const CONFIG_VARIABLES = [
  'PORT', 'HOST', 'DATA_DIR', 'SEED_ON_START', 'SEED_DIR', 'EVENTSTORE_CONNECTION_STRING', 'READ_MODEL_FILE',
  'API_KEYS', 'API_KEYS_FILE', 'NODE_ENV', 'LOG_LEVEL', 'LOG_FORMAT', 'PUBLIC_READS', 'CORS_ORIGINS', 'PUBLIC_BASE_URL',
  'EMBED_ORIGINS', 'SSE_HEARTBEAT_MS',
];

function cleanEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of CONFIG_VARIABLES) delete env[name];
  return { ...env, ...extra };
}

export interface RunningService {
  url: string;
  port: number;
  dataDir: string;
  /** stdout and stderr so far. */
  output(): string;
  /** SIGTERM (or the signal given), then the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A port nobody listens on now (test support, shared with the e2e tests). */
export { freePort };

export interface StartOptions {
  env?: Record<string, string>;
  /** Reuse this data folder (a restart); otherwise the service gets a fresh one, removed by stop(). */
  dataDir?: string;
  /**
   * The KurrentDB to run on, in any mode. Default: on ACCEPTANCE_STORE=kurrentdb the
   * test file's emulator (fileEmulator()), unless `env` names an EVENTSTORE_CONNECTION_STRING;
   * otherwise the embedded store in DATA_DIR.
   */
  kurrentdb?: Emulator;
}

/** The environment that puts a service on the store of this run (see StartOptions.kurrentdb). */
async function storeEnvironment(options: StartOptions): Promise<Record<string, string>> {
  if (options.env?.EVENTSTORE_CONNECTION_STRING !== undefined) return {};
  const kurrentdb = options.kurrentdb ?? (ON_KURRENTDB ? await fileEmulator() : undefined);
  return kurrentdb ? { EVENTSTORE_CONNECTION_STRING: kurrentdb.connectionString } : {};
}

/** The services this test file started and has not seen exit, for the afterAll below. */
const running = new Set<RunningService>();

/**
 * Starts the built service and waits until /health answers (200: ok, or degraded
 * when its store is down). `dataDir` reuses a data folder (a restart); otherwise
 * each service gets a fresh one, removed by stop().
 */
export async function startService(options: StartOptions = {}): Promise<RunningService> {
  const port = await freePort();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'timeline-acceptance-'));
  const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ...(await storeEnvironment(options)), ...options.env };
  const child: ChildProcess = spawn(NODE, [SERVICE_MAIN], {
    cwd: APP_DIR,
    env: cleanEnvironment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const service: RunningService = {
    url,
    port,
    dataDir,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const result = await exited;
      running.delete(service);
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return result;
    },
  };
  running.add(service);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the service exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${output}`);
    }
    const healthy = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (healthy) return service;
    if (Date.now() > deadline) {
      await service.stop('SIGKILL');
      throw new Error(`the service was not healthy within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The CLI as the image runs it: `node dist/apps/timeline-cli/src/main.js <args>`, with
 * exactly the environment given (a KurrentDB's EVENTSTORE_CONNECTION_STRING included:
 * the CLI is pointed at a store on purpose, as an operator does).
 */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): CliResult {
  const result = spawnSync(NODE, [CLI_MAIN, ...args], {
    cwd: APP_DIR,
    env: cleanEnvironment(env),
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// ---------------------------------------------------------------------------
// After each test file: its services first (SIGTERM, as an orchestrator stops
// them, then SIGKILL if one hangs), then the KurrentDB emulators they used.
// jest runs a file's afterAll hooks in the order they were declared, and this
// module is imported before a spec declares its own, so this runs first; a
// spec's own service.stop() afterwards finds the process gone and returns.
// (The global setup imports this module too, outside any test file: there is
// no afterAll there, and nothing to stop.)

async function stopEverything(): Promise<void> {
  await Promise.all(
    [...running].map(async (service) => {
      const hung = setTimeout(() => void service.stop('SIGKILL'), 10_000);
      await service.stop();
      clearTimeout(hung);
    }),
  );
  await closeEmulators();
}

if (typeof afterAll === 'function') afterAll(stopEverything, 30_000);
