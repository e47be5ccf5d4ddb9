/**
 * Configuration (issue 7) end to end: APP_CONFIG inside the app, and the
 * real process refusing to start on a bad value, with one line on stderr and
 * exit 1, no stack trace.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../apps/timeline-service/src/config/app-config';
import { APP_CONFIG } from '../apps/timeline-service/src/config/app-config.module';
import { SERVICE_MAIN } from './support/service-process';
import { startService } from './support/service';
import { spawnTs } from './support/ts-child';

jest.setTimeout(60_000);

describe('inside the app', () => {
  it('the app reaches its configuration one way: the AppConfig, as APP_CONFIG, built from the environment it was given', async () => {
    const s = await startService({ READY_MAX_LAG: '7', LOG_LEVEL: 'warn' });
    try {
      const config = s.app.get<AppConfig>(APP_CONFIG);
      expect(config.readyMaxLag).toBe(7);
      expect(config.logLevel).toBe('warn');
      // Nothing inside the app reads process.env: the AppConfig holds only what the Environment schema read.
      expect(config).not.toHaveProperty('PATH');
      // @nestjs/config's ConfigService was a second way to the same values; it is gone, with the package.
      const manifest = JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8')) as { dependencies: Record<string, string> };
      expect(manifest.dependencies).not.toHaveProperty('@nestjs/config');
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
