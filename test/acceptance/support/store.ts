/**
 * Which event store the acceptance suite runs the built service on, and the
 * KurrentDB it uses when that is KurrentDB.
 *
 *   npx jest --selectProjects acceptance                               the embedded SQLite store (default)
 *   ACCEPTANCE_STORE=kurrentdb npx jest --selectProjects acceptance    KurrentDB, through the emulator
 *
 * In KurrentDB mode each test file gets one KurrentDB emulator of its own
 * (test/kurrentdb-emulator, run as its own process: `node -r @swc-node/register
 * test/kurrentdb-emulator/main.ts --port 0 --data <file>`), started when the
 * file first needs it, and startService (./artifact.ts) hands its connection
 * string to every service as EVENTSTORE_CONNECTION_STRING. Its log is kept in a
 * --data file, so stop() then start() is a KurrentDB node restarted on the same
 * port with the same log, and kill() one that crashed (the emulator fsyncs every
 * write before acknowledging it, so a crash loses nothing acknowledged).
 *
 * The emulator is test support, not the artifact: it runs from this repository
 * (with its devDependencies) even when ACCEPTANCE_APP_DIR points at a
 * production-only install of the service.
 *
 * Tests that hold on one store only are chosen here when the file is loaded
 * (describeOn), so that every run reports them, run or skipped, and says why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export type AcceptanceStore = 'sqlite' | 'kurrentdb';

const STORES: readonly AcceptanceStore[] = ['sqlite', 'kurrentdb'];

function storeFromEnvironment(): AcceptanceStore {
  const value = process.env.ACCEPTANCE_STORE || 'sqlite';
  if (!(STORES as readonly string[]).includes(value)) {
    // A typo must not quietly run the SQLite suite and report it as the KurrentDB one.
    throw new Error(`ACCEPTANCE_STORE=${value}: must be one of ${STORES.join(', ')} (unset means sqlite)`);
  }
  return value as AcceptanceStore;
}

/** The store this run proves the service on: ACCEPTANCE_STORE, `sqlite` when unset. */
export const STORE: AcceptanceStore = storeFromEnvironment();
export const ON_KURRENTDB = STORE === 'kurrentdb';

/**
 * What a position looks like (README "Running with KurrentDB"): the embedded
 * store numbers its log, 20 digits; KurrentDB's are its commit and prepare
 * positions in $all, 20 digits each, joined by '-'. Either compares in log
 * order as a plain string.
 */
export const POSITION: RegExp = ON_KURRENTDB ? /^\d{20}-\d{20}$/ : /^\d{20}$/;

/** The same, unanchored, as RegExp source: for finding a position in a line of text. */
export const POSITION_TEXT: string = POSITION.source.slice(1, -1);

/**
 * A describe block that holds on `only` store. On the other store it is
 * declared skipped, with the reason in its title, so the run lists what it
 * left out and why (chosen when the file is loaded: nothing in it runs, not
 * even its beforeAll).
 */
export function describeOn(only: AcceptanceStore, title: string, whyOnlyThere: string, body: () => void): void {
  if (STORE === only) describe(title, body);
  else describe.skip(`${title} [${only} only: ${whyOnlyThere}]`, body);
}

// ---------------------------------------------------------------------------
// The KurrentDB emulator as its own process

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const EMULATOR_MAIN = join(REPO_ROOT, 'test', 'kurrentdb-emulator', 'main.ts');
const STARTED_WITHIN_MS = 20_000;
const STOPPED_WITHIN_MS = 10_000;

export interface Emulator {
  /** kurrentdb://127.0.0.1:<port>?tls=false: the same across stop()/start(). */
  readonly connectionString: string;
  readonly port: number;
  /** The --data file that keeps its log across restarts. */
  readonly dataFile: string;
  /** Whether its process is up now. */
  readonly running: boolean;
  /** SIGTERM: a node taken down cleanly. Resolves once the process has exited (the port then refuses connections). */
  stop(): Promise<void>;
  /** SIGKILL: a node that crashed. Resolves once the process has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port, with the same log. */
  start(): Promise<void>;
  /** Stops it for good and removes its log. */
  close(): Promise<void>;
  /** What its processes printed on stderr so far, for error messages. */
  output(): string;
}

