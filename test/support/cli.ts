import { SqliteEventStore, type RecordedEvent } from '@timeline/event-store';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTs } from './ts-child';

export const CLI_MAIN = join(__dirname, '..', '..', 'apps', 'timeline-cli', 'src', 'main.ts');

export interface CliRun {
  /** Exit code (null if killed by a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout then stderr, for assertions that do not care which. */
  output: string;
}

/**
 * Runs `timeline <args>` as a real child process (SWC compiles the entry, as
 * `npm run timeline` does), with DATA_DIR set and no KurrentDB or read-model
 * override inherited from the shell running the tests.
 */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawnTs(CLI_MAIN, args, { env: { EVENTSTORE_CONNECTION_STRING: '', READ_MODEL_FILE: '', SEED_DIR: '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` }));
  });
}

export const tempDir = (name: string): string => mkdtempSync(join(tmpdir(), `timeline-cli-${name}-`));

/** A copy of a data dir (event store and read model) to tamper with. */
export function copyDataDir(from: string, name: string): string {
  const to = tempDir(name);
  cpSync(from, to, { recursive: true });
  return to;
}

/** The first match's group, or a failure that shows the whole output. */
export function capture(run: CliRun, pattern: RegExp): string {
  const match = pattern.exec(run.output);
  if (!match) throw new Error(`no match for ${pattern} in:\n${run.output}`);
  return match[1];
}

/** Writes a generated log into a new embedded store at dataDir/events.sqlite, in one transaction. */
export async function writeLog(dataDir: string, events: readonly RecordedEvent[]): Promise<void> {
  const store = new SqliteEventStore(join(dataDir, 'events.sqlite'));
  try {
    store.importEvents(events);
  } finally {
    await store.close();
  }
}


