import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBrowserModules, SOCKET_IO_ESM, writeBrowserModules } from '../build-browser';

// The live page loads the browser copy that `npm run build` writes (test/acceptance/live-client-build
// checks the built artifact's); here, what the builder makes of libs/client/src.
describe('the browser copy of the client served to the live page', () => {
  const built = buildBrowserModules();

  it('is written by the build as one module per source file, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'browser-client-'));
    try {
      writeBrowserModules(dir);
      const onDisk = new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
      const sources = readdirSync(join(__dirname)).filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'));
      expect([...onDisk.keys()].sort()).toEqual(sources.map((name) => name.replace(/\.ts$/, '.js')).sort());
      for (const [name, text] of built) expect({ name, text: onDisk.get(name) }).toEqual({ name, text });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('imports only its own files and the ESM build of socket.io-client that the server serves', () => {
    const specifiers = [...built.values()].flatMap((text) => [...text.matchAll(/^(?:import|export)\b[^'"\n]*\bfrom\s+['"]([^'"]+)['"];$/gm)].map((m) => m[1]));
    expect(specifiers.length).toBeGreaterThan(0);
    for (const specifier of specifiers) expect(specifier).toMatch(new RegExp(`^(\\./[\\w-]+\\.js|${SOCKET_IO_ESM.replace(/[./]/g, '\\$&')})$`));
    expect(built.get('live-client.js')).toContain(`from '${SOCKET_IO_ESM}'`);
  });
});
