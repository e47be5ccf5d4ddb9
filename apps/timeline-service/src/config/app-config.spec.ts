import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyRegistry } from '../auth/api-keys';
import { InvalidConfigError, loadConfig } from './app-config';

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
