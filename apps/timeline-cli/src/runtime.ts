import { openEventStore, SqliteEventStore, type EventStore, type Position } from '@timeline/event-store';
import { SqliteReadModel, type TimelineReadModel } from '@timeline/projections';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidConfigError, loadConfig, type AppConfig } from '../../timeline-service/src/config/app-config';

/** What the process exit code means. */
export const EXIT = {
  /** Done, nothing wrong. */
  ok: 0,
  /** The command ran and found something wrong: a broken chain, a digest mismatch, a refused import. */
  finding: 1,
  /** The command could not run as asked: bad arguments, bad configuration, a missing store or file. */
  usage: 2,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that ends the command with a plain message (no stack trace) and the given exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
export const finding = (message: string) => new CliError(message, EXIT.finding);

/** The service's own configuration (DATA_DIR, READ_MODEL_FILE, EVENTSTORE_CONNECTION_STRING, SEED_*), read the same way. */
export function cliConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof InvalidConfigError) throw usageError(error.message);
    throw error;
  }
}

export const embeddedStoreFile = (config: AppConfig): string => join(config.dataDir, 'events.sqlite');

/** "SQLite /data/events.sqlite" or "KurrentDB kurrentdb://…", for the first line of a report. */
export function describeStore(config: AppConfig): string {
  return config.eventStoreConnectionString ? `KurrentDB ${config.eventStoreConnectionString}` : `SQLite ${embeddedStoreFile(config)}`;
}

export interface OpenOptions {
  /**
   * The embedded store must already exist (every command but seed and import):
   * a typo in DATA_DIR should be an error, not a new empty store.
   */
  mustExist: boolean;
}

/** The event store the service would use, chosen the same way (openEventStore). */
export function openStore(config: AppConfig, { mustExist }: OpenOptions): EventStore {
  if (!config.eventStoreConnectionString && mustExist && !existsSync(embeddedStoreFile(config))) {
    throw usageError(`no event store at ${embeddedStoreFile(config)}: check DATA_DIR (now ${config.dataDir}), or run seed or import first`);
  }
  return openEventStore({
    connectionString: config.eventStoreConnectionString,
    sqliteFile: embeddedStoreFile(config),
    pollIntervalMs: config.pollIntervalMs,
  });
}

export const isEmbedded = (store: EventStore): store is SqliteEventStore => store instanceof SqliteEventStore;

export const readModelExists = (config: AppConfig): boolean => existsSync(config.readModelFile);

export function openReadModel(config: AppConfig, { mustExist }: OpenOptions): TimelineReadModel {
  if (mustExist && !readModelExists(config)) {
    throw usageError(`no read model at ${config.readModelFile}: check READ_MODEL_FILE and DATA_DIR, or run rebuild first`);
  }
  return new SqliteReadModel(config.readModelFile);
}

/**
 * How many events the log holds, when that is cheap to know: the embedded
 * store numbers its log 1, 2, 3, ... without gaps, so its head is the count
 * (an estimate only if events were deleted by hand). KurrentDB's positions are
 * byte offsets: unknown, and progress is shown without a percentage.
 */
export function estimatedEvents(store: EventStore, head: Position | null): number | null {
  if (head === null) return 0;
  return isEmbedded(store) ? Number(head) : null;
}

/** "at position 00000000000000000042", or "none" before the first event. */
export const showPosition = (position: Position | null): string => position ?? 'none';

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** A line of the report on stdout. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** A note on stderr: for commands whose stdout carries data (export). */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}
