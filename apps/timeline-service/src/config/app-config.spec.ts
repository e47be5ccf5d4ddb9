import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyRegistry } from '../auth/api-keys';
import { InvalidConfigError, loadConfig, validateEnvironment } from './app-config';

const message = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
};

describe('configuration', () => {
  it('refuses production without API keys', () => {
    expect(message({ NODE_ENV: 'production' })).toMatch(/NODE_ENV=production needs API_KEYS/);
  });

  it('names the variable and the entry of a malformed key list', () => {
    expect(message({ API_KEYS: 'jane:owner:0123456789abcdef0' })).toMatch(/API_KEYS entry 1 \(jane\): the role must be one of reader, editor, auditor/);
    expect(message({ API_KEYS: 'jane:editor:short' })).toMatch(/at least 16 characters/);
    expect(message({ API_KEYS: 'a:reader:0123456789abcdef,a:editor:0123456789abcdeg' })).toMatch(/'a' is used twice/);
    expect(message({ PORT: 'eighty' })).toMatch(/PORT/);
    expect(message({ CORS_ORIGINS: 'newsroom' })).toMatch(/CORS_ORIGINS/);
    // Each would change or end the frame-ancestors directive it is written into.
    for (const bad of ['news.example', 'https://news.example/article', "https://a.example; script-src 'unsafe-inline'", "'none'", 'https://a.example https://b.example']) {
      expect(message({ EMBED_ORIGINS: bad })).toMatch(/EMBED_ORIGINS must be \* or a comma-separated list of origins/);
    }
  });

  it('reads EMBED_ORIGINS as * or a list of origins, none when unset', () => {
    expect(loadConfig({}).embedOrigins).toEqual([]);
    expect(loadConfig({ EMBED_ORIGINS: '*' }).embedOrigins).toBe('*');
    expect(loadConfig({ EMBED_ORIGINS: 'https://news.example,http://localhost:8080,https://*.cms.example' }).embedOrigins).toEqual([
      'https://news.example',
      'http://localhost:8080',
      'https://*.cms.example',
    ]);
  });

  it('reads keys from API_KEYS_FILE, one per line, with comments', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys');
    writeFileSync(file, '# newsroom keys\njane:editor:0123456789abcdef0\n\ndesk:reader:fedcba98765432100\n');
    const config = loadConfig({ API_KEYS_FILE: file, NODE_ENV: 'production' });
    expect(config.apiKeys.map((k) => [k.name, k.role])).toEqual([
      ['jane', 'editor'],
      ['desk', 'reader'],
    ]);
  });
});

describe('ApiKeyRegistry', () => {
  const registry = new ApiKeyRegistry([
    { name: 'jane', role: 'editor', key: '0123456789abcdef0' },
    { name: 'desk', role: 'reader', key: 'fedcba98765432100' },
  ]);

  it('finds the key a token belongs to, and nothing for anything else', () => {
    expect(registry.identify('fedcba98765432100')).toEqual({ name: 'desk', role: 'reader' });
    expect(registry.identify('0123456789abcdef0')).toEqual({ name: 'jane', role: 'editor' });
    for (const token of ['', '0123456789abcdef', '0123456789abcdef00', 'FEDCBA98765432100']) expect(registry.identify(token)).toBeNull();
    expect(registry.open).toBe(false);
    expect(new ApiKeyRegistry([]).open).toBe(true);
  });
});

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

  it('PUBLIC_BASE_URL: the feeds\' links; none by default (taken from each request), a trailing slash dropped', () => {
    expect(loadConfig({}).publicBaseUrl).toBeNull();
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://news.example/timelines/' }).publicBaseUrl).toBe('https://news.example/timelines');
    expect(message({ PUBLIC_BASE_URL: 'news.example' })).toMatch(/PUBLIC_BASE_URL must be an http or https URL/);
    expect(message({ PUBLIC_BASE_URL: 'https://news.example/?a=1' })).toMatch(/PUBLIC_BASE_URL/);
  });

  it('refuses a wrong value naming the variable', () => {
    expect(message({ LOG_LEVEL: 'verbose' })).toMatch(/LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(message({ LOG_LEVEL: 'INFO' })).toMatch(/LOG_LEVEL/);
    expect(message({ LOG_FORMAT: 'text' })).toMatch(/LOG_FORMAT must be one of json, pretty/);
    expect(message({ METRICS_PUBLIC: 'yes' })).toMatch(/METRICS_PUBLIC/);
    expect(message({ READY_MAX_LAG: '-1' })).toMatch(/READY_MAX_LAG/);
    expect(message({ READY_MAX_LAG: 'many' })).toMatch(/READY_MAX_LAG/);
    expect(message({ PORT: '70000' })).toMatch(/PORT/);
    expect(message({ EVENTSTORE_CONNECTION_STRING: 'postgres://db' })).toMatch(/EVENTSTORE_CONNECTION_STRING must look like kurrentdb:\/\/host:2113\?tls=false/);
  });

  it('names every variable at fault at once, and ignores variables it does not read', () => {
    const refused = message({ PORT: 'eighty', LOG_LEVEL: 'loud', SOMETHING_ELSE: '!!' });
    expect(refused).toMatch(/PORT/);
    expect(refused).toMatch(/LOG_LEVEL/);
    expect(refused).not.toMatch(/SOMETHING_ELSE/);
  });

  it('validateEnvironment (the first step of loadConfig) converts what it checks', () => {
    expect(validateEnvironment({ PORT: '8080', PUBLIC_READS: 'false', READY_MAX_LAG: '5', HOME: '/root' })).toMatchObject({ PORT: 8080, PUBLIC_READS: false, READY_MAX_LAG: 5 });
    expect(() => validateEnvironment({ LOG_LEVEL: 'chatty' })).toThrow(InvalidConfigError);
  });
});
