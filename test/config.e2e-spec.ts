/**
 * Configuration (issue 7): the Environment schema, used by @nestjs/config's
 * validate at start-up and by loadConfig; the new LOG_LEVEL, LOG_FORMAT,
 * METRICS_PUBLIC and READY_MAX_LAG; ConfigService inside the app; and the
 * real process refusing to start on a bad value, with one line on stderr and
 * exit 1, no stack trace.
 */
import { ConfigService } from '@nestjs/config';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidConfigError, loadConfig, validateEnvironment, type AppConfig } from '../apps/timeline-service/src/config/app-config';
import type { ConfigShape } from '../apps/timeline-service/src/config/app-config.module';
import { APP_CONFIG } from '../apps/timeline-service/src/store/store.tokens';
import { SERVICE_MAIN } from './support/service-process';
import { startService } from './support/service';
import { spawnTs } from './support/ts-child';

jest.setTimeout(60_000);

const refusal = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
};

describe('the Environment schema', () => {
  it('defaults: LOG_LEVEL info, metrics behind a key, ready within 1000 events', () => {
    const config = loadConfig({}, { tty: false });
    expect(config).toMatchObject({ logLevel: 'info', logFormat: 'json', metricsPublic: false, readyMaxLag: 1000 });
  });

  it('LOG_FORMAT: pretty only for a person at a terminal outside production; JSON otherwise; as asked when set', () => {
    expect(loadConfig({}, { tty: true }).logFormat).toBe('pretty');
    expect(loadConfig({ NODE_ENV: 'development' }, { tty: true }).logFormat).toBe('pretty');
    expect(loadConfig({}, { tty: false }).logFormat).toBe('json');
    expect(loadConfig({ NODE_ENV: 'production', API_KEYS: 'jane:editor:0123456789abcdef0' }, { tty: true }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'json' }, { tty: true }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }, { tty: false }).logFormat).toBe('pretty');
  });

  it('takes every pino level, METRICS_PUBLIC and READY_MAX_LAG', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
    expect(loadConfig({ METRICS_PUBLIC: 'true', READY_MAX_LAG: '0' })).toMatchObject({ metricsPublic: true, readyMaxLag: 0 });
  });

  it('refuses a wrong value naming the variable', () => {
    expect(refusal({ LOG_LEVEL: 'verbose' })).toMatch(/LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(refusal({ LOG_LEVEL: 'INFO' })).toMatch(/LOG_LEVEL/);
    expect(refusal({ LOG_FORMAT: 'text' })).toMatch(/LOG_FORMAT must be one of json, pretty/);
    expect(refusal({ METRICS_PUBLIC: 'yes' })).toMatch(/METRICS_PUBLIC/);
    expect(refusal({ READY_MAX_LAG: '-1' })).toMatch(/READY_MAX_LAG/);
    expect(refusal({ READY_MAX_LAG: 'many' })).toMatch(/READY_MAX_LAG/);
    expect(refusal({ PORT: '70000' })).toMatch(/PORT/);
    expect(refusal({ EVENTSTORE_CONNECTION_STRING: 'postgres://db' })).toMatch(/EVENTSTORE_CONNECTION_STRING must look like kurrentdb:\/\/host:2113\?tls=false/);
  });

  it('names every variable at fault at once, and ignores variables it does not read', () => {
    const message = refusal({ PORT: 'eighty', LOG_LEVEL: 'loud', SOMETHING_ELSE: '!!' });
    expect(message).toMatch(/PORT/);
    expect(message).toMatch(/LOG_LEVEL/);
    expect(message).not.toMatch(/SOMETHING_ELSE/);
  });

  it('validateEnvironment (the validate of ConfigModule.forRoot) converts what it checks', () => {
    expect(validateEnvironment({ PORT: '8080', PUBLIC_READS: 'false', READY_MAX_LAG: '5', HOME: '/root' })).toMatchObject({ PORT: 8080, PUBLIC_READS: false, READY_MAX_LAG: 5 });
    expect(() => validateEnvironment({ LOG_LEVEL: 'chatty' })).toThrow(InvalidConfigError);
  });
});

describe('inside the app', () => {
  it('the AppConfig is in ConfigService under `app`, and is the APP_CONFIG', async () => {
    const s = await startService({ READY_MAX_LAG: '7', LOG_LEVEL: 'warn' });
    try {
      const config = s.app.get<ConfigService<ConfigShape, true>>(ConfigService);
      expect(config.get('app.readyMaxLag', { infer: true })).toBe(7);
      expect(config.get('app', { infer: true })).toBe(s.app.get<AppConfig>(APP_CONFIG));
      // Nothing inside the app reads process.env through ConfigService.
      expect(config.get('PATH' as never)).toBeUndefined();
    } finally {
      await s.stop();
    }
  });
});

describe('the service process', () => {
  const start = (env: Record<string, string>) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'timeline-config-'));
    const child = spawnTs(SERVICE_MAIN, [], {
      env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, SEED_ON_START: 'false', API_KEYS: '', API_KEYS_FILE: '', NODE_ENV: 'development', LOG_LEVEL: '', LOG_FORMAT: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.once('exit', (code) => {
        rmSync(dataDir, { recursive: true, force: true });
        resolve({ code, stdout, stderr });
      }),
    );
  };

  it.each([
    ['a wrong PORT', { PORT: 'eighty' }, /^invalid configuration: PORT: /],
    ['a malformed EVENTSTORE_CONNECTION_STRING', { EVENTSTORE_CONNECTION_STRING: 'http://kurrent:2113' }, /^invalid configuration: EVENTSTORE_CONNECTION_STRING: /],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'verbose' }, /^invalid configuration: LOG_LEVEL: LOG_LEVEL must be one of/],
  ])('refuses to start on %s: exit 1, the variable named on stderr, no stack trace', async (_what, env, message) => {
    const { code, stdout, stderr } = await start(env);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toBe('');
  });
});
