import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseApiKeys, type ApiKey } from '../auth/api-keys';

const toBool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);
const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/** Pino's levels, most severe first; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * The environment the service reads. Unknown values stop start-up with a message naming the variable.
 * The schema of validateEnvironment, and so of loadConfig.
 */
export class Environment {
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

  @IsOptional() @Transform(toInt) @IsInt() @Min(50) @Max(600_000)
  SSE_HEARTBEAT_MS?: number;

  @IsOptional() @IsString()
  API_KEYS?: string;

  @IsOptional() @IsString() @MinLength(1)
  API_KEYS_FILE?: string;

  @IsOptional() @Transform(toBool) @IsBoolean()
  PUBLIC_READS?: boolean;

  @IsOptional() @IsIn(['production', 'development', 'test'])
  NODE_ENV?: string;

  @IsOptional() @Matches(/^(\*|https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*)$/, {
    message: 'CORS_ORIGINS must be * or a comma-separated list of origins such as https://newsroom.example',
  })
  CORS_ORIGINS?: string;

  // Origins only (scheme, host, port: what frame-ancestors compares), a subdomain wildcard allowed;
  // nothing that could end the CSP directive (';', quotes, spaces).
  @IsOptional() @Matches(/^(\*|https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?(,https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?)*)$/i, {
    message: 'EMBED_ORIGINS must be * or a comma-separated list of origins such as https://news.example,https://*.cms.example (no paths)',
  })
  EMBED_ORIGINS?: string;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100_000_000)
  RATE_LIMIT_WRITES_PER_MINUTE?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100_000_000)
  RATE_LIMIT_SUBSCRIBES_PER_MINUTE?: number;

  @IsOptional() @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL?: LogLevelName;

  @IsOptional() @IsIn(LOG_FORMATS, { message: `LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}` })
  LOG_FORMAT?: LogFormat;

  @IsOptional() @Transform(toBool) @IsBoolean()
  METRICS_PUBLIC?: boolean;

  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000)
  READY_MAX_LAG?: number;

  @IsOptional() @Matches(/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/, {
    message: 'PUBLIC_BASE_URL must be an http or https URL without query or fragment, such as https://timelines.newsroom.example',
  })
  PUBLIC_BASE_URL?: string;
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
  /** How often an idle SSE stream gets a comment line, so proxies do not close it (SSE_HEARTBEAT_MS). */
  sseHeartbeatMs: number;
  /** Empty: development mode, everything allowed (and said loudly at start). */
  apiKeys: ApiKey[];
  /** Queries and the live feed without a token. */
  publicReads: boolean;
  production: boolean;
  /** Origins allowed by CORS: '*', a list, or none (same origin only). */
  corsOrigins: '*' | string[];
  /** Sites that may show GET /timelines/:slug/embed in a frame, besides the service itself: '*', a list, or none. */
  embedOrigins: '*' | string[];
  rateLimitWritesPerMinute: number;
  rateLimitSubscribesPerMinute: number;
  /** Pino's level for the service's logs (LOG_LEVEL). */
  logLevel: LogLevelName;
  /** 'json': one JSON object a line; 'pretty': pino-pretty, for a person at a terminal (LOG_FORMAT). */
  logFormat: LogFormat;
  /** GET /metrics without a key even when keys are configured (METRICS_PUBLIC); otherwise it needs an auditor key. */
  metricsPublic: boolean;
  /** GET /health/ready answers 503 when the read model is more than this many events behind the log (READY_MAX_LAG). */
  readyMaxLag: number;
  /** Where readers reach the service (PUBLIC_BASE_URL, no trailing slash): the feeds' links. Null: from each request's Host. */
  publicBaseUrl: string | null;
}

export interface LoadOptions {
  /** Whether stdout is a terminal: decides LOG_FORMAT's default. Default: process.stdout.isTTY. */
  tty?: boolean;
}

export { InvalidConfigError } from './invalid-config.error';
import { InvalidConfigError } from './invalid-config.error';

/**
 * Checks the variables the service reads against the Environment schema and
 * converts them (PORT to a number, PUBLIC_READS to a boolean, ...); other
 * variables are ignored, and empty ones count as unset. Throws
 * InvalidConfigError naming every variable at fault.
 */
export function validateEnvironment(env: Record<string, unknown>): Environment {
  const values = plainToInstance(Environment, pick(env, KEYS));
  const errors = validateSync(values, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const problems = errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `${e.property}: ${m}`));
    throw new InvalidConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return values;
}

/** The service's configuration from an environment (process.env, or a test's own): validateEnvironment, then defaults. */
export function loadConfig(env: NodeJS.ProcessEnv, options: LoadOptions = {}): AppConfig {
  return configFrom(validateEnvironment(env), options);
}

/** The AppConfig of a validated environment: defaults filled in, API keys read and checked. */
export function configFrom(values: Environment, { tty = process.stdout.isTTY === true }: LoadOptions = {}): AppConfig {
  const production = values.NODE_ENV === 'production';
  const apiKeys = [
    ...(values.API_KEYS ? parseApiKeys(values.API_KEYS, 'API_KEYS') : []),
    ...(values.API_KEYS_FILE ? parseApiKeys(readKeysFile(values.API_KEYS_FILE), `API_KEYS_FILE (${values.API_KEYS_FILE})`) : []),
  ];
  if (production && apiKeys.length === 0) {
    throw new InvalidConfigError('NODE_ENV=production needs API_KEYS or API_KEYS_FILE: refusing to start with every request allowed');
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
    // Well under the 30-60 s idle timeouts of common proxies and load balancers (nginx, ALB).
    sseHeartbeatMs: values.SSE_HEARTBEAT_MS ?? 15_000,
    apiKeys,
    publicReads: values.PUBLIC_READS ?? true,
    production,
    corsOrigins: origins(values.CORS_ORIGINS),
    embedOrigins: origins(values.EMBED_ORIGINS),
    rateLimitWritesPerMinute: values.RATE_LIMIT_WRITES_PER_MINUTE ?? 600,
    rateLimitSubscribesPerMinute: values.RATE_LIMIT_SUBSCRIBES_PER_MINUTE ?? 120,
    logLevel: values.LOG_LEVEL ?? 'info',
    // JSON for machines (production, containers, pipes, log shippers); pretty only for a person at a terminal.
    logFormat: values.LOG_FORMAT ?? (!production && tty ? 'pretty' : 'json'),
    metricsPublic: values.METRICS_PUBLIC ?? false,
    readyMaxLag: values.READY_MAX_LAG ?? 1000,
    publicBaseUrl: values.PUBLIC_BASE_URL?.replace(/\/+$/, '') ?? null,
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
  'SSE_HEARTBEAT_MS',
  'API_KEYS',
  'API_KEYS_FILE',
  'PUBLIC_READS',
  'NODE_ENV',
  'CORS_ORIGINS',
  'EMBED_ORIGINS',
  'RATE_LIMIT_WRITES_PER_MINUTE',
  'RATE_LIMIT_SUBSCRIBES_PER_MINUTE',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'METRICS_PUBLIC',
  'READY_MAX_LAG',
  'PUBLIC_BASE_URL',
];

function origins(value: string | undefined): '*' | string[] {
  return value === '*' ? '*' : (value?.split(',') ?? []);
}

function readKeysFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/).filter((line) => line.trim() && !line.startsWith('#')).join(',');
  } catch (error) {
    throw new InvalidConfigError(`API_KEYS_FILE: cannot read ${file}: ${(error as Error).message}`);
  }
}

function pick(env: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (env[key] !== undefined && env[key] !== '') out[key] = env[key];
  return out;
}
