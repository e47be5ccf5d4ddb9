import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';
import { resolve } from 'node:path';

const toBool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);
const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/** The environment the service reads. Unknown values stop start-up with a message naming the variable. */
class Environment {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT?: number;

  @IsOptional() @IsString() @MinLength(1)
  HOST?: string;

  @IsOptional() @IsString() @MinLength(1)
  DATA_DIR?: string;

  @IsOptional() @IsString() @MinLength(1)
  READ_MODEL_FILE?: string;

  @IsOptional() @Matches(/^(kurrentdb|esdb|kdb)(\+discover)?:\/\/\S+$/, {
    message: 'EVENTSTORE_CONNECTION_STRING must look like kurrentdb://host:2113?tls=false',
  })
  EVENTSTORE_CONNECTION_STRING?: string;

  @IsOptional() @Transform(toBool) @IsBoolean()
  SEED_ON_START?: boolean;

  @IsOptional() @IsString() @MinLength(1)
  SEED_DIR?: string;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  LIVE_MAX_QUEUED?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  LIVE_MAX_REPLAY?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(5) @Max(60_000)
  POLL_INTERVAL_MS?: number;
}

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Each instance keeps its own read model; several may share one event store. */
  readModelFile: string;
  eventStoreConnectionString: string | null;
  seedOnStart: boolean;
  seedDir: string;
  /** Messages waiting for one live client before it is told to resync. */
  liveMaxQueued: number;
  /** Missed changes a resuming live client may be replayed; beyond, resync_required. */
  liveMaxReplay: number;
  /** How often the embedded store looks for events written by other processes. */
  pollIntervalMs: number;
}

export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv): AppConfig {
  const values = plainToInstance(Environment, pick(env, KEYS));
  const errors = validateSync(values, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const problems = errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `${e.property}: ${m}`));
    throw new InvalidConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const dataDir = resolve(values.DATA_DIR ?? 'data');
  return {
    port: values.PORT ?? 3000,
    host: values.HOST ?? '0.0.0.0',
    dataDir,
    readModelFile: resolve(values.READ_MODEL_FILE ?? `${dataDir}/read-model.sqlite`),
    eventStoreConnectionString: values.EVENTSTORE_CONNECTION_STRING ?? null,
    seedOnStart: values.SEED_ON_START ?? true,
    // npm start and npm test run from the repository root, where seeds/ lives.
    seedDir: resolve(values.SEED_DIR ?? 'seeds'),
    liveMaxQueued: values.LIVE_MAX_QUEUED ?? 5000,
    liveMaxReplay: values.LIVE_MAX_REPLAY ?? 2000,
    pollIntervalMs: values.POLL_INTERVAL_MS ?? 50,
  };
}

const KEYS = [
  'PORT',
  'HOST',
  'DATA_DIR',
  'READ_MODEL_FILE',
  'EVENTSTORE_CONNECTION_STRING',
  'SEED_ON_START',
  'SEED_DIR',
  'LIVE_MAX_QUEUED',
  'LIVE_MAX_REPLAY',
  'POLL_INTERVAL_MS',
];

function pick(env: NodeJS.ProcessEnv, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) if (env[key] !== undefined && env[key] !== '') out[key] = env[key]!;
  return out;
}