const emulators = new Set<Emulator>();

/**
 * Starts a KurrentDB emulator process on a free port, with an empty log kept in
 * a temporary --data file. Closed by closeEmulators() (./artifact.ts calls it
 * after every test file) if the test did not close it.
 */
export async function startEmulator(): Promise<Emulator> {
  const dir = mkdtempSync(join(tmpdir(), 'timeline-acceptance-kurrentdb-'));
  const dataFile = join(dir, 'log.jsonl');
  let port = 0;
  let connectionString = '';
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  let closed = false;

  const launch = async (): Promise<void> => {
    if (closed) throw new Error('the emulator was closed');
    if (child) return;
    const launched = spawn(process.execPath, ['-r', '@swc-node/register', EMULATOR_MAIN, '--port', String(port), '--data', dataFile], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = launched;
    exited = new Promise((done) =>
      launched.once('exit', () => {
        if (child === launched) child = null;
        done();
      }),
    );
    launched.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // main.ts prints the connection string, and nothing else, on stdout once it listens.
    const printed = await new Promise<string>((done, fail) => {
      let stdout = '';
      const timer = setTimeout(() => fail(new Error(`the KurrentDB emulator did not start within ${STARTED_WITHIN_MS} ms:\n${output}`)), STARTED_WITHIN_MS);
      launched.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = /^(kurrentdb:\/\/\S+)\n/.exec(stdout);
        if (line) {
          clearTimeout(timer);
          done(line[1]);
        }
      });
      launched.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(new Error(`the KurrentDB emulator exited (${code ?? signal}) before it listened:\n${output}`));
      });
    }).catch(async (error: unknown) => {
      launched.kill('SIGKILL');
      await exited;
      throw error;
    });
    const printedPort = Number(/:(\d+)\?/.exec(printed)?.[1]);
    if (port !== 0 && printedPort !== port) throw new Error(`the KurrentDB emulator came back on port ${printedPort}, not ${port}`);
    port = printedPort;
    connectionString = printed;
  };

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    if (!running) return;
    running.kill(signal);
    const timer = setTimeout(() => running.kill('SIGKILL'), STOPPED_WITHIN_MS);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  const emulator: Emulator = {
    get connectionString() {
      return connectionString;
    },
    get port() {
      return port;
    },
    dataFile,
    get running() {
      return child !== null;
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    start: launch,
    async close() {
      if (closed) return;
      closed = true;
      emulators.delete(emulator);
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => output,
  };
  emulators.add(emulator);
  return emulator;
}

let shared: Promise<Emulator> | undefined;

/**
 * The test file's own KurrentDB: one emulator, started on first use, that every
 * service of the file shares unless told otherwise (startService's `kurrentdb`).
 */
export function fileEmulator(): Promise<Emulator> {
  shared ??= startEmulator();
  return shared;
}

/** Closes every emulator this test file started (./artifact.ts does, after the file's services have stopped). */
export async function closeEmulators(): Promise<void> {
  shared = undefined;
  await Promise.all([...emulators].map((emulator) => emulator.close()));
}

/** For the global setup: what KurrentDB mode needs besides the artifact. */
export function checkStoreSetup(): string {
  if (!ON_KURRENTDB) return 'the embedded SQLite store';
  if (!existsSync(EMULATOR_MAIN)) throw new Error(`ACCEPTANCE_STORE=kurrentdb needs the KurrentDB emulator at ${EMULATOR_MAIN}`);
  require.resolve('@swc-node/register', { paths: [REPO_ROOT] }); // throws, naming it, when the repository's devDependencies are not installed
  return `KurrentDB: one emulator process per test file (${EMULATOR_MAIN})`;
}
